//go:build !unix

package tf

import (
	"os"
	"os/exec"
)

// ownProcessGroup keeps os/exec's default cancellation, a kill, where
// process groups and SIGINT do not exist.
func ownProcessGroup(*exec.Cmd) {}

func killProcessGroup(*exec.Cmd) {}

func killedBySignal(error) bool { return false }

// inode returns 0: the signature of a cache entry then relies on names,
// sizes and times.
func inode(os.FileInfo) uint64 { return 0 }
