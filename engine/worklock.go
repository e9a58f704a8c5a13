//go:build unix

package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// noFollow makes an open fail on a symbolic link: tmci never writes
// through one inside its work directory.
const noFollow = syscall.O_NOFOLLOW

// lockWorkDir takes an exclusive lock on an environment's work directory
// (created and checked by ClaimWorkDir)
// for the length of a run. Two runs in one checkout would otherwise share
// data directories, truncate each other's logs mid-write and overwrite
// each other's report; terraform's state lock protects the state, not
// these. The lock is flock(2) on <dir>/.lock, released by the kernel even
// when tmci is killed; the file names its holder. Like terraform's state
// lock, a held lock is waited for up to wait (saying so once on note), so
// CI jobs that share a checkout, as a shell runner's parallel jobs may,
// take turns; past wait, or when ctx ends, the run is refused naming the
// holder. Runs with their own --work-dir do not meet here and meet at the
// state lock instead.
//
// shared takes the lock shared (tmci exec): execs of one environment,
// one per stack under terramate run --parallel, run together, but never
// beside a run.
func lockWorkDir(ctx context.Context, dir, command string, wait time.Duration, note io.Writer, shared bool) (release func(), err error) {
	return lockIn(ctx, dir, ".lock", command, wait, note, shared)
}

// lockIn is lockWorkDir on the file name in dir.
func lockIn(ctx context.Context, dir, name, command string, wait time.Duration, note io.Writer, shared bool) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the work directory: %w", err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the work directory's lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for waited := false; ; waited = true {
		how := syscall.LOCK_EX
		if shared {
			how = syscall.LOCK_SH
		}
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock the work directory %s: %w", dir, err)
		}
		holder, _ := os.ReadFile(path)
		if time.Now().After(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, fmt.Errorf("another tmci run (%s) is using the work directory %s: wait for it to end, or give this run its own --work-dir",
				strings.TrimSpace(string(holder)), dir)
		}
		if !waited {
			fmt.Fprintf(note, "tmci: waiting up to %s for another tmci run (%s) using %s\n", wait, strings.TrimSpace(string(holder)), dir)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	// Name the holder; a failure to do so costs only the message above.
	// Shared holders are many and leave the name of the last run.
	if shared {
		return func() { f.Close() }, nil
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d, %s, since %s", os.Getpid(), command, time.Now().UTC().Format(time.RFC3339))
	}
	return func() { f.Close() }, nil
}
