//go:build !unix

package engine

import (
	"context"
	"io"
	"time"
)

// noFollow: O_NOFOLLOW where it exists.
const noFollow = 0

// lockWorkDir does not lock where flock(2) does not exist; two runs in
// one work directory are then the user's to avoid.
func lockWorkDir(ctx context.Context, dir, command string, wait time.Duration, note io.Writer, shared bool) (release func(), err error) {
	return func() {}, nil
}

// lockIn is lockWorkDir on the file name in dir.
func lockIn(ctx context.Context, dir, name, command string, wait time.Duration, note io.Writer, shared bool) (release func(), err error) {
	return func() {}, nil
}
