package tf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRetryStateCreation(t *testing.T) {
	t.Parallel()
	locked := errors.New("exit status 1")
	for _, c := range []struct {
		name    string
		results []string // what each run prints; "" succeeds
		calls   int
		err     error
	}{
		{"succeeds at once", []string{""}, 1, nil},
		{"locked twice, split across writes", []string{"Error message: Already locked for wor|kspace creation: default", "Already locked for workspace creation", ""}, 3, nil},
		{"init race", []string{`Error: pq: duplicate key value violates unique constraint "pg_class_relname_nsp_index"`, ""}, 2, nil},
		{"another failure is not retried", []string{"Error: Invalid reference", ""}, 1, locked},
		// The marker is split across writes after more than markerTail
		// bytes of output: what is kept between writes must be the end.
		{"race split after 256 bytes", []string{strings.Repeat("x", 300) + "|Error: pq: duplicate key value viol|ates unique constraint \"pg_type_typname_nsp_index\"", ""}, 2, nil},
		{"lock split after 256 bytes, byte by byte", []string{strings.Repeat("y", 257) + "|" + strings.Join(strings.Split(creationLocked, ""), "|"), ""}, 2, nil},
		{"marker far back in one long write", []string{creationLocked + strings.Repeat("z", 1000), ""}, 2, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			calls := 0
			err := RetryStateCreation(t.Context(), &out, func(w io.Writer) error {
				res := c.results[calls]
				calls++
				if res == "" {
					return nil
				}
				for _, part := range strings.Split(res, "|") {
					w.Write([]byte(part))
				}
				return locked
			})
			if calls != c.calls || err != c.err {
				t.Errorf("%d calls, error %v; want %d, %v\n%s", calls, err, c.calls, c.err, out.String())
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := RetryStateCreation(ctx, io.Discard, func(w io.Writer) error {
		calls++
		cancel()
		w.Write([]byte(creationLocked))
		return locked
	})
	if calls != 1 || err != locked {
		t.Errorf("after an interrupt: %d calls, %v; want 1 and the error", calls, err)
	}
}

// TestRetryStateCreationGivesUpAfter20: a command that loses the race
// every time runs exactly maxCreationAttempts (20) times, and its last
// error is returned; each retry is announced in the output.
func TestRetryStateCreationGivesUpAfter20(t *testing.T) {
	t.Parallel()
	locked := errors.New("exit status 1")
	var out bytes.Buffer
	calls := 0
	err := retryStateCreation(t.Context(), &out, func(w io.Writer) error {
		calls++
		w.Write([]byte("Error: " + creationLocked + "\n"))
		return locked
	}, func(int) time.Duration { return 0 })
	if calls != 20 || err != locked {
		t.Errorf("%d calls, error %v; want 20 and the command's error", calls, err)
	}
	if n := strings.Count(out.String(), "running again"); n != 19 {
		t.Errorf("%d retries announced, want 19:\n%s", n, out.String())
	}
}
