package matrix

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A fully connected project is one component (one job), but its waves
// spread over runners: /a; then /b and /c (both after /a only); then /d.
func TestWaveMatrices(t *testing.T) {
	g := RunGraph{
		Order: []string{"/a", "/b", "/c", "/e", "/d"},
		Preds: map[string][]string{"/b": {"/a"}, "/c": {"/a"}, "/e": {"/a"}, "/d": {"/b", "/c"}},
		// /e wants /c, so /e's job (which runs /c too) waits for /c's.
		Links: [][2]string{{"/e", "/c"}},
	}
	if n := len(g.Components()); n != 1 {
		t.Fatalf("%d components, want the fully connected graph as 1", n)
	}
	got := WaveMatrices(g, 8)
	want := []Matrix{
		{Include: []MatrixEntry{{Name: "/a", Wave: 1, Stacks: "/a"}}},
		{Include: []MatrixEntry{{Name: "/b", Wave: 2, Stacks: "/b"}, {Name: "/c", Wave: 2, Stacks: "/c"}}},
		{Include: []MatrixEntry{{Name: "/e", Wave: 3, Stacks: "/e"}, {Name: "/d", Wave: 3, Stacks: "/d"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waves (-want +got):\n%s", diff)
	}
	// --max-jobs packs within each wave.
	if got := WaveMatrices(g, 1); len(got[1].Include) != 1 || got[1].Include[0].Stacks != "/b\n/c" {
		t.Errorf("wave 2 packed into one job: %+v", got[1].Include)
	}
	out := WaveOutputs(got)
	for _, w := range []string{"waves=3\n", "jobs_1=1\n", "jobs_2=2\n", "jobs_3=2\n", "jobs=5\n", `wave_1={"include":[{"name":"/a","wave":1,"stacks":"/a"}]}` + "\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("outputs lack %q:\n%s", w, out)
		}
	}
	if got := WaveMatrices(RunGraph{}, 8); len(got) != 0 {
		t.Errorf("an empty selection has %d waves", len(got))
	}
}
