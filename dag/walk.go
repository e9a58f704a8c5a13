package dag

import (
	"fmt"
	"slices"
	"sync"
)

// Walker hands out the selected stacks of a Graph as they become ready to
// run, for a scheduler running them concurrently. A stack is ready once
// every selected stack it waits for (Graph.Predecessors) has succeeded;
// a failure skips everything that waits for the failed stack, transitively,
// and independent stacks go on.
//
// The zero value is not usable; get a Walker from Graph.Walk. A Walker is
// safe for concurrent use: workers may report Done and Fail while the
// scheduler loop calls Ready. Each method is O(1) amortised per stack and
// edge it touches.
type Walker struct {
	mu        sync.Mutex
	g         *Graph
	rank      []int32 // position in run order, per node
	waiting   []int32 // unfinished selected predecessors, per node
	state     []walkState
	queue     []int32 // ready, not yet handed out, in hand-out order
	remaining int
}

type walkState uint8

const (
	statePending walkState = iota
	stateQueued
	stateRunning
	stateDone
	stateFailed
	stateSkipped
)

// Walk returns a new Walker over g's selected stacks; the stacks with no
// selected predecessor are ready at once.
func (g *Graph) Walk() *Walker {
	n := len(g.nodes)
	w := &Walker{g: g, rank: make([]int32, n), waiting: make([]int32, n), state: make([]walkState, n)}
	for r, v := range g.order {
		w.rank[v] = int32(r)
	}
	for _, v := range g.order {
		if !g.selected[v] {
			continue
		}
		w.remaining++
		w.waiting[v] = int32(len(g.runPreds.of(v)))
		if w.waiting[v] == 0 {
			w.state[v] = stateQueued
			w.queue = append(w.queue, v)
		}
	}
	return w
}

// Ready returns the stacks that became ready since the last call, in the
// order Terramate would run them (the stacks ready at the start in run
// order, then the stacks each Done call released, in run order), and
// marks them running. Every stack is returned at most once. An empty
// result with Remaining() > 0 means the caller must wait for running
// stacks to finish.
func (w *Walker) Ready() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, len(w.queue))
	for i, v := range w.queue {
		w.state[v] = stateRunning
		out[i] = w.g.path(v)
	}
	w.queue = w.queue[:0]
	return out
}

// Done records that the running stack p succeeded; the stacks waiting only
// for finished stacks become ready.
func (w *Walker) Done(p string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.running(p)
	if err != nil {
		return err
	}
	w.state[v] = stateDone
	w.remaining--
	start := len(w.queue)
	for _, s := range w.g.runSuccs.of(v) {
		if w.waiting[s]--; w.waiting[s] == 0 && w.state[s] == statePending {
			w.state[s] = stateQueued
			w.queue = append(w.queue, s)
		}
	}
	released := w.queue[start:]
	slices.SortFunc(released, func(a, b int32) int { return int(w.rank[a] - w.rank[b]) })
	return nil
}

// Fail records that the running stack p failed and skips the stacks that
// wait for it, transitively. It returns the skipped stacks in run order;
// each stack is skipped at most once, by the first failure that reaches
// it.
func (w *Walker) Fail(p string) ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.running(p)
	if err != nil {
		return nil, err
	}
	w.state[v] = stateFailed
	w.remaining--
	var skipped []int32
	stack := []int32{v}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range w.g.runSuccs.of(u) {
			if w.state[s] == statePending {
				w.state[s] = stateSkipped
				w.remaining--
				skipped = append(skipped, s)
				stack = append(stack, s)
			}
		}
	}
	return w.paths(skipped), nil
}

// Stop skips every stack not handed out yet (for --fail-fast or an
// interrupt) and returns them in run order. Running stacks still report
// Done or Fail.
func (w *Walker) Stop() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var skipped []int32
	for v, st := range w.state {
		if w.g.selected[v] && (st == statePending || st == stateQueued) {
			w.state[v] = stateSkipped
			w.remaining--
			skipped = append(skipped, int32(v))
		}
	}
	w.queue = w.queue[:0]
	return w.paths(skipped)
}

// Remaining returns the number of selected stacks that have neither
// finished nor been skipped; the walk is over when it is 0.
func (w *Walker) Remaining() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.remaining
}

func (w *Walker) running(p string) (int32, error) {
	v, ok := w.g.node(p)
	if !ok {
		return 0, fmt.Errorf("stack %s is not selected", p)
	}
	if w.state[v] != stateRunning {
		return 0, fmt.Errorf("stack %s is not running", p)
	}
	return v, nil
}

// paths sorts nodes into run order and returns their paths.
func (w *Walker) paths(nodes []int32) []string {
	slices.SortFunc(nodes, func(a, b int32) int { return int(w.rank[a] - w.rank[b]) })
	out := make([]string, len(nodes))
	for i, v := range nodes {
		out[i] = w.g.path(v)
	}
	return out
}
