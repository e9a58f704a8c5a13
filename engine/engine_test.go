package engine

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// These tests run the engine without the CLI: a run description built
// by hand, real processes (sh) in real stack directories, and the report
// and files it leaves.

// loadProject writes the txtar files src into a new directory and loads
// the project there.
func loadProject(t *testing.T, src string) *project.Project {
	t.Helper()
	root := t.TempDir()
	if err := fixture.WriteFiles(root, txtar.Parse([]byte(src))); err != nil {
		t.Fatal(err)
	}
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// execRun describes `tmci run -- sh -c script` over a project of three
// stacks, /b after /a and /c on its own.
func execRun(t *testing.T, script string) *Run {
	t.Helper()
	p := loadProject(t, `
-- a/stack.tm --
stack {}
-- b/stack.tm --
stack {
  after = ["/a"]
}
-- c/stack.tm --
stack {}
`)
	env := Environment{Name: "pr-1"}
	return &Run{
		Verb:    Exec,
		Project: p,
		Env:     env,
		Layout:  NewLayout(p, p.Root, "", env),
		Deps: scheduler.Deps{
			Order: []string{"/a", "/c", "/b"},
			After: map[string][]string{"/b": {"/a"}},
		},
		RunEnv:   map[string][]string{"/c": {"FROM_RUN_ENV=yes"}},
		Runner:   &tf.Runner{Env: os.Environ()},
		Extra:    []string{"sh", "-c", script},
		Parallel: 2,
		LockWait: time.Second,
		Version:  "test",
		Console:  scheduler.NewConsole(io.Discard, scheduler.Quiet),
		Note:     io.Discard,
		Getenv:   func(string) string { return "" },
	}
}

func statusesOf(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, s := range rep.Stacks {
		out[s.Path] = s.Status
	}
	return out
}

// executeWant executes r and checks each stack's status against want.
func executeWant(t *testing.T, r *Run, want map[string]string) *report.Report {
	t.Helper()
	rep, err := Execute(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, statusesOf(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	return rep
}

// TestExecute: a failing stack fails the run (exit 1) and skips its
// dependent; the independent stack runs with the run's environment
// variables; every stack that ran has a log; report.json on disk is the
// returned report.
func TestExecute(t *testing.T) {
	t.Parallel()
	r := execRun(t, `echo "$TMCI_ENV $TMCI_STACK_PATH ${FROM_RUN_ENV:-}" > out.txt; echo "ran $TMCI_STACK_PATH"; test "$TMCI_STACK_PATH" != /a`)
	rep := executeWant(t, r, map[string]string{"/a": report.StatusFailed, "/b": report.StatusSkipped, "/c": report.StatusSucceeded})
	if rep.ExitCode != ExitFailure || rep.Command != "run" || rep.Environment != "pr-1" {
		t.Errorf("report: exit %d command %q env %q", rep.ExitCode, rep.Command, rep.Environment)
	}
	for _, s := range rep.Stacks {
		if s.Path == "/b" && s.Error != "skipped: /a failed" {
			t.Errorf("/b error %q", s.Error)
		}
		if s.Path == "/a" && !strings.Contains(s.LogTail, "ran /a") {
			t.Errorf("/a log tail %q lacks the stack's output", s.LogTail)
		}
	}
	for stack, text := range map[string]string{"a": "pr-1 /a \n", "c": "pr-1 /c yes\n"} {
		got, err := os.ReadFile(filepath.Join(r.Project.Root, stack, "out.txt"))
		if err != nil || string(got) != text {
			t.Errorf("%s/out.txt = %q, %v; want %q", stack, got, err, text)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Project.Root, "b", "out.txt")); !os.IsNotExist(err) {
		t.Errorf("skipped stack /b ran: %v", err)
	}
	if log, err := os.ReadFile(r.Layout.LogFile("/c")); err != nil || !strings.Contains(string(log), "ran /c") {
		t.Errorf("log of /c = %q, %v", log, err)
	}
	data, err := os.ReadFile(r.Layout.Report())
	if err != nil {
		t.Fatal(err)
	}
	var onDisk report.Report
	if err := json.Unmarshal(data, &onDisk); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(statusesOf(rep), statusesOf(&onDisk)); diff != "" || onDisk.ExitCode != rep.ExitCode {
		t.Errorf("report.json differs from the returned report (exit %d):\n%s", onDisk.ExitCode, diff)
	}
}

// TestExecuteLocked: a run does not start while another holds the work
// directory; it names the holder once the wait is over.
func TestExecuteLocked(t *testing.T) {
	t.Parallel()
	r := execRun(t, "touch ran")
	if err := r.claimWorkDir(t.Context()); err != nil {
		t.Fatal(err)
	}
	release, err := lockWorkDir(t.Context(), r.Layout.Dir, "tmci plan", 0, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	r.LockWait = 300 * time.Millisecond
	rep, err := Execute(t.Context(), r)
	if rep != nil || err == nil || !strings.Contains(err.Error(), "tmci plan") {
		t.Fatalf("Execute while locked = %v, %v; want no report and an error naming the holder", rep, err)
	}
	if _, err := os.Stat(filepath.Join(r.Project.Root, "a", "ran")); !os.IsNotExist(err) {
		t.Errorf("a stack ran while the work directory was locked: %v", err)
	}
}

// TestExecuteInterrupted: cancelling the context interrupts the running
// stacks and the report says so.
func TestExecuteInterrupted(t *testing.T) {
	t.Parallel()
	// exec: no shell left to die between forking sleep and the signal,
	// orphaning a sleep that holds the output open until the grace ends.
	r := execRun(t, `touch started; exec sleep 30`)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(r.Project.Root, "a", "started")); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	rep, err := Execute(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.ExitCode != ExitFailure {
		t.Errorf("interrupted %v exit %d; want true, 1", rep.Interrupted, rep.ExitCode)
	}
	if got := statusesOf(rep)["/a"]; got != report.StatusInterrupted {
		t.Errorf("/a is %s, want %s", got, report.StatusInterrupted)
	}
}

// TestCountsReport: apply and destroy counts become a plan report whose
// Changes says whether anything was created, changed or destroyed; no
// counts (terraform failed early) is no report.
func TestCountsReport(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		counts tf.Counts
		want   *report.PlanReport
	}{
		{"apply", tf.Counts{Summary: tf.Summary{Create: 2, Update: 1, Delete: 3}, Counted: true},
			&report.PlanReport{Changes: true, Summary: tf.Summary{Create: 2, Update: 1, Delete: 3}}},
		{"imports only", tf.Counts{Counted: true}, &report.PlanReport{Summary: tf.Summary{}}},
		{"destroy", tf.Counts{Summary: tf.Summary{Delete: 4}, Counted: true},
			&report.PlanReport{Changes: true, Summary: tf.Summary{Delete: 4}}},
		{"no count line: failed early", tf.Counts{}, nil},
	} {
		if diff := cmp.Diff(c.want, countsReport(c.counts)); diff != "" {
			t.Errorf("%s: report (-want +got):\n%s", c.name, diff)
		}
	}
}

// TestCheckEnvironment: the one environment check.
func TestCheckEnvironment(t *testing.T) {
	t.Parallel()
	p := loadProject(t, `
-- stack.tm --
stack {}
-- tmci.hcl --
environment "prod" {
  protected = true
}
environment "pr-*" {}
`)
	for _, c := range []struct {
		name, wantErr string
		protected     bool
	}{
		{"prod", "", true},
		{"pr-7", "", false},
		{"", "--env is required: name the environment to run in (known: prod, pr-*)", false},
		{"staging", "staging", false},
	} {
		env, err := CheckEnvironment(p, c.name)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", c.name, err, c.wantErr)
		case err == nil && (env.Name != c.name || env.Decl == nil || env.Decl.Protected != c.protected):
			t.Errorf("%q: %+v", c.name, env)
		}
	}
}

// TestStatusText: reports spell the scheduler's statuses with
// underscores, stable across releases.
func TestStatusText(t *testing.T) {
	t.Parallel()
	statuses := []scheduler.Status{scheduler.NotStarted, scheduler.Succeeded, scheduler.Failed, scheduler.Skipped, scheduler.Interrupted}
	var got []string
	for _, s := range statuses {
		got = append(got, statusText(s))
	}
	if diff := cmp.Diff([]string{"not_started", "succeeded", "failed", "skipped", "interrupted"}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// TestExecLockShared: execs share the work directory's lock with each
// other, never with a run.
func TestExecLockShared(t *testing.T) {
	t.Parallel()
	r := execRun(t, "true")
	r.LockWait, r.Note = 0, io.Discard
	first, err := r.LockShared(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.LockShared(t.Context())
	if err != nil {
		t.Fatalf("a second exec: %v", err)
	}
	if _, err := lockWorkDir(t.Context(), r.Layout.Dir, "tmci plan", 0, io.Discard, false); err == nil {
		t.Fatal("a run took the lock beside two execs")
	}
	first()
	second()
	release, err := lockWorkDir(t.Context(), r.Layout.Dir, "tmci plan", 0, io.Discard, false)
	if err != nil {
		t.Fatalf("a run after the execs: %v", err)
	}
	defer release()
	if _, err := r.LockShared(t.Context()); err == nil || !strings.Contains(err.Error(), "tmci plan") {
		t.Fatalf("an exec beside a run: %v, want an error naming the run", err)
	}
}

// TestClaimWorkDir: a work directory is claimed when new or empty, and
// refused when it holds foreign entries, is a symbolic link, or is
// committed to git.
func TestClaimWorkDir(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		setup func(t *testing.T, root string)
		want  string
	}{
		"new":   {func(*testing.T, string) {}, ""},
		"empty": {func(t *testing.T, root string) { mustMkdir(t, filepath.Join(root, ".tmci")) }, ""},
		"foreign": {func(t *testing.T, root string) {
			mustMkdir(t, filepath.Join(root, ".tmci", "e"))
		}, "tmci did not create"},
		"symlink": {func(t *testing.T, root string) {
			mustMkdir(t, filepath.Join(root, "elsewhere"))
			if err := os.Symlink("elsewhere", filepath.Join(root, ".tmci")); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		"env symlink": {func(t *testing.T, root string) {
			mustMkdir(t, filepath.Join(root, ".tmci"))
			if err := os.WriteFile(filepath.Join(root, ".tmci", MarkerName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("..", filepath.Join(root, ".tmci", "e")); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		"committed": {func(t *testing.T, root string) {
			testenv.Git(t, root, "init", "-q")
			mustMkdir(t, filepath.Join(root, ".tmci"))
			if err := os.WriteFile(filepath.Join(root, ".tmci", MarkerName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			testenv.Git(t, root, "add", "-f", ".tmci")
		}, "committed to git"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			c.setup(t, root)
			work := filepath.Join(root, ".tmci")
			err := ClaimWorkDir(t.Context(), root, work, filepath.Join(work, "e"))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("ClaimWorkDir = %v, want an error saying %q", err, c.want)
			case c.want == "":
				fi, err := os.Stat(filepath.Join(work, "e"))
				if err != nil || fi.Mode().Perm() != 0o700 {
					t.Fatalf("environment directory: %v, %v", fi, err)
				}
				if _, err := os.Stat(filepath.Join(work, MarkerName)); err != nil {
					t.Fatal(err)
				}
				// Claimed once, it is accepted again.
				if err := ClaimWorkDir(t.Context(), root, work, filepath.Join(work, "e")); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
