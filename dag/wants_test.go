package dag

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWantsPairs(t *testing.T) {
	x, _ := NewIndex([]Stack{
		{Path: "/a", Wants: Refs{List: []string{"/b"}}},
		{Path: "/b"},
		{Path: "/c", WantedBy: Refs{List: []string{"/a"}}},
		{Path: "/d"},
	})
	want := [][2]string{{"/a", "/b"}, {"/a", "/c"}}
	if diff := cmp.Diff(want, x.WantsPairs()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
