package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/scheduler"
)

// fake is a task whose every node blocks until the test releases it, so
// tests drive the scheduler step by step without sleeping. It fails the
// test if more tasks than limit ever run at once.
type fake struct {
	t       *testing.T
	limit   int32
	started chan string
	mu      sync.Mutex
	release map[string]chan error
	running atomic.Int32
	// ignoreCancel makes tasks wait for their release even after the
	// context is cancelled, like a command finishing its last step.
	ignoreCancel bool
}

func newFake(t *testing.T, limit int) *fake {
	return &fake{t: t, limit: int32(limit), started: make(chan string, 100), release: map[string]chan error{}}
}

func (f *fake) ch(node string) chan error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.release[node] == nil {
		f.release[node] = make(chan error, 1)
	}
	return f.release[node]
}

func (f *fake) task(ctx context.Context, node string, out io.Writer) (string, error) {
	if n := f.running.Add(1); n > f.limit {
		f.t.Errorf("%d tasks running at once, limit %d", n, f.limit)
	}
	defer f.running.Add(-1)
	fmt.Fprintf(out, "%s working\n", node)
	f.started <- node
	if f.ignoreCancel {
		return "v-" + node, <-f.ch(node)
	}
	select {
	case err := <-f.ch(node):
		return "v-" + node, err
	case <-ctx.Done():
		return "v-" + node, ctx.Err()
	}
}

