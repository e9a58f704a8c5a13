package scheduler_test

import (
	"testing"
	"time"
)

// waitTimeout bounds every wait of these tests on a channel: a scheduler
// that never sends must fail its test, not hang the package until go
// test's own ten-minute timeout.
const waitTimeout = 10 * time.Second

// receive returns the next value of c, or fails t when none comes within
// waitTimeout; what names the awaited event in the message. It must be
// called from the test's goroutine.
func receive[T any](t testing.TB, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		var zero T
		return zero
	}
}
