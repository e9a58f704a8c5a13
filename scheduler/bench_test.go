package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/scheduler"
)

// benchGraph is n nodes where node i depends on nodes i/2 and i-1 when
// they exist: deep and wide enough that readiness bookkeeping is exercised.
func benchGraph(n int) scheduler.Deps {
	g := scheduler.Deps{After: map[string][]string{}}
	for i := range n {
		name := fmt.Sprintf("n%04d", i)
		g.Order = append(g.Order, name)
		if i > 1 {
			g.After[name] = []string{fmt.Sprintf("n%04d", i/2), fmt.Sprintf("n%04d", i-2)}
		}
	}
	return g
}

// BenchmarkRun measures the scheduler's own cost per run of 1,000 no-op
// tasks at parallel 2, against a floor of an errgroup limited to 2 running
// the same 1,000 no-ops with no graph at all.
func BenchmarkRun(b *testing.B) {
	const n = 1000
	g := benchGraph(n)
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var eg errgroup.Group
			eg.SetLimit(2)
			for range n {
				eg.Go(func() error { return nil })
			}
			_ = eg.Wait()
		}
	})
	b.Run("scheduler", func(b *testing.B) {
		b.ReportAllocs()
		task := func(context.Context, string, io.Writer) (struct{}, error) { return struct{}{}, nil }
		for b.Loop() {
			if _, err := scheduler.Run(b.Context(), g, scheduler.Options{Parallel: 2}, task); err != nil {
				b.Fatal(err)
			}
		}
	})
}
