package tf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRetryStateCreation(t *testing.T) {
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
