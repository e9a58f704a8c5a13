// Package scheduler walks a dependency graph and runs one task per node with
// bounded parallelism. A node starts once all its predecessors succeeded; a
// failure skips the nodes that depend on it while independent nodes go on;
// cancelling the context stops new starts and lets running tasks wind down
// on their own. Every node's outcome is collected, with timings, so that a
// caller can render a summary and a report.
//
// The package knows nothing of git, Terraform or stacks: nodes are strings
// and the task is any function.
package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// Graph is the dependency graph the scheduler walks. It must be acyclic.
type Graph interface {
	// Nodes returns every node once. The order is the start priority: when
	// more nodes are ready than there are free slots, earlier ones start
	// first, so passing a run order makes runs reproducible.
	Nodes() []string
	// Predecessors returns the nodes that must succeed before node starts.
	Predecessors(node string) []string
}

// Deps is a Graph held in memory: Order lists the nodes, After maps a node
// to its predecessors.
type Deps struct {
	Order []string
	After map[string][]string
}

// Nodes implements Graph.
func (d Deps) Nodes() []string { return d.Order }

// Predecessors implements Graph.
func (d Deps) Predecessors(node string) []string { return d.After[node] }

// Task is the work run for one node. out receives the node's output (its
// log file and the console); it is safe for concurrent use. ctx is the
// context given to Run: when it is cancelled the task should interrupt its
// work and return, and an error returned then marks the node Interrupted.
// The value is kept in the node's Result whether or not err is nil.
type Task[T any] func(ctx context.Context, node string, out io.Writer) (T, error)

// Status is the outcome of one node.
type Status int

const (
	// NotStarted: the run stopped (context cancelled, or fail-fast after a
	// failure elsewhere) before the node could start.
	NotStarted Status = iota
	// Succeeded: the task returned a nil error.
	Succeeded
	// Failed: the task returned an error while the context was live.
	Failed
	// Skipped: a predecessor failed, so the node was never started.
	Skipped
	// Interrupted: the task returned an error after the context was
	// cancelled.
	Interrupted
)

var statusNames = [...]string{"not started", "succeeded", "failed", "skipped", "interrupted"}

// String returns the lower-case name used in console frames and summaries;
// reports spell statuses their own way (package report).
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ErrFailFast is the Err of nodes left NotStarted because another node
// failed and Options.FailFast was set.
var ErrFailFast = errors.New("not started: another node failed and fail-fast is set")

// Result is what happened to one node.
type Result[T any] struct {
	Node   string
	Status Status
	// Value is what the task returned; the zero value if it never ran.
	Value T
	// Err is the task's error (Failed, Interrupted), or why the node did not
	// start (NotStarted: the context's cause or ErrFailFast).
	Err error
	// FailedDeps names, for a Skipped node, the failed nodes it depends on
	// (directly or through other skipped nodes), in graph order. A skip is
	// a follow-on of these failures, not a problem of its own.
	FailedDeps []string
	// Start and End are zero for nodes that never started.
	Start, End time.Time
}

// Duration is how long the task ran.
func (r Result[T]) Duration() time.Duration { return r.End.Sub(r.Start) }

// Running names a node that has been running for a while.
type Running struct {
	Node  string
	Since time.Time
}

// Options tunes a run. The zero value runs runtime.NumCPU() tasks at a
// time, goes on after failures, writes no logs and prints nothing.
type Options struct {
	// Parallel bounds the number of tasks running at once; <= 0 means
	// runtime.NumCPU().
	Parallel int
	// FailFast stops starting new nodes after the first failure. Running
	// tasks are not cancelled: they finish normally.
	FailFast bool
	// Logs, if set, receives each node's complete output.
	Logs LogSink
	// Console, if set, shows the output as its Mode says.
	Console *Console
	// Heartbeat, if positive, is both the period at which OnHeartbeat is
	// called and the minimum run time of the nodes it names. OnHeartbeat is
	// called only when at least one node qualifies, from the scheduling
	// goroutine: it must not block for long.
	Heartbeat   time.Duration
	OnHeartbeat func(now time.Time, running []Running)
	// OnEvent, if set, is told when a node starts and when it ends
	// (including skips), from the scheduling goroutine: it must not block
	// for long. It suits progress messages.
	OnEvent func(Event)
	// Now is the clock for Start, End and heartbeats; nil means time.Now.
	Now func() time.Time
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Started: the node's task was started.
	Started EventKind = iota
	// Ended: the node's task returned, or the node was skipped.
	Ended
)

