//go:build !unix

package main

// lockWorkDir does not lock where flock(2) does not exist; two runs in
// one work directory are then the user's to avoid.
func lockWorkDir(dir, command string) (release func(), err error) { return func() {}, nil }
