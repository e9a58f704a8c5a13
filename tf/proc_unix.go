//go:build unix

package tf

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own, so that
// a terminal's Ctrl-C reaches only tmci, and makes cancellation send one
// SIGINT to the whole group (terraform, its providers and provisioners).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}

// killProcessGroup kills what is left of an interrupted command's group,
// such as a provisioner's child that ignored the interrupt.
func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// killedBySignal reports whether err says the command died of a signal.
func killedBySignal(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// inode returns the file's inode number, or 0.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
