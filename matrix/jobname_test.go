package matrix

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// GitLab refuses job names over 255 characters (a 344-character stack
// path crashed gitlab-ci-local): long names are cut, stay unique, and
// needs: name the cut jobs.
func TestGitLabJobNamesCut(t *testing.T) {
	long := "/" + strings.Repeat("deep/", 68) // 341 bytes
	uni := "/" + strings.Repeat("ü", 200)     // 2-byte characters across the cut
	exact := "/" + strings.Repeat("x", 248)   // "stack " + 249 = 255: kept whole
	g := RunGraph{
		Order: []string{long + "a", long + "b", uni, exact, "/after"},
		Preds: map[string][]string{"/after": {long + "a", long + "b", uni, exact}},
	}
	out := GitLabPipeline(g, ChildPipeline{Script: "x", Reports: map[string]string{"junit": ".tmci/prod/junit.xml", "terraform": ".tmci/prod/gitlab-terraform.json"}})
	_, jobs, _ := parsePipeline(t, out)
	if len(jobs) != len(g.Order) {
		t.Fatalf("%d jobs for %d stacks: names collided\n%s", len(jobs), len(g.Order), out)
	}
	byStack := map[string]string{}
	for name, j := range jobs {
		if utf8.RuneCountInString(name) > 255 || !utf8.ValidString(name) {
			t.Errorf("job name of %d characters (valid UTF-8: %v): %q", utf8.RuneCountInString(name), utf8.ValidString(name), name)
		}
		byStack[j.Variables["TMCI_STACK"]] = name
	}
	if byStack[exact] != "stack "+exact {
		t.Errorf("a 255-character name was changed: %q", byStack[exact])
	}
	for _, s := range []string{long + "a", long + "b", uni} {
		if n := byStack[s]; !strings.HasPrefix(n, "stack /") || !strings.Contains(n, " ~") {
			t.Errorf("stack %.20s…: job %q", s, n)
		}
	}
	// needs: refer to the jobs as named.
	for _, n := range jobs["stack /after"].Needs {
		if _, ok := jobs[n]; !ok {
			t.Errorf("needs %q, which is no job", n)
		}
	}
	// The reports are declared for every job (the template they extend).
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Artifacts struct {
			Reports map[string]string `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	node := raw[".tmci-stack"]
	if err := node.Decode(&tmpl); err != nil {
		t.Fatal(err)
	}
	if r := tmpl.Artifacts.Reports; r["junit"] != ".tmci/prod/junit.xml" || r["terraform"] != ".tmci/prod/gitlab-terraform.json" {
		t.Errorf("artifacts:reports of the job template: %v", r)
	}
}