// Event is a node starting or ending.
type Event struct {
	Node string
	Kind EventKind
	Time time.Time
	// Status, Err and FailedDeps are set for Ended, as in Result.
	Status     Status
	Err        error
	FailedDeps []string
}

// outcome is a finished task, sent from its goroutine to the scheduling
// loop, which alone writes the results.
type outcome[T any] struct {
	i      int
	value  T
	err    error
	status Status
	end    time.Time
}

// Run runs task for every node of g and returns one Result per node, in the
// order of g.Nodes(). It returns an error only for an invalid graph (a
// duplicate or unknown node, a cycle), before running anything; task
// failures are reported in the results.
//
// Run returns when every started task has returned. It never cancels ctx
// itself: with FailFast, running tasks complete normally.
func Run[T any](ctx context.Context, g Graph, opts Options, task Task[T]) ([]Result[T], error) {
	w, err := newWalk(g)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	n := len(w.nodes)
	results := make([]Result[T], n)
	for i, name := range w.nodes {
		results[i].Node = name
	}
	ready := &minHeap{}
	for i := range n {
		if w.waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}

	var tick <-chan time.Time
	if opts.Heartbeat > 0 && opts.OnHeartbeat != nil {
		t := time.NewTicker(opts.Heartbeat)
		defer t.Stop()
		tick = t.C
	}

	// The loop below owns results and the graph counters; task goroutines
	// only send outcomes. done is buffered for every node so that a
	// finishing task never blocks on the loop.
	done := make(chan outcome[T], n)
	var eg errgroup.Group
	running := map[int]time.Time{}
	var stopErr error // set once no new node may start
	ctxDone := ctx.Done()
	for {
		for stopErr == nil && ctx.Err() == nil && len(running) < parallel && ready.Len() > 0 {
			i := heap.Pop(ready).(int)
			start := now()
			results[i].Start = start
			running[i] = start
			emit(opts, Event{Node: w.nodes[i], Kind: Started, Time: start})
			eg.Go(func() error {
				done <- runOne(ctx, i, w.nodes[i], opts, now, task)
				return nil
			})
		}
		if len(running) == 0 {
			break
		}
		select {
		case o := <-done:
			delete(running, o.i)
			r := &results[o.i]
			r.Value, r.Err, r.Status, r.End = o.value, o.err, o.status, o.end
			emit(opts, Event{Node: r.Node, Kind: Ended, Time: o.end, Status: o.status, Err: o.err})
			switch o.status {
			case Succeeded:
				for _, s := range w.succs[o.i] {
					w.waiting[s]--
					if w.waiting[s] == 0 && len(w.failedBy[s]) == 0 {
						heap.Push(ready, s)
					}
				}
			case Failed:
				for _, s := range w.skipDependents(o.i) {
					emit(opts, Event{Node: w.nodes[s], Kind: Ended, Time: o.end, Status: Skipped, FailedDeps: []string{r.Node}})
				}
				if opts.FailFast && stopErr == nil {
					stopErr = ErrFailFast
				}
			}
		case <-ctxDone:
			ctxDone = nil
		case <-tick:
			heartbeat(now(), opts, running, w.nodes)
		}
	}
	// Every goroutine has sent its outcome; Wait only joins them.
	_ = eg.Wait()

	if stopErr == nil && ctx.Err() != nil {
		stopErr = context.Cause(ctx)
	}
	for i := range results {
		switch {
		case len(w.failedBy[i]) > 0:
			slices.Sort(w.failedBy[i])
			results[i].Status = Skipped
			for _, f := range w.failedBy[i] {
				results[i].FailedDeps = append(results[i].FailedDeps, w.nodes[f])
			}
		case results[i].Status == NotStarted:
			results[i].Err = stopErr
		}
	}
	return results, nil
}

