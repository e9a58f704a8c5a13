package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStreamHidesInitUnlessItFails plans in stream mode with real
// terraform: init's output is in each stack's log, not on the console,
// until an init fails, whose output is then shown.
func TestStreamHidesInitUnlessItFails(t *testing.T) {
	t.Parallel()
	tf := findTool(t, tools[0])
	root := toolProject(t, "local", localStateTemplate)
	env := map[string]string{"TMCI_TF_BIN": tf, "PATH": os.Getenv("PATH")}
	plan := func() (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-C", root, "plan", "--env=staging", "--log-mode=stream", "--parallel=1"},
			&stdout, &stderr, func(k string) string { return env[k] }, os.Environ)
		return code, stdout.String() + stderr.String()
	}

	code, out := plan()
	if code != 0 || !strings.Contains(out, "[/stacks/app]") || !strings.Contains(out, "tmci apply --env=staging --from-plans") {
		t.Fatalf("plan: exit %d, want 0 with the stacks' plan output and the next command:\n%s", code, out)
	}
	if strings.Contains(out, "Initializing") {
		t.Errorf("the console shows terraform init's output:\n%s", out)
	}
	log, err := os.ReadFile(filepath.Join(root, ".tmci", "staging", "logs", "stacks", "app.log"))
	if err != nil || !strings.Contains(string(log), "Initializing the backend") {
		t.Errorf("the log lacks terraform init's output: %v\n%s", err, log)
	}

	// An init that fails (a module that does not exist) shows its output.
	main := filepath.Join(root, "stacks", "db", "main.tf")
	f, err := os.OpenFile(main, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("module \"gone\" {\n  source = \"./no-such-module\"\n}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out = plan()
	if code != 1 || !strings.Contains(out, "[/stacks/db] Initializing") || !strings.Contains(out, "no-such-module") {
		t.Errorf("plan with a failing init: exit %d, want 1 and init's output for /stacks/db:\n%s", code, out)
	}
	if strings.Contains(out, "[/stacks/app] Initializing") {
		t.Errorf("the console shows the init output of a stack whose init succeeded:\n%s", out)
	}
}
