//go:build unix

package scheduler

import "syscall"

// noFollow makes opening a log fail on a symbolic link.
const noFollow = syscall.O_NOFOLLOW
