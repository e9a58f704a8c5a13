package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfirmInTerminal runs apply and destroy on a real pty, as a person
// would: tmci shows what will change, asks, and acts only on "yes".
// Without a terminal (every other test, and CI) nothing is asked.
func TestConfirmInTerminal(t *testing.T) {
	t.Parallel()
	tf := findTool(t, tools[0])
	root := toolProject(t, "local", localStateTemplate)
	state := filepath.Join(root, "state", "staging", "stacks", "app.tfstate")
	env := []string{"TMCI_TF_BIN=" + tf, "TERM=xterm", "CI=", "GITHUB_ACTIONS=", "GITLAB_CI=", "CHECKPOINT_DISABLE=1", "NO_COLOR=1"}

	// answer runs tmci on a pty, waits for the question, types answer
	// and returns the exit code and everything tmci printed.
	answer := func(t *testing.T, answer string, args ...string) (int, string) {
		t.Helper()
		cmd, ptmx := ptyCommand(t, root, env, args...)
		var out drain
		done := make(chan struct{})
		go func() { out.from(ptmx); close(done) }()
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(out.String(), "Only 'yes' will be accepted:") {
			if time.Now().After(deadline) {
				t.Fatalf("tmci %s never asked:\n%s", strings.Join(args, " "), out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := ptmx.WriteString(answer + "\r"); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		<-done
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return code, out.String()
	}

	code, out := answer(t, "no", "apply", "--env=staging")
	if code != 1 || !strings.Contains(out, "stacks/app") || !strings.Contains(out, "+2") || !strings.Contains(out, "cancelled; nothing was changed") {
		t.Errorf("apply answered no: exit %d, want 1, the plan summary and the cancellation:\n%s", code, out)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("apply answered no wrote state %s: %v", state, err)
	}

	code, out = answer(t, "yes", "apply", "--env=staging")
	if code != 0 {
		t.Fatalf("apply answered yes: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("apply answered yes: no state: %v\n%s", err, out)
	}

	code, out = answer(t, "nope", "destroy", "--env=staging")
	if code != 1 || !strings.Contains(out, "stacks/app  (local path=") || !strings.Contains(out, "cancelled") {
		t.Errorf("destroy answered nope: exit %d, want 1, the stacks with their state and the cancellation:\n%s", code, out)
	}
	if data, err := os.ReadFile(state); err != nil || !strings.Contains(string(data), "marker-app") {
		t.Fatalf("destroy answered nope changed the state: %v\n%s", err, data)
	}

	code, out = answer(t, "yes", "destroy", "--env=staging")
	if code != 0 {
		t.Fatalf("destroy answered yes: exit %d:\n%s", code, out)
	}
	if data, err := os.ReadFile(state); err != nil || strings.Contains(string(data), "marker-app") {
		t.Errorf("destroy answered yes left the resource: %v\n%s", err, data)
	}
}
