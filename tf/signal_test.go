//go:build unix

package tf_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tmci/tmci/tf"
)

// TestExecInterruptIsOneSIGINT: cancelling a command run by Runner.Exec
// (what `tmci run` and `tmci exec` use) delivers exactly one SIGINT to it,
// the signal terraform treats as "stop gracefully and release the lock";
// SIGTERM or a second signal would be another behaviour. The child is a
// real shell that records every signal it gets.
func TestExecInterruptIsOneSIGINT(t *testing.T) {
	dir := t.TempDir()
	got, ready := filepath.Join(dir, "signals"), filepath.Join(dir, "ready")
	// Each trap records its signal; the shell ends after the first one
	// plus a short pause in which a second signal would still be caught.
	script := `trap 'echo INT >>signals; sleep 0.3; exit 0' INT
trap 'echo TERM >>signals; sleep 0.3; exit 0' TERM
trap 'echo HUP >>signals; sleep 0.3; exit 0' HUP
touch ready
while :; do sleep 0.05; done`
	r := &tf.Runner{Env: os.Environ(), Grace: 10 * time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Exec(ctx, tf.Stack{Dir: dir, Out: io.Discard}, []string{"sh", "-c", script}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command did not start within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Exec did not return within 15s of the interrupt")
	}
	data, err := os.ReadFile(got)
	if err != nil {
		t.Fatalf("the command recorded no signal: %v", err)
	}
	if s := strings.Fields(string(data)); len(s) != 1 || s[0] != "INT" {
		t.Errorf("the command got signals %q, want exactly one INT", s)
	}
}
