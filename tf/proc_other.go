//go:build !unix

package tf

import "os/exec"

// ownProcessGroup keeps os/exec's default cancellation, a kill, where
// process groups and SIGINT do not exist.
func ownProcessGroup(*exec.Cmd) {}

func killProcessGroup(*exec.Cmd) {}

func killedBySignal(error) bool { return false }