// runOne runs the task of one node with its output attached and classifies
// the result.
func runOne[T any](ctx context.Context, i int, node string, opts Options, now func() time.Time, task Task[T]) outcome[T] {
	o := outcome[T]{i: i}
	out, err := openOutput(node, opts.Logs, opts.Console)
	if err == nil {
		o.value, err = task(ctx, node, out)
		if cerr := out.close(statusOf(ctx, err)); cerr != nil && err == nil {
			err = cerr
		}
	}
	o.err = err
	o.status = statusOf(ctx, err)
	o.end = now()
	return o
}

func statusOf(ctx context.Context, err error) Status {
	switch {
	case err == nil:
		return Succeeded
	case ctx.Err() != nil:
		return Interrupted
	default:
		return Failed
	}
}

func heartbeat(now time.Time, opts Options, running map[int]time.Time, nodes []string) {
	var long []int
	for i, since := range running {
		if now.Sub(since) >= opts.Heartbeat {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return
	}
	slices.Sort(long)
	named := make([]Running, len(long))
	for k, i := range long {
		named[k] = Running{Node: nodes[i], Since: running[i]}
	}
	opts.OnHeartbeat(now, named)
}

// walk is the graph as indices: predecessors counted, successors listed.
type walk struct {
	nodes    []string
	succs    [][]int
	waiting  []int   // unfinished predecessors per node
	failedBy [][]int // failed nodes each node transitively depends on
}

// newWalk indexes g and checks it: O(V+E).
func newWalk(g Graph) (*walk, error) {
	nodes := g.Nodes()
	index := make(map[string]int, len(nodes))
	for i, name := range nodes {
		if _, dup := index[name]; dup {
			return nil, fmt.Errorf("scheduler: node %q listed twice", name)
		}
		index[name] = i
	}
	w := &walk{
		nodes:    nodes,
		succs:    make([][]int, len(nodes)),
		waiting:  make([]int, len(nodes)),
		failedBy: make([][]int, len(nodes)),
	}
	for i, name := range nodes {
		seen := map[int]bool{}
		for _, p := range g.Predecessors(name) {
			j, ok := index[p]
			if !ok {
				return nil, fmt.Errorf("scheduler: node %q depends on %q, which is not in the graph", name, p)
			}
			if seen[j] {
				continue
			}
			seen[j] = true
			w.succs[j] = append(w.succs[j], i)
			w.waiting[i]++
		}
	}
	// Kahn's algorithm on a copy of the counters: anything left is on a
	// cycle, which would otherwise leave Run with nodes that never start.
	left := slices.Clone(w.waiting)
	var queue []int
	for i, c := range left {
		if c == 0 {
			queue = append(queue, i)
		}
	}
	visited := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		visited++
		for _, s := range w.succs[i] {
			left[s]--
			if left[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	if visited < len(nodes) {
		var cyclic []string
		for i, c := range left {
			if c > 0 {
				cyclic = append(cyclic, nodes[i])
			}
		}
		return nil, fmt.Errorf("scheduler: the graph has a cycle through %q", cyclic)
	}
	return w, nil
}

// skipDependents records the failed node f as a failed dependency of
// every node reachable from it; those nodes can never become ready. It
// returns the nodes that were not skipped before, in graph order.
func (w *walk) skipDependents(f int) (newly []int) {
	stack := slices.Clone(w.succs[f])
	seen := map[int]bool{}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		if len(w.failedBy[i]) == 0 {
			newly = append(newly, i)
		}
		if !slices.Contains(w.failedBy[i], f) {
			w.failedBy[i] = append(w.failedBy[i], f)
		}
		stack = append(stack, w.succs[i]...)
	}
	slices.Sort(newly)
	return newly
}

func emit(opts Options, e Event) {
	if opts.OnEvent != nil {
		opts.OnEvent(e)
	}
}

// minHeap is a priority queue of node indices, lowest first.
type minHeap []int

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
