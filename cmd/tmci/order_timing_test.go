package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/testenv"
)

// timedTool writes a wrapper around the real binary bin that appends
// "start NANOS" and "end NANOS" to dir/<stack directory name> around each
// command, and returns its path. The times are the wall clock of the
// terraform processes themselves, not anything tmci reports.
func timedTool(t *testing.T, bin, dir string) string {
	t.Helper()
	if out, err := exec.Command("date", "+%N").Output(); err != nil || strings.Trim(string(out), "0123456789\n") != "" {
		testenv.Missing(t, "date +%%N does not print nanoseconds (%q, %v): these timings need GNU date", out, err)
	}
	wrapper := filepath.Join(t.TempDir(), "timed-terraform")
	script := fmt.Sprintf(`#!/bin/sh
f=%q/$(basename "$PWD")
echo "start $(date +%%s%%N)" >>"$f"
%q "$@"
rc=$?
echo "end $(date +%%s%%N)" >>"$f"
exit $rc
`, dir, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper
}

// span is when a stack's first command started and its last one ended.
type span struct{ start, end int64 }

// spans reads what timedTool recorded in dir, one span per stack.
func spans(t *testing.T, dir string) map[string]span {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]span{}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := span{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			kind, v, _ := strings.Cut(sc.Text(), " ")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", e.Name(), sc.Text(), err)
			}
			switch {
			case kind == "start" && (s.start == 0 || n < s.start):
				s.start = n
			case kind == "end" && n > s.end:
				s.end = n
			}
		}
		f.Close()
		if s.start == 0 || s.end < s.start {
			t.Fatalf("%s: no complete command recorded", e.Name())
		}
		out[e.Name()] = s
	}
	return out
}

// TestDestroyOrderByTimestamps: destroy tears a stack down only after
// every stack that runs after it has finished, checked per edge on the
// real start and end times of terraform processes with --parallel high
// enough to run everything at once. It also checks the apply order, the
// other direction of the same edges.
func TestDestroyOrderByTimestamps(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root, times := t.TempDir(), t.TempDir()
	// b and d run after a, c after b; e has no edge.
	files := map[string]string{"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n"}
	after := map[string]string{"a": "", "b": "a", "c": "b", "d": "a", "e": ""}
	for s, dep := range after {
		stack := "stack {}\n"
		if dep != "" {
			stack = fmt.Sprintf("stack {\n  after = [\"/%s\"]\n}\n", dep)
		}
		files[s+"/stack.tm"] = stack
		files[s+"/main.tf"] = fmt.Sprintf("resource \"terraform_data\" \"x\" {\n  input = %q\n}\n", s)
	}
	writeTree(t, root, files)
	env := runEnv(t, timedTool(t, bin, times), nil)
	check := func(verb string, first func(s, dep string) (string, string)) {
		t.Helper()
		got := spans(t, times)
		if len(got) != len(after) {
			t.Fatalf("%s: times recorded for %d stacks, want %d", verb, len(got), len(after))
		}
		for s, dep := range after {
			if dep == "" {
				continue
			}
			x, y := first(s, dep)
			if got[x].end > got[y].start {
				t.Errorf("%s: /%s started %v before /%s ended", verb, y, timeDiff(got[x].end-got[y].start), x)
			}
		}
	}
	tmciWant(t, 0, env, "-C", root, "apply", "--parallel=5", "--log-mode=quiet")
	check("apply", func(s, dep string) (string, string) { return dep, s })
	if err := os.RemoveAll(times); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(times, 0o755); err != nil {
		t.Fatal(err)
	}
	tmciWant(t, 0, env, "-C", root, "destroy", "--yes", "--parallel=5", "--log-mode=quiet")
	check("destroy", func(s, dep string) (string, string) { return s, dep })
}

func timeDiff(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 1, 64) + " ms" }

// TestPlanDetailedExitCodeFailureWins: with --detailed-exitcode, a
// failed stack makes the exit status 1 even when other stacks have
// changes (1 wins over 2), in the exit status and in report.json.
func TestPlanDetailedExitCodeFailureWins(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
		"good/stack.tm":    "stack {}\n",
		"good/main.tf":     "resource \"terraform_data\" \"x\" {\n  input = \"good\"\n}\n",
		"bad/stack.tm":     "stack {}\n",
		"bad/main.tf":      "resource \"terraform_data\" \"x\" {\n  input = var.undeclared\n}\n",
	})
	env := runEnv(t, bin, nil)
	code, stdout, stderr := tmciCode(t.Context(), env, "-C", root, "plan", "--detailed-exitcode", "--parallel=2", "--log-mode=quiet")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a stack failed, another has changes)\n%s%s", code, stdout, stderr)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "default", "report.json"))
	if rep.ExitCode != 1 || statuses(rep)["/bad"] != "failed" || statuses(rep)["/good"] != "succeeded" || rep.Totals.Create != 1 {
		t.Errorf("report: exit %d, statuses %v, totals %+v; want 1, /bad failed, /good succeeded with 1 to create", rep.ExitCode, statuses(rep), rep.Totals)
	}
	// Without the failure the same run exits 2.
	if err := os.RemoveAll(filepath.Join(root, "bad")); err != nil {
		t.Fatal(err)
	}
	tmciWant(t, 2, env, "-C", root, "plan", "--detailed-exitcode", "--log-mode=quiet")
}
