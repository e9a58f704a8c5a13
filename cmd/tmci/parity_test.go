package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/parity"
	"github.com/tmci/tmci/internal/testenv"
)

// TestTerramateParity replays Terramate 0.17.2's recorded answers: every
// testdata/repos/parity-*.txtar holds a repository and, in its "want ..."
// sections, what Terramate printed for each query (bench/parity recorded
// them; see bench/README.md). tmci must print the same, so a fixed
// disagreement stays fixed without Terramate in CI.
func TestTerramateParity(t *testing.T) {
	files, err := filepath.Glob("../../testdata/repos/parity-*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/repos/parity-*.txtar fixtures")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			repo, queries, answers, err := parity.ReadFixture(file)
			if err != nil {
				t.Fatal(err)
			}
			if len(queries) == 0 {
				t.Fatal("no recorded answers")
			}
			top := t.TempDir()
			if err := fixture.BuildArchive(repo, top); err != nil {
				t.Fatal(err)
			}
			branch := testenv.Git(t, top, "symbolic-ref", "--short", "HEAD")
			for i, q := range queries {
				if q.Branch != branch {
					for _, args := range [][]string{{"checkout", "-qf", q.Branch}, {"clean", "-qfdx"}} {
						testenv.Git(t, top, args...)
					}
					branch = q.Branch
				}
				if diff := cmp.Diff(answers[i], parityAnswer(t, top, q)); diff != "" {
					t.Errorf("%s (-terramate +tmci):\n%s", q.Section(), diff)
				}
			}
		})
	}
}

// parityAnswer asks tmci a query as bench/parity does: stdout for list,
// the directories the command ran in for run, "ERROR" on failure.
func parityAnswer(t *testing.T, top string, q parity.Query) string {
	t.Helper()
	env := map[string]string{"PATH": os.Getenv("PATH")}
	args := []string{"-C", filepath.Join(top, q.Dir)}
	out := filepath.Join(t.TempDir(), "ran.txt")
	if q.IsRun() {
		t.Setenv("PARITY_OUT", out) // the command's environment is the process's
		args = append(args, "run", "--parallel=1", "--log-mode=quiet", "--work-dir="+t.TempDir())
		args = append(args, q.Args[1:]...)
		args = append(args, "--", "sh", "-c", parity.RunScript)
	} else {
		args = append(args, q.Args...)
	}
	code, stdout, _ := tmciCode(t.Context(), env, args...)
	if code != 0 {
		return "ERROR\n"
	}
	if !q.IsRun() {
		return stdout
	}
	printed, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return parity.RunAnswer(top, string(printed))
}
