package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/report"
)

// typo is the problem the tests give an invalid stack.
var typo = []report.Diagnostic{{Severity: "error", Summary: "Invalid expression",
	Detail: "Expected the start of an expression.", File: "a/main.tf", Line: 5, Column: 11}}

// TestExecuteInvalid: a stack with invalid code fails with its problem
// in its error, log and report without running anything; its dependent
// is skipped naming it and the place; the independent stack runs.
func TestExecuteInvalid(t *testing.T) {
	t.Parallel()
	r := execRun(t, `touch ran`)
	r.Invalid = map[string][]report.Diagnostic{"/a": typo}
	rep := executeWant(t, r, map[string]string{"/a": report.StatusFailed, "/b": report.StatusSkipped, "/c": report.StatusSucceeded})
	if rep.ExitCode != ExitFailure {
		t.Errorf("exit %d, want %d", rep.ExitCode, ExitFailure)
	}
	for _, stack := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(r.Project.Root, stack, "ran")); !os.IsNotExist(err) {
			t.Errorf("the command ran in /%s: %v", stack, err)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Project.Root, "c", "ran")); err != nil {
		t.Errorf("independent /c did not run: %v", err)
	}
	wantErr := "a/main.tf:5:11: Invalid expression\n    Expected the start of an expression."
	for _, s := range rep.Stacks {
		switch s.Path {
		case "/a":
			if s.Error != wantErr || s.LogTail != "" {
				t.Errorf("/a: error %q, log tail %q; want error %q and no tail", s.Error, s.LogTail, wantErr)
			}
			if diff := cmp.Diff(typo, s.Diagnostics); diff != "" {
				t.Errorf("/a diagnostics (-want +got):\n%s", diff)
			}
			log, err := os.ReadFile(filepath.Join(r.Project.Root, s.Log))
			if err != nil || !strings.Contains(string(log), wantErr) {
				t.Errorf("/a log = %q, %v; want the diagnostic", log, err)
			}
		case "/b":
			if want := "skipped: /a failed; /a: a/main.tf:5:11: Invalid expression"; s.Error != want {
				t.Errorf("/b error %q, want %q", s.Error, want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(r.Layout.Dir, "codequality.json")); err != nil {
		t.Errorf("no code quality report: %v", err)
	}
}

// TestExecuteInvalidAfterFailure: an invalid stack fails with its own
// problem even when the stack it runs after fails too; it does not wait
// to be skipped.
func TestExecuteInvalidAfterFailure(t *testing.T) {
	t.Parallel()
	r := execRun(t, `test "$TMCI_STACK_PATH" != /a`)
	r.Invalid = map[string][]report.Diagnostic{"/b": typo}
	rep := executeWant(t, r, map[string]string{"/a": report.StatusFailed, "/b": report.StatusFailed, "/c": report.StatusSucceeded})
	for _, s := range rep.Stacks {
		if s.Path == "/b" && (len(s.Diagnostics) != 1 || !strings.HasPrefix(s.Error, "a/main.tf:5:11: Invalid expression")) {
			t.Errorf("/b: error %q diagnostics %v", s.Error, s.Diagnostics)
		}
		if s.Path == "/b" && !cmp.Equal(s.DependsOn, []string{"/a"}) {
			t.Errorf("/b depends on %v in the report, want [/a]", s.DependsOn)
		}
	}
}

// TestRootInRepo: the project root's place in its repository, for CI
// systems that name files from the top level.
func TestRootInRepo(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", top).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	infra := filepath.Join(top, "infra", "live")
	if err := os.MkdirAll(infra, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	for dir, want := range map[string]string{top: "", infra: "infra/live", outside: ""} {
		if got := rootInRepo(dir); got != want {
			t.Errorf("rootInRepo(%s) = %q, want %q", dir, got, want)
		}
	}
}
