package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/scheduler"
)

// TestRandomGraphs runs seeded random DAGs with random failures at parallel
// 3 and checks the scheduler's invariants on every one: a node runs only
// after all its predecessors succeeded; a node is skipped exactly when an
// ancestor failed, and names every failed ancestor; without fail-fast or
// cancellation no node is left not started.
func TestRandomGraphs(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 42))
		n := 1 + rng.IntN(30)
		g := scheduler.Deps{After: map[string][]string{}}
		for i := range n {
			g.Order = append(g.Order, fmt.Sprintf("n%02d", i))
		}
		// Edges only from earlier to later nodes keep the graph acyclic;
		// shuffling the order then hides that from the scheduler.
		for i := range n {
			for j := range i {
				if rng.IntN(5) == 0 {
					g.After[g.Order[i]] = append(g.After[g.Order[i]], g.Order[j])
				}
			}
		}
		fails := map[string]bool{}
		for _, name := range g.Order {
			fails[name] = rng.IntN(6) == 0
		}
		preds := g.After
		rng.Shuffle(n, func(i, j int) { g.Order[i], g.Order[j] = g.Order[j], g.Order[i] })

		var mu sync.Mutex
		succeeded := map[string]bool{}
		rs, err := scheduler.Run(t.Context(), g, scheduler.Options{Parallel: 3},
			func(_ context.Context, node string, _ io.Writer) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range preds[node] {
					if !succeeded[p] {
						t.Errorf("seed %d: %s ran before %s succeeded", seed, node, p)
					}
				}
				if fails[node] {
					return "", errors.New("fail")
				}
				succeeded[node] = true
				return node, nil
			})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// ancestors of each node, by walking predecessors.
		var ancestors func(string, map[string]bool)
		ancestors = func(node string, seen map[string]bool) {
			for _, p := range preds[node] {
				if !seen[p] {
					seen[p] = true
					ancestors(p, seen)
				}
			}
		}
		status := map[string]scheduler.Status{}
		for _, r := range rs {
			status[r.Node] = r.Status
		}
		for _, r := range rs {
			seen := map[string]bool{}
			ancestors(r.Node, seen)
			var failed []string
			for a := range seen {
				if status[a] == scheduler.Failed {
					failed = append(failed, a)
				}
			}
			slices.SortFunc(failed, func(a, b string) int { return slices.Index(g.Order, a) - slices.Index(g.Order, b) })
			var want scheduler.Status
			switch {
			case len(failed) > 0:
				want = scheduler.Skipped
			case fails[r.Node]:
				want = scheduler.Failed
			default:
				want = scheduler.Succeeded
			}
			if r.Status != want {
				t.Errorf("seed %d: %s is %v, want %v", seed, r.Node, r.Status, want)
			}
			if len(failed) == 0 {
				failed = nil
			}
			if diff := cmp.Diff(failed, r.FailedDeps); diff != "" {
				t.Errorf("seed %d: failed deps of %s (-want +got):\n%s", seed, r.Node, diff)
			}
		}
	}
}
