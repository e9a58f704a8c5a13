//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockWorkDir takes an exclusive lock on an environment's work directory
// for the length of a run. Two runs in one checkout would otherwise share
// data directories, truncate each other's logs mid-write and overwrite
// each other's report; terraform's state lock protects the state, not
// these. The lock is flock(2) on <dir>/.lock, released by the kernel even
// when tmci is killed; the file names its holder for the run refused.
// Runs with their own --work-dir do not meet here and meet at the state
// lock instead.
func lockWorkDir(dir, command string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the work directory: %w", err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the work directory's lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock the work directory %s: %w", dir, err)
		}
		holder, _ := os.ReadFile(path)
		return nil, fmt.Errorf("another tmci run (%s) is using the work directory %s: wait for it to end, or give this run its own --work-dir",
			strings.TrimSpace(string(holder)), dir)
	}
	// Name the holder; a failure to do so costs only the message above.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d, %s, since %s", os.Getpid(), command, time.Now().UTC().Format(time.RFC3339))
	}
	return func() { f.Close() }, nil
}
