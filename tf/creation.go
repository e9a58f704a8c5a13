package tf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// creationLocked and catalogRace are what terraform's (and tofu's) pg
// backend prints when stacks of one database create their state at the same moment:
// init creates the backend's shared sequence, schema and table with
// CREATE ... IF NOT EXISTS, which PostgreSQL does not serialise (a
// unique violation in its catalog), and a command that creates a new
// state takes one database-wide lock and fails at once when it is taken,
// whatever -lock-timeout says.
const (
	creationLocked = "Already locked for workspace creation"
	catalogRace    = `duplicate key value violates unique constraint "pg_`
)

// maxCreationAttempts bounds RetryStateCreation: its waits add up to
// about 20 seconds.
const maxCreationAttempts = 20

// RetryStateCreation runs cmd, a terraform command writing to out, and
// runs it again while it fails on one of the races creationLocked and
// catalogRace name, so that the stacks of a new environment can
// init, plan and apply in parallel. Both races end as soon as the other
// stack's state exists, and a command that lost one changed nothing
// (init is idempotent; plan, apply and destroy had not taken their lock),
// so running it again is safe.
func RetryStateCreation(ctx context.Context, out io.Writer, cmd func(out io.Writer) error) error {
	return retryStateCreation(ctx, out, cmd, creationBackoff)
}

// creationBackoff is the wait before attempt+1: growing by 100 ms per
// attempt, with up to 100 ms of jitter so that racing stacks spread out.
func creationBackoff(attempt int) time.Duration {
	return time.Duration(attempt)*100*time.Millisecond + rand.N(100*time.Millisecond)
}

// retryStateCreation is RetryStateCreation with the wait before each
// attempt given by backoff, so that tests can count attempts without
// waiting for them.
func retryStateCreation(ctx context.Context, out io.Writer, cmd func(out io.Writer) error, backoff func(attempt int) time.Duration) error {
	for attempt := 1; ; attempt++ {
		seen := &markerWriter{markers: []string{creationLocked, catalogRace}}
		err := cmd(io.MultiWriter(out, seen))
		if err == nil || !seen.found() || attempt == maxCreationAttempts || ctx.Err() != nil {
			return err
		}
		wait := backoff(attempt)
		fmt.Fprintf(out, "\ntmci: another stack was creating its state in the same database; running again in %s\n\n", wait.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

// markerWriter records whether any of markers appeared in what was
// written, even split across writes; it is safe for concurrent use.
type markerWriter struct {
	markers []string
	mu      sync.Mutex
	tail    []byte
	seen    bool
}

// markerTail is how much of the output a markerWriter keeps between
// writes; longer than every marker.
const markerTail = 256

func (m *markerWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen {
		return len(p), nil
	}
	m.tail = append(m.tail, p...)
	for _, marker := range m.markers {
		m.seen = m.seen || bytes.Contains(m.tail, []byte(marker))
	}
	if len(m.tail) > markerTail {
		m.tail = append(m.tail[:0], m.tail[len(m.tail)-markerTail:]...)
	}
	return len(p), nil
}

func (m *markerWriter) found() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen
}
