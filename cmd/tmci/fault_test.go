package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests break what tmci depends on while it runs: terraform dies,
// the state database goes away, another run holds the state lock, the
// work directory's disk fills up. Each checks that tmci says what went
// wrong, exits 1, and leaves a complete report (or, when it cannot write
// one, none at all).

// writeTree writes files (project paths to contents) below root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(name)), content)
	}
}

// slowStack is the main.tf of a stack whose apply touches marker once
// its provisioner runs, then waits until release exists (at most a
// minute), so a test can act while terraform holds the stack's state.
func slowStack(backend, marker, release string) string {
	return fmt.Sprintf(`terraform {
  backend %q {}
}
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch %s; i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
  }
}
`, backend, marker, release)
}

// waitFile waits until path exists, failing the test after a minute or
// when done is closed first (the run ended without getting there).
func waitFile(t *testing.T, path string, done <-chan struct{}) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("the run ended before %s appeared", path)
		case <-deadline:
			t.Fatalf("%s did not appear within a minute", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// processes returns the pids of the processes for which match holds,
// read from /proc.
func processes(t *testing.T, match func(pid int) bool) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to list processes: %v", err)
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// terraformIn returns the pids of the processes running bin with dir as
// their working directory.
func terraformIn(t *testing.T, bin, dir string) []int {
	t.Helper()
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	return processes(t, func(pid int) bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		return exe == want && cwd == dir
	})
}

// processesWith returns the pids of the processes whose command line
// holds s.
func processesWith(t *testing.T, s string) []int {
	t.Helper()
	return processes(t, func(pid int) bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return bytes.Contains(cmdline, []byte(s))
	})
}

// asyncRun is tmci running in the background; done closes when it ends,
// after which code and output are set.
type asyncRun struct {
	done           chan struct{}
	code           int
	stdout, stderr string
}

func startTmci(t *testing.T, env map[string]string, args ...string) *asyncRun {
	r := &asyncRun{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code, r.stdout, r.stderr = tmciCode(t.Context(), env, args...)
	}()
	t.Cleanup(func() { <-r.done })
	return r
}

// TestFaultTerraformKilled: terraform is killed with SIGKILL in the middle
// of an apply, as the OOM killer would. The stack fails, the stack after
// it is skipped naming it, an independent stack finishes, and the run
// ends without waiting for the killed terraform's provisioner.
func TestFaultTerraformKilled(t *testing.T) {
	bin := findTool(t, tools[0])
	root := t.TempDir()
	marker, release := filepath.Join(root, "applying"), filepath.Join(root, "release")
	t.Cleanup(func() { os.WriteFile(release, nil, 0o644) }) // ends a provisioner left behind
	writeTree(t, root, map[string]string{
		"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
		"slow/stack.tm":    "stack {}\n",
		"slow/main.tf":     slowStack("local", marker, release),
		"after/stack.tm":   "stack {\n  after = [\"/slow\"]\n}\n",
		"after/main.tf":    "resource \"terraform_data\" \"after\" {}\n",
		"indep/stack.tm":   "stack {}\n",
		"indep/main.tf":    "resource \"terraform_data\" \"indep\" {}\n",
	})
	env := runEnv(t, bin, nil)
	start := time.Now()
	r := startTmci(t, env, "-C", root, "apply", "--log-mode=quiet", "--parallel=2")
	waitFile(t, marker, r.done)
	pids := terraformIn(t, bin, filepath.Join(root, "slow"))
	if len(pids) != 1 {
		t.Fatalf("found %d terraform processes applying /slow, want 1: %v", len(pids), pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
	out := r.stdout + r.stderr
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, out)
	}
	// The provisioner's shell outlives terraform and holds its output
	// pipe; tmci must not wait for it (up to a minute) to end the run.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %v after terraform was killed", d)
	}
	if !strings.Contains(out, "skipped (/slow failed)") {
		t.Errorf("the summary does not name the killed stack:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "default", "report.json"))
	want := map[string]string{"/slow": "failed", "/after": "skipped", "/indep": "succeeded"}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if rep.ExitCode != 1 || rep.Totals.Failed != 1 || rep.Totals.Skipped != 1 || rep.Totals.Succeeded != 1 {
		t.Errorf("report: exit %d totals %+v", rep.ExitCode, rep.Totals)
	}
	for _, s := range rep.Stacks {
		switch s.Path {
		case "/slow":
			if !strings.Contains(s.Error, "killed") {
				t.Errorf("/slow's error does not say terraform was killed: %q", s.Error)
			}
		case "/after":
			if diff := cmp.Diff([]string{"/slow"}, s.FailedDependencies); diff != "" {
				t.Errorf("/after's failed dependencies (-want +got):\n%s", diff)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, "indep", "terraform.tfstate")); err != nil {
		t.Errorf("the independent stack was not applied: %v", err)
	}
	// Nothing the killed terraform started outlives the run.
	if left := processesWith(t, marker); len(left) > 0 {
		t.Errorf("the killed terraform's provisioner still runs: %v", left)
	}
}
