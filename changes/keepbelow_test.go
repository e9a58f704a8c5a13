package changes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeepBelow(t *testing.T) {
	r := &Result{
		Deleted: []Deleted{{Path: "/apps/a"}, {Path: "/net/b"}, {Path: "/apps-old/c"}},
		Moved: []Moved{
			{From: "/apps/x", To: "/other/x"}, // left the directory
			{From: "/other/y", To: "/apps/y"}, // reached it
			{From: "/net/z", To: "/net/zz"},   // elsewhere
		},
	}
	r.KeepBelow("/apps")
	want := &Result{
		Deleted: []Deleted{{Path: "/apps/a"}},
		Moved:   []Moved{{From: "/apps/x", To: "/other/x"}, {From: "/other/y", To: "/apps/y"}},
	}
	if d := cmp.Diff(want, r); d != "" {
		t.Fatalf("KeepBelow(/apps) (-want +got):\n%s", d)
	}
	all := &Result{Deleted: []Deleted{{Path: "/net/b"}}, Moved: []Moved{{From: "/net/z", To: "/q"}}}
	r2 := *all
	r2.KeepBelow("/")
	if d := cmp.Diff(all, &r2); d != "" {
		t.Fatalf("KeepBelow(/) dropped something (-want +got):\n%s", d)
	}
}
