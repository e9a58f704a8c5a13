package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
)

// TestMovedStateMigration moves a stack whose backend key is built from
// its path, after it was applied: the commands `list --changed --why`
// prints must carry its state to the new path, so that a plan there has
// nothing to create.
func TestMovedStateMigration(t *testing.T) {
	t.Parallel()
	tf := findTool(t, tools[0])
	self, err := exec.LookPath("tmci")
	if err != nil {
		t.Fatal(err)
	}
	dir := fixture.Repo(t, "changed-moved")
	state := t.TempDir()
	env := map[string]string{"STATE_DIR": state, "TMCI_TF_BIN": tf, "PATH": filepath.Dir(self) + string(os.PathListSeparator) + os.Getenv("PATH")}
	getenv := func(k string) string { return env[k] }
	tmciIn := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", dir}, args...), &stdout, &stderr, getenv, os.Environ)
		return code, stdout.String(), stderr.String()
	}

	testenv.Git(t, dir, "checkout", "-q", "main")
	if code, _, stderr := tmciIn("apply", "--env=prod", "--yes", "--stack", "/stacks/bypath/old"); code != 0 {
		t.Fatalf("apply at the base: exit %d\n%s", code, stderr)
	}
	testenv.Git(t, dir, "checkout", "-q", "feature")
	// Without the migration the moved stack would create its resource again.
	if code, _, stderr := tmciIn("plan", "--env=prod", "--stack", "/stacks/bypath/new", "--detailed-exitcode", "--work-dir", t.TempDir()); code != 2 {
		t.Fatalf("plan before the migration: exit %d, want 2 (changes)\n%s", code, stderr)
	}

	_, why, _ := tmciIn("list", "--changed", "--why")
	_, steps, ok := strings.Cut(why, "to carry the state over, run at the project root before applying:\n")
	if !ok {
		t.Fatalf("no migration commands in:\n%s", why)
	}
	var ran int
	for _, line := range strings.Split(steps, "\n") {
		cmd := strings.TrimPrefix(line, "        ")
		if cmd == line || strings.HasPrefix(cmd, "#") || strings.Contains(cmd, "--env=pr-") {
			continue
		}
		c := exec.Command("sh", "-c", cmd)
		c.Dir = dir
		c.Env = append(os.Environ(), "STATE_DIR="+state, "TMCI_TF_BIN="+tf, "PATH="+env["PATH"], "CHECKPOINT_DISABLE=1")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		ran++
	}
	if ran != 6 {
		t.Fatalf("ran %d commands, want 6 (worktree, 4 for prod, cleanup):\n%s", ran, steps)
	}
	if code, _, stderr := tmciIn("plan", "--env=prod", "--stack", "/stacks/bypath/new", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the migration: exit %d, want 0 (no changes)\n%s", code, stderr)
	}
}
