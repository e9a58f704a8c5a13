package matrix

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestComponentsAndPack(t *testing.T) {
	// a -> b -> c ; d -> e ; f ; g wants h (no order) ; i
	g := RunGraph{
		Order: []string{"/a", "/d", "/f", "/g", "/h", "/i", "/b", "/e", "/c"},
		Preds: map[string][]string{"/b": {"/a"}, "/c": {"/b"}, "/e": {"/d"}},
		Links: [][2]string{{"/g", "/h"}, {"/g", "/unselected"}},
	}
	comps := g.Components()
	want := [][]string{{"/a", "/b", "/c"}, {"/d", "/e"}, {"/g", "/h"}, {"/f"}, {"/i"}}
	if diff := cmp.Diff(want, comps); diff != "" {
		t.Fatalf("components (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		max  int
		want [][]string
	}{
		{0, want},
		{10, want},
		{1, [][]string{{"/a", "/d", "/f", "/g", "/h", "/i", "/b", "/e", "/c"}}},
		// largest first into the smallest job: abc | de, gh... -> de+f? no:
		// job0=abc(3), job1=de(2) -> gh to job1 (4), f to job0 (4), i to job0 (5)
		{2, [][]string{{"/a", "/f", "/i", "/b", "/c"}, {"/d", "/g", "/h", "/e"}}},
	} {
		got := Pack(comps, g.Order, tc.max)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Pack max %d (-want +got):\n%s", tc.max, diff)
		}
	}
	m := GitHubMatrix(Pack(comps, g.Order, 2))
	if diff := cmp.Diff(MatrixEntry{Name: "/a +4", Stacks: "/a\n/f\n/i\n/b\n/c"}, m.Include[0]); diff != "" {
		t.Errorf("matrix entry (-want +got):\n%s", diff)
	}
	if got := Outputs(GitHubMatrix(nil)); !strings.Contains(got, "matrix={\"include\":[]}\n") || !strings.Contains(got, "jobs=0\n") {
		t.Errorf("empty matrix outputs:\n%s", got)
	}
}

// gitlabJob is the part of a generated job the tests read.
type gitlabJob struct {
	Stage     string            `yaml:"stage"`
	Needs     []string          `yaml:"needs"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
}

func parsePipeline(t *testing.T, data []byte) (stages []string, jobs map[string]gitlabJob, hasNeeds map[string]bool) {
	t.Helper()
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("pipeline is not YAML: %v\n%s", err, data)
	}
	jobs, hasNeeds = map[string]gitlabJob{}, map[string]bool{}
	for k, n := range raw {
		if k == "stages" {
			if err := n.Decode(&stages); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if k == "default" || k == "variables" || k == "include" || strings.HasPrefix(k, ".") {
			continue
		}
		var j gitlabJob
		if err := n.Decode(&j); err != nil {
			t.Fatal(err)
		}
		var keys map[string]any
		n.Decode(&keys)
		_, hasNeeds[k] = keys["needs"]
		jobs[k] = j
	}
	return stages, jobs, hasNeeds
}

func TestGitLabPipeline(t *testing.T) {
	g := RunGraph{
		Order: []string{"/a", "/d", "/b", "/c"},
		Preds: map[string][]string{"/b": {"/a"}, "/c": {"/a", "/b"}},
	}
	out := GitLabPipeline(g, ChildPipeline{Prelude: "default:\n  before_script: [\"true\"]\n", Script: `tmci plan --env=prod --stack="$TMCI_STACK"`})
	want, err := os.ReadFile(filepath.Join("testdata", "child-pipeline.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(out)); diff != "" {
		t.Errorf("child-pipeline.yml (-want +got):\n%s", diff)
	}
	stages, jobs, _ := parsePipeline(t, out)
	if diff := cmp.Diff([]string{"wave-1", "wave-2", "wave-3"}, stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stack /a", "stack /b"}, jobs["stack /c"].Needs); diff != "" {
		t.Errorf("needs of /c (-want +got):\n%s", diff)
	}

	// /d wants /a: /d's job also runs /a, so it waits for /a's job.
	g.Links = [][2]string{{"/d", "/a"}}
	_, jobs, _ = parsePipeline(t, GitLabPipeline(g, ChildPipeline{Script: "x"}))
	if diff := cmp.Diff([]string{"stack /a"}, jobs["stack /d"].Needs); diff != "" {
		t.Errorf("needs of /d, which wants /a (-want +got):\n%s", diff)
	}
	if jobs["stack /d"].Stage != "wave-2" {
		t.Errorf("/d is in %s, want wave-2 after /a", jobs["stack /d"].Stage)
	}

	empty := GitLabPipeline(RunGraph{}, ChildPipeline{Script: "x"})
	if _, jobs, _ := parsePipeline(t, empty); len(jobs) != 1 {
		t.Errorf("an empty pipeline has %d jobs, want the one saying so:\n%s", len(jobs), empty)
	}
}

func TestGitLabPipelineManyNeeds(t *testing.T) {
	// 60 roots all before /z, and /y after only 50 of them.
	g := RunGraph{Preds: map[string][]string{}}
	for i := range 60 {
		g.Order = append(g.Order, fmt.Sprintf("/r%02d", i))
	}
	g.Order = append(g.Order, "/y", "/z")
	g.Preds["/z"] = append([]string(nil), g.Order[:60]...)
	g.Preds["/y"] = append([]string(nil), g.Order[:50]...)
	_, jobs, hasNeeds := parsePipeline(t, GitLabPipeline(g, ChildPipeline{Script: "x"}))
	if hasNeeds["stack /z"] {
		t.Error("/z needs 60 jobs: it must wait by stage, without needs")
	}
	if len(jobs["stack /y"].Needs) != 50 {
		t.Errorf("/y needs %d jobs, want its 50", len(jobs["stack /y"].Needs))
	}
	if jobs["stack /z"].Stage != "wave-2" || jobs["stack /r00"].Stage != "wave-1" {
		t.Errorf("stages: /z %s, /r00 %s", jobs["stack /z"].Stage, jobs["stack /r00"].Stage)
	}
}
