package engine

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLayout: the data directory and backend file of a stack never fall
// inside another stack's data directory, the root stack's included.
func TestLayout(t *testing.T) {
	t.Parallel()
	l := Layout{Dir: "/w/pr-1"}
	got := map[string][]string{}
	for _, p := range []string{"/", "/a", "/a/modules", "/plans"} {
		got[p] = []string{l.DataDir(p), l.BackendFile(p), l.PlanFile(p), l.LogFile(p)}
	}
	want := map[string][]string{
		"/":          {"/w/pr-1/.terraform", "/w/pr-1/.tmci.tfbackend", "/w/pr-1/plans/.root.tfplan", "/w/pr-1/logs/.root.log"},
		"/a":         {"/w/pr-1/a/.terraform", "/w/pr-1/a/.tmci.tfbackend", "/w/pr-1/plans/a.tfplan", "/w/pr-1/logs/a.log"},
		"/a/modules": {"/w/pr-1/a/modules/.terraform", "/w/pr-1/a/modules/.tmci.tfbackend", "/w/pr-1/plans/a/modules.tfplan", "/w/pr-1/logs/a/modules.log"},
		"/plans":     {"/w/pr-1/plans/.terraform", "/w/pr-1/plans/.tmci.tfbackend", "/w/pr-1/plans/plans.tfplan", "/w/pr-1/logs/plans.log"},
	}
	for _, paths := range want {
		for i := range paths {
			paths[i] = filepath.FromSlash(paths[i])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}

// TestLayoutNoCollision: whatever the stack paths, no file of a run (a
// stack's backend file, plan, log, a report) is another file or lies on
// the way to one, and no stack's data directory is another's. Every path
// of up to three components drawn from names that mimic tmci's own is
// checked at once.
func TestLayoutNoCollision(t *testing.T) {
	t.Parallel()
	l := Layout{Dir: "/w/e"}
	names := []string{"a", "a.log", "a.log_", "logs", "plans", "report.json", "report.json_", "x.tfplan", "x.tfplan_"}
	paths := []string{"/"}
	level := []string{""}
	for range 3 {
		var next []string
		for _, p := range level {
			for _, n := range names {
				next = append(next, p+"/"+n)
			}
		}
		paths = append(paths, next...)
		level = next
	}
	files := map[string]string{} // file -> what it is
	for _, name := range []string{"report.json", "summary.md", "comment.md", "gitlab-terraform.json", "junit.xml", "drift.md", ".lock", MarkerName} {
		files[filepath.Join(l.Dir, name)] = "report " + name
	}
	dataDirs := map[string]string{}
	for _, p := range paths {
		for what, f := range map[string]string{"backend file": l.BackendFile(p), "plan": l.PlanFile(p), "log": l.LogFile(p)} {
			if prev, dup := files[f]; dup {
				t.Fatalf("%s of %s is %s", what, p, prev)
			}
			files[f] = what + " of " + p
		}
		if prev, dup := dataDirs[l.DataDir(p)]; dup {
			t.Fatalf("data directory of %s is that of %s", p, prev)
		}
		dataDirs[l.DataDir(p)] = p
	}
	for f, what := range files {
		for d := filepath.Dir(f); d != l.Dir && len(d) > len(l.Dir); d = filepath.Dir(d) {
			if other, ok := files[d]; ok {
				t.Fatalf("%s (%s) lies inside %s (%s)", f, what, d, other)
			}
		}
	}
	for d, p := range dataDirs {
		if other, ok := files[d]; ok {
			t.Fatalf("data directory of %s is %s", p, other)
		}
		for f, what := range files {
			if strings.HasPrefix(f, d+string(filepath.Separator)) {
				t.Fatalf("%s (%s) lies inside the data directory of %s", f, what, p)
			}
		}
	}
}
