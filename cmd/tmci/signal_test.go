//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRunSignal sends SIGINT to a real tmci process applying a slow stack
// with the local backend: main's signal context stops the run, terraform
// gets exactly one interrupt and releases its state lock, the stack after
// it never starts, and the report names the interrupted stack.
func TestRunSignal(t *testing.T) {
	bin := findTool(t, tools[0])
	root := t.TempDir()
	for name, content := range map[string]string{
		"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
		"tmci.hcl": `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "pr-*" {}
`,
		"slow/stack.tm": "stack {}\n",
		"slow/main.tf": `terraform {
  backend "local" {}
}
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "echo $((6*7))-asleep; sleep 120"
  }
}
`,
		"after/stack.tm": "stack {\n  after = [\"/slow\"]\n}\n",
		"after/main.tf":  "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"x\" {}\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmciBin := filepath.Join(t.TempDir(), "tmci")
	if out, err := exec.Command("go", "build", "-o", tmciBin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := runEnv(t, bin, nil)
	var stderr bytes.Buffer
	cmd := exec.Command(tmciBin, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet", "--grace=1m")
	cmd.Env = append(os.Environ(), "TMCI_TF_BIN="+env["TMCI_TF_BIN"], "TF_CLI_CONFIG_FILE="+env["TF_CLI_CONFIG_FILE"], "CHECKPOINT_DISABLE=1")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(root, ".tmci", "pr-1", "logs", "slow.log")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		// The interrupt must come once the provisioner's shell runs (see
		// tf's interrupt tests).
		if data, _ := os.ReadFile(log); bytes.Contains(data, []byte("42-asleep")) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the provisioner never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted while running /slow") {
		t.Errorf("tmci: %v, want exit 1 naming /slow:\n%s", err, stderr.String())
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("tmci took %v to stop: terraform was killed, not stopped by its interrupt", d)
	}
	data, _ := os.ReadFile(log)
	if n := bytes.Count(data, []byte("Interrupt received")); n != 1 {
		t.Errorf("terraform saw %d interrupts, want 1:\n%s", n, data)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	if diff := cmp.Diff(map[string]string{"/slow": "interrupted", "/after": "not_started"}, statuses(rep)); diff != "" || !rep.Interrupted {
		t.Errorf("interrupted %v; statuses (-want +got):\n%s", rep.Interrupted, diff)
	}
	if _, err := os.Stat(filepath.Join(root, ".tmci", "pr-1", "logs", "after.log")); !os.IsNotExist(err) {
		t.Errorf("the stack after the interrupted one ran (%v)", err)
	}
	lock := filepath.Join(root, ".tmci-state", "pr-1", "slow", ".terraform.tfstate.lock.info")
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("the state lock %s is left behind (%v)", lock, err)
	}
}
