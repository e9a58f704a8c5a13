package dag

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// walkGraph: /net -> /db -> (/hidden, unselected) -> /app -> /app/worker,
// /dns -> /app, and /lone on its own.
func walkGraph(t *testing.T) *Graph {
	t.Helper()
	stacks := []Stack{
		stack("/net"),
		stack("/dns"),
		stack("/db", after("/net")),
		stack("/hidden", after("/db")),
		stack("/app", after("/hidden", "/dns")),
		stack("/app/worker"),
		stack("/lone"),
	}
	g, diags := build(t, stacks, []string{"/net", "/dns", "/db", "/app", "/app/worker", "/lone"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func TestWalkerSuccess(t *testing.T) {
	w := walkGraph(t).Walk()
	step := func(want ...string) {
		t.Helper()
		got := w.Ready()
		if len(want) == 0 {
			want = []string{}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Ready (-want +got):\n%s", diff)
		}
	}
	done := func(p string) {
		t.Helper()
		if err := w.Done(p); err != nil {
			t.Fatal(err)
		}
	}
	step("/dns", "/lone", "/net")
	step()
	done("/net")
	step("/db")
	done("/lone")
	done("/db")
	step() // /app still waits for /dns
	done("/dns")
	step("/app")
	if got := w.Remaining(); got != 2 {
		t.Errorf("Remaining = %d, want 2", got)
	}
	done("/app")
	step("/app/worker")
	done("/app/worker")
	if got := w.Remaining(); got != 0 {
		t.Errorf("Remaining = %d, want 0", got)
	}
	if err := w.Done("/app"); err == nil {
		t.Error("Done of a finished stack: want an error")
	}
	if err := w.Done("/hidden"); err == nil {
		t.Error("Done of an unselected stack: want an error")
	}
}

func TestWalkerFailSkipsDependents(t *testing.T) {
	w := walkGraph(t).Walk()
	w.Ready()
	skipped, err := w.Fail("/net")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/db", "/app", "/app/worker"}, skipped); diff != "" {
		t.Errorf("Fail skipped (-want +got):\n%s", diff)
	}
	// Independent stacks go on; a finished predecessor of a skipped stack
	// releases nothing.
	if err := w.Done("/dns"); err != nil {
		t.Fatal(err)
	}
	if got := w.Ready(); len(got) != 0 {
		t.Errorf("Ready after the failure = %v, want nothing", got)
	}
	if err := w.Done("/lone"); err != nil {
		t.Fatal(err)
	}
	if got := w.Remaining(); got != 0 {
		t.Errorf("Remaining = %d, want 0", got)
	}
	if _, err := w.Fail("/db"); err == nil {
		t.Error("Fail of a skipped stack: want an error")
	}
}

func TestWalkerStop(t *testing.T) {
	w := walkGraph(t).Walk()
	w.Ready()
	if err := w.Done("/net"); err != nil {
		t.Fatal(err)
	}
	// /db is ready but not handed out: Stop skips it with the rest.
	if diff := cmp.Diff([]string{"/db", "/app", "/app/worker"}, w.Stop()); diff != "" {
		t.Errorf("Stop (-want +got):\n%s", diff)
	}
	if got := w.Ready(); len(got) != 0 {
		t.Errorf("Ready after Stop = %v", got)
	}
	for _, p := range []string{"/dns", "/lone"} {
		if err := w.Done(p); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Remaining(); got != 0 {
		t.Errorf("Remaining = %d, want 0", got)
	}
}

// TestWalkerConcurrent runs a wide graph with workers reporting from
// their own goroutines (run it with -race) and checks that every stack
// starts after its predecessors finished.
func TestWalkerConcurrent(t *testing.T) {
	var stacks []Stack
	for i := range 200 {
		s := stack(pathN(i))
		if i >= 10 {
			s.After = Refs{List: []string{pathN(i / 2), pathN(i - 7)}}
		}
		stacks = append(stacks, s)
	}
	g, diags := build(t, stacks, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := g.Walk()
	var mu sync.Mutex
	finished := map[string]bool{}
	var wg sync.WaitGroup
	results := make(chan string, len(stacks))
	for w.Remaining() > 0 {
		for _, p := range w.Ready() {
			mu.Lock()
			for _, pred := range g.Predecessors(p) {
				if !finished[pred] {
					t.Errorf("%s started before %s finished", p, pred)
				}
			}
			mu.Unlock()
			wg.Go(func() {
				mu.Lock()
				finished[p] = true
				mu.Unlock()
				if err := w.Done(p); err != nil {
					t.Error(err)
				}
				results <- p
			})
		}
		<-results
	}
	wg.Wait()
	if len(finished) != len(stacks) {
		t.Errorf("%d stacks finished, want %d", len(finished), len(stacks))
	}
}

func pathN(i int) string { return fmt.Sprintf("/s%03d", i) }

func TestWalkerReadyOrder(t *testing.T) {
	// Released stacks come in run order, after the ones already queued.
	g, diags := build(t, []Stack{
		stack("/a"), stack("/m"), stack("/z"),
		stack("/b", after("/a")), stack("/c", after("/a")),
	}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := g.Walk()
	first := w.Ready()
	if err := w.Done("/a"); err != nil {
		t.Fatal(err)
	}
	got := append(first, w.Ready()...)
	if diff := cmp.Diff(g.Order(), got); diff != "" {
		t.Errorf("hand-out order differs from the run order (-want +got):\n%s", diff)
	}
	if !slices.Equal(got, []string{"/a", "/m", "/z", "/b", "/c"}) {
		t.Errorf("got %v", got)
	}
}