// expectStart waits for the next nodes to start and checks which they are;
// nodes started together may reach their tasks in any order.
func (f *fake) expectStart(want ...string) {
	f.t.Helper()
	var got []string
	for range want {
		select {
		case name := <-f.started:
			got = append(got, name)
		case <-time.After(10 * time.Second):
			f.t.Fatalf("timed out waiting for %q to start, got %q", want, got)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("started nodes (-want +got):\n%s", diff)
	}
}

func (f *fake) finish(node string, err error) { f.ch(node) <- err }

// runAsync runs the scheduler in the background and returns a function
// waiting for its results.
func runAsync(ctx context.Context, g scheduler.Graph, opts scheduler.Options, f *fake) func() []scheduler.Result[string] {
	type ret struct {
		rs  []scheduler.Result[string]
		err error
	}
	c := make(chan ret, 1)
	go func() {
		rs, err := scheduler.Run(ctx, g, opts, f.task)
		c <- ret{rs, err}
	}()
	return func() []scheduler.Result[string] {
		f.t.Helper()
		select {
		case r := <-c:
			if r.err != nil {
				f.t.Fatalf("Run: %v", r.err)
			}
			return r.rs
		case <-time.After(10 * time.Second):
			f.t.Fatal("timed out waiting for Run to return")
			return nil
		}
	}
}

// brief is the comparable part of a Result.
type brief struct {
	Node       string
	Status     string
	Value      string
	Err        string
	FailedDeps []string
}

func briefs(rs []scheduler.Result[string]) []brief {
	var out []brief
	for _, r := range rs {
		b := brief{Node: r.Node, Status: r.Status.String(), Value: r.Value, FailedDeps: r.FailedDeps}
		if r.Err != nil {
			b.Err = r.Err.Error()
		}
		out = append(out, b)
	}
	return out
}

func TestParallelismIsBounded(t *testing.T) {
	g := scheduler.Deps{Order: []string{"a", "b", "c", "d", "e"}}
	f := newFake(t, 2)
	wait := runAsync(t.Context(), g, scheduler.Options{Parallel: 2}, f)
	f.expectStart("a", "b")
	f.finish("b", nil)
	f.expectStart("c") // the freed slot goes to the next node in order
	f.finish("a", nil)
	f.expectStart("d")
	f.finish("c", nil)
	f.expectStart("e")
	f.finish("d", nil)
	f.finish("e", nil)
	got := briefs(wait())
	for _, b := range got {
		if b.Status != "succeeded" || b.Value != "v-"+b.Node {
			t.Errorf("%s: %+v, want succeeded with its value", b.Node, b)
		}
	}
}

func TestNodeStartsAfterItsPredecessors(t *testing.T) {
	// d needs b and c, which both need a.
	g := scheduler.Deps{
		Order: []string{"a", "b", "c", "d"},
		After: map[string][]string{"b": {"a"}, "c": {"a"}, "d": {"b", "c"}},
	}
	f := newFake(t, 4)
	wait := runAsync(t.Context(), g, scheduler.Options{Parallel: 4}, f)
	f.expectStart("a")
	f.finish("a", nil)
	f.expectStart("b", "c")
	f.finish("c", nil)
	f.finish("b", nil)
	f.expectStart("d")
	f.finish("d", nil)
	wait()
}

func TestFailureSkipsDependentsOnly(t *testing.T) {
	// a fails: b and c (through b) are skipped naming a; d is independent;
	// e depends on both failed a and failed d.
	g := scheduler.Deps{
		Order: []string{"a", "d", "b", "c", "e", "f"},
		After: map[string][]string{"b": {"a"}, "c": {"b"}, "e": {"a", "d", "b"}, "f": {"d"}},
	}
	f := newFake(t, 1)
	wait := runAsync(t.Context(), g, scheduler.Options{Parallel: 1}, f)
	f.expectStart("a")
	f.finish("a", errors.New("boom"))
	f.expectStart("d")
	f.finish("d", errors.New("bang"))
	got := briefs(wait())
	want := []brief{
		{Node: "a", Status: "failed", Value: "v-a", Err: "boom"},
		{Node: "d", Status: "failed", Value: "v-d", Err: "bang"},
		{Node: "b", Status: "skipped", FailedDeps: []string{"a"}},
		{Node: "c", Status: "skipped", FailedDeps: []string{"a"}},
		{Node: "e", Status: "skipped", FailedDeps: []string{"a", "d"}},
		{Node: "f", Status: "skipped", FailedDeps: []string{"d"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestIndependentNodesGoOnAfterFailure(t *testing.T) {
	g := scheduler.Deps{Order: []string{"a", "b", "c"}, After: map[string][]string{"c": {"b"}}}
	f := newFake(t, 1)
	wait := runAsync(t.Context(), g, scheduler.Options{Parallel: 1}, f)
	f.expectStart("a")
	f.finish("a", errors.New("boom"))
	f.expectStart("b")
	f.finish("b", nil)
	f.expectStart("c")
	f.finish("c", nil)
	got := briefs(wait())
	want := []brief{
		{Node: "a", Status: "failed", Value: "v-a", Err: "boom"},
		{Node: "b", Status: "succeeded", Value: "v-b"},
		{Node: "c", Status: "succeeded", Value: "v-c"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestFailFastLetsRunningTasksFinish(t *testing.T) {
	g := scheduler.Deps{
		Order: []string{"a", "b", "c", "d"},
		After: map[string][]string{"d": {"a"}},
	}
	f := newFake(t, 2)
	ended := make(chan string, 10)
	opts := scheduler.Options{Parallel: 2, FailFast: true, OnEvent: func(e scheduler.Event) {
		if e.Kind == scheduler.Ended {
			ended <- e.Node + " " + e.Status.String()
		}
	}}
	wait := runAsync(t.Context(), g, opts, f)
	f.expectStart("a", "b")
	f.finish("a", errors.New("boom"))
	// Once the scheduler has seen the failure (and skipped d)...
	for _, want := range []string{"a failed", "d skipped"} {
		if got := receive(t, ended, want); got != want {
			t.Fatalf("event %q, want %q", got, want)
		}
	}
	// b is running and must finish normally; c never starts.
	f.finish("b", nil)
	got := briefs(wait())
	want := []brief{
		{Node: "a", Status: "failed", Value: "v-a", Err: "boom"},
		{Node: "b", Status: "succeeded", Value: "v-b"},
		{Node: "c", Status: "not started", Err: scheduler.ErrFailFast.Error()},
		{Node: "d", Status: "skipped", FailedDeps: []string{"a"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if len(f.started) != 0 {
		t.Errorf("%q started after the failure", <-f.started)
	}
}

func TestCancelStopsSchedulingAndInterruptsRunning(t *testing.T) {
	g := scheduler.Deps{
		Order: []string{"a", "b", "c", "d"},
		After: map[string][]string{"c": {"a"}, "d": {"b"}},
	}
	f := newFake(t, 2)
	ctx, cancel := context.WithCancelCause(t.Context())
	wait := runAsync(ctx, g, scheduler.Options{Parallel: 2}, f)
	f.expectStart("a", "b")
	f.finish("b", nil)
	f.expectStart("d")
	cancel(errors.New("interrupt signal"))
	got := briefs(wait())
	want := []brief{
		{Node: "a", Status: "interrupted", Value: "v-a", Err: "context canceled"},
		{Node: "b", Status: "succeeded", Value: "v-b"},
		{Node: "c", Status: "not started", Err: "interrupt signal"},
		{Node: "d", Status: "interrupted", Value: "v-d", Err: "context canceled"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestCancelledTaskThatCompletesSucceeds(t *testing.T) {
	g := scheduler.Deps{Order: []string{"a", "b"}}
	f := newFake(t, 1)
	f.ignoreCancel = true
	ctx, cancel := context.WithCancel(t.Context())
	wait := runAsync(ctx, g, scheduler.Options{Parallel: 1}, f)
	f.expectStart("a")
	cancel()
	f.finish("a", nil)
	got := briefs(wait())
	want := []brief{
		{Node: "a", Status: "succeeded", Value: "v-a"},
		{Node: "b", Status: "not started", Err: "context canceled"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestCancelledBeforeStartRunsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rs, err := scheduler.Run(ctx, scheduler.Deps{Order: []string{"a"}}, scheduler.Options{},
		func(context.Context, string, io.Writer) (int, error) {
			t.Error("task ran after cancellation")
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != scheduler.NotStarted || !errors.Is(rs[0].Err, context.Canceled) {
		t.Errorf("got %v %v, want not started with context.Canceled", rs[0].Status, rs[0].Err)
	}
}

// clock is a fake time source the test advances by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestStartAndEndTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := &clock{t: t0}
	g := scheduler.Deps{Order: []string{"a", "b"}, After: map[string][]string{"b": {"a"}}}
	f := newFake(t, 1)
	wait := runAsync(t.Context(), g, scheduler.Options{Parallel: 1, Now: clk.Now}, f)
	f.expectStart("a")
	clk.Advance(time.Minute)
	f.finish("a", nil)
	f.expectStart("b")
	clk.Advance(time.Second)
	f.finish("b", nil)
	rs := wait()
	type times struct{ Start, End time.Time }
	got := []times{{rs[0].Start, rs[0].End}, {rs[1].Start, rs[1].End}}
	want := []times{{t0, t0.Add(time.Minute)}, {t0.Add(time.Minute), t0.Add(time.Minute + time.Second)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("times (-want +got):\n%s", diff)
	}
	if d := rs[1].Duration(); d != time.Second {
		t.Errorf("b ran %v, want 1s", d)
	}
}

func TestHeartbeatNamesLongRunningNodes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	beats := make(chan []string, 100)
	opts := scheduler.Options{
		Parallel:  2,
		Now:       clk.Now,
		Heartbeat: time.Millisecond, // the real ticker only polls; the fake clock decides
		OnHeartbeat: func(_ time.Time, running []scheduler.Running) {
			var names []string
			for _, r := range running {
				names = append(names, r.Node)
			}
			select {
			case beats <- names:
			default: // the test reads only the first few
			}
		},
	}
	g := scheduler.Deps{Order: []string{"a", "b"}}
	f := newFake(t, 2)
	wait := runAsync(t.Context(), g, opts, f)
	f.expectStart("a", "b")
	clk.Advance(time.Millisecond)
	// Heartbeats name both nodes once they have run a millisecond.
	select {
	case got := <-beats:
		if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
			t.Errorf("heartbeat (-want +got):\n%s", diff)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat")
	}
	f.finish("a", nil)
	f.finish("b", nil)
	wait()
}

func TestHeartbeatSilentForShortNodes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts := scheduler.Options{
		Parallel:  1,
		Now:       clk.Now,
		Heartbeat: time.Millisecond,
		OnHeartbeat: func(_ time.Time, running []scheduler.Running) {
			t.Errorf("heartbeat named %v, which ran for no time on the fake clock", running)
		},
	}
	f := newFake(t, 1)
	wait := runAsync(t.Context(), scheduler.Deps{Order: []string{"a"}}, opts, f)
	f.expectStart("a")
	f.finish("a", nil)
	wait()
}

func TestInvalidGraph(t *testing.T) {
	tests := []struct {
		name string
		g    scheduler.Deps
		want string
	}{
		{"duplicate", scheduler.Deps{Order: []string{"a", "a"}}, `scheduler: node "a" listed twice`},
		{"unknown", scheduler.Deps{Order: []string{"a"}, After: map[string][]string{"a": {"x"}}},
			`scheduler: node "a" depends on "x", which is not in the graph`},
		{"self", scheduler.Deps{Order: []string{"a"}, After: map[string][]string{"a": {"a"}}},
			`scheduler: the graph has a cycle through ["a"]`},
		{"cycle", scheduler.Deps{
			Order: []string{"a", "b", "c", "d"},
			After: map[string][]string{"b": {"a", "c"}, "c": {"b"}, "d": {"c"}},
		}, `scheduler: the graph has a cycle through ["b" "c" "d"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scheduler.Run(t.Context(), tt.g, scheduler.Options{},
				func(context.Context, string, io.Writer) (int, error) {
					t.Error("task ran on an invalid graph")
					return 0, nil
				})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

func TestDuplicatePredecessorsCountOnce(t *testing.T) {
	g := scheduler.Deps{Order: []string{"a", "b"}, After: map[string][]string{"b": {"a", "a"}}}
	rs, err := scheduler.Run(t.Context(), g, scheduler.Options{Parallel: 1},
		func(context.Context, string, io.Writer) (bool, error) { return true, nil })
	if err != nil {
		t.Fatal(err)
	}
	got := []string{rs[0].Status.String(), rs[1].Status.String()}
	if diff := cmp.Diff([]string{"succeeded", "succeeded"}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestManyNodesUnderRace(t *testing.T) {
	// A wide, deep graph with real concurrency: every node must start after
	// its predecessors ended, and all must succeed.
	const n = 300
	g := scheduler.Deps{After: map[string][]string{}}
	for i := range n {
		name := fmt.Sprintf("n%03d", i)
		g.Order = append(g.Order, name)
		if i >= 3 {
			g.After[name] = []string{fmt.Sprintf("n%03d", i/3), fmt.Sprintf("n%03d", i-1)}
		}
	}
	var mu sync.Mutex
	ended := map[string]bool{}
	rs, err := scheduler.Run(t.Context(), g, scheduler.Options{Parallel: 4},
		func(_ context.Context, node string, out io.Writer) (int, error) {
			mu.Lock()
			for _, p := range g.After[node] {
				if !ended[p] {
					t.Errorf("%s started before %s ended", node, p)
				}
			}
			mu.Unlock()
			fmt.Fprintln(out, node)
			mu.Lock()
			ended[node] = true
			mu.Unlock()
			return len(node), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, r := range rs {
		statuses[r.Status.String()]++
	}
	if diff := cmp.Diff(map[string]int{"succeeded": n}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}
