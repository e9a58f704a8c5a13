package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tmci/tmci/internal/memguard"
	"github.com/tmci/tmci/internal/testenv"
)

// TestFilesystemRootIsNoProject runs tmci -C / list, which walked the
// whole filesystem: it must refuse at once.
func TestFilesystemRootIsNoProject(t *testing.T) {
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-C", "/", "list"}, &stdout, &stderr, func(string) string { return "" }, func() []string { return nil })
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if code != exitFailure || stdout.Len() > 0 {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "not in a git repository") && !strings.Contains(msg, "the whole filesystem") {
		t.Errorf("stderr = %q, want it to say / is no project", msg)
	}
}

// TestStacksFromFIFOAbsolute gives --stacks-from an absolute FIFO that no
// one writes to: reading it would block forever, ignoring SIGINT.
func TestStacksFromFIFOAbsolute(t *testing.T) {
	dir := t.TempDir()
	testenv.Git(t, dir, "init", "-q", "-b", "main")
	// A project: a repository without config files is refused first.
	if err := os.WriteFile(filepath.Join(dir, "terramate.tm.hcl"), []byte("terramate {\n  config {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "stacks")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-C", dir, "list", "--stacks-from", fifo}, &stdout, &stderr, func(string) string { return "" }, func() []string { return nil })
	}()
	select {
	case code := <-done:
		if code != exitFailure || !strings.Contains(stderr.String(), "named pipe") {
			t.Errorf("exit %d, stderr %q; want 1 and a message naming the named pipe", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tmci blocked on a FIFO")
	}
}

// TestMemoryGuard evaluates a global that builds a billion elements with
// nested for expressions, which no static limit catches: the tmci binary
// must stop at its memory limit with a clear message and exit 1, not die
// of the runtime's out-of-memory error or take the machine with it (the
// shell's ulimit is a backstop for a broken guard).
func TestMemoryGuard(t *testing.T) {
	dir := t.TempDir()
	testenv.Git(t, dir, "init", "-q")
	writeFile(t, filepath.Join(dir, "s", "stack.tm"), `stack {}
globals {
  g = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]
}
`)
	bin := filepath.Join(buildTmci(t), "tmci")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -v 8000000; exec "$0" -C "$1" check`, bin, dir)
	cmd.Env = append(os.Environ(), memguard.EnvVar+"=256MiB")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("tmci check: %v, want exit status 1\n%s", err, tail(stderr.String(), 2000))
	}
	msg := stderr.String()
	if !strings.Contains(msg, "memory use reached") || !strings.Contains(msg, memguard.EnvVar) || strings.Contains(msg, "goroutine") {
		t.Errorf("stderr does not say the memory limit stopped tmci, or holds a crash:\n%s", tail(msg, 2000))
	}
	t.Logf("stopped after %v", time.Since(start).Round(time.Millisecond))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
