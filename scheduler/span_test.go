package scheduler_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/tmci/tmci/scheduler"
)

// GitLab takes a section's duration from its two markers: Span gets the
// time the node's task started and the time it ended, not two readings of
// the clock at print time.
func TestGroupedSpanHasTheTasksTimes(t *testing.T) {
	var console bytes.Buffer
	c := scheduler.NewConsole(&console, scheduler.Grouped)
	var start, end time.Time
	c.Span = func(node string, s scheduler.Status, st, en time.Time) (string, string) {
		start, end = st, en
		return "", ""
	}
	before := time.Now()
	const work = 150 * time.Millisecond
	_, err := scheduler.Run(t.Context(), scheduler.Deps{Order: []string{"x"}}, scheduler.Options{Console: c},
		func(_ context.Context, _ string, out io.Writer) (int, error) {
			time.Sleep(work)
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if start.Before(before) || end.Sub(start) < work {
		t.Errorf("span %v to %v (%v), want from the task's start, at least %v", start, end, end.Sub(start), work)
	}
}
