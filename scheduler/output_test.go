package scheduler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/scheduler"
)

// scripted runs two nodes in parallel whose writes interleave in a fixed
// order: each task waits for its turn on a channel, so partial lines of one
// node are always pending while the other writes.
func scripted(t *testing.T, opts scheduler.Options) []scheduler.Result[int] {
	t.Helper()
	type step struct {
		node, text string
	}
	steps := []step{
		{"a", "hel"},
		{"b", "one\ntw"},
		{"a", "lo\nwor"},
		{"b", "o\n"},
		{"a", "ld"}, // no final newline
	}
	turn := map[string]chan int{"a": make(chan int), "b": make(chan int)}
	// next is buffered so that a task never blocks on it once the driver
	// below has given up.
	next := make(chan struct{}, len(steps))
	go func() {
		defer close(turn["b"])
		defer close(turn["a"])
		for i, s := range steps {
			// Both waits are bounded: a scheduler that does not run a and
			// b at once never takes b's first turn.
			select {
			case turn[s.node] <- i:
			case <-time.After(waitTimeout):
				t.Errorf("step %d: %s did not take its turn within %v (are a and b running at once?)", i, s.node, waitTimeout)
				return
			}
			select {
			case <-next:
			case <-time.After(waitTimeout):
				t.Errorf("step %d: %s did not finish writing within %v", i, s.node, waitTimeout)
				return
			}
		}
	}()
	g := scheduler.Deps{Order: []string{"a", "b"}}
	opts.Parallel = 2
	rs, err := scheduler.Run(t.Context(), g, opts, func(_ context.Context, node string, out io.Writer) (int, error) {
		n := 0
		for i := range turn[node] {
			fmt.Fprint(out, steps[i].text)
			n++
			next <- struct{}{}
		}
		if node == "b" {
			return n, errors.New("b broke")
		}
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestStreamPrefixesWholeLines(t *testing.T) {
	var console bytes.Buffer
	scripted(t, scheduler.Options{Console: scheduler.NewConsole(&console, scheduler.Stream)})
	// Each line appears once complete, so the order follows the script;
	// a's unfinished last line is shown when a ends.
	want := "[b] one\n[a] hello\n[b] two\n[a] world\n"
	if diff := cmp.Diff(want, console.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

func TestStreamCustomPrefix(t *testing.T) {
	var console bytes.Buffer
	c := scheduler.NewConsole(&console, scheduler.Stream)
	c.Prefix = func(node string) string { return node + " | " }
	rs, err := scheduler.Run(t.Context(), scheduler.Deps{Order: []string{"x"}}, scheduler.Options{Console: c},
		func(_ context.Context, _ string, out io.Writer) (int, error) {
			fmt.Fprint(out, "1\n\n2")
			return 0, nil
		})
	if err != nil || rs[0].Status != scheduler.Succeeded {
		t.Fatal(err, rs)
	}
	if diff := cmp.Diff("x | 1\nx | \nx | 2\n", console.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

func TestGroupedShowsEachNodeWhole(t *testing.T) {
	var console bytes.Buffer
	scripted(t, scheduler.Options{Console: scheduler.NewConsole(&console, scheduler.Grouped)})
	blocks := map[string]string{
		"a": "=== a (succeeded)\nhello\nworld\n",
		"b": "=== b (failed)\none\ntwo\n",
	}
	got := console.String()
	if got != blocks["a"]+blocks["b"] && got != blocks["b"]+blocks["a"] {
		t.Errorf("console:\n%s\nwant the blocks\n%s%s in either order", got, blocks["a"], blocks["b"])
	}
}

func TestGroupedCustomFrame(t *testing.T) {
	var console bytes.Buffer
	c := scheduler.NewConsole(&console, scheduler.Grouped)
	c.Frame = func(node string, s scheduler.Status) (string, string) {
		return "::group::" + node + " " + s.String() + "\n", "::endgroup::\n"
	}
	_, err := scheduler.Run(t.Context(), scheduler.Deps{Order: []string{"x"}}, scheduler.Options{Console: c},
		func(_ context.Context, _ string, out io.Writer) (int, error) {
			fmt.Fprint(out, "line")
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("::group::x succeeded\nline\n::endgroup::\n", console.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

func TestQuietPrintsNothingButLogsAll(t *testing.T) {
	var console bytes.Buffer
	dir := t.TempDir()
	logs := scheduler.LogFiles(func(node string) string { return filepath.Join(dir, "logs", node+".log") })
	rs := scripted(t, scheduler.Options{Console: scheduler.NewConsole(&console, scheduler.Quiet), Logs: logs})
	if console.Len() != 0 {
		t.Errorf("quiet console printed %q", console.String())
	}
	for node, want := range map[string]string{"a": "hello\nworld", "b": "one\ntwo\n"} {
		got, err := os.ReadFile(filepath.Join(dir, "logs", node+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("log of %s (-want +got):\n%s", node, diff)
		}
	}
	if rs[1].Status != scheduler.Failed || rs[1].Value != 2 {
		t.Errorf("b: %v %d, want failed after 2 writes", rs[1].Status, rs[1].Value)
	}
}

func TestLogOpenFailureFailsTheNode(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The log directory would have to be below a regular file.
	logs := scheduler.LogFiles(func(node string) string { return filepath.Join(blocker, node+".log") })
	g := scheduler.Deps{Order: []string{"a", "b"}, After: map[string][]string{"b": {"a"}}}
	rs, err := scheduler.Run(t.Context(), g, scheduler.Options{Logs: logs},
		func(context.Context, string, io.Writer) (int, error) {
			t.Error("task ran without its log")
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != scheduler.Failed || !strings.Contains(rs[0].Err.Error(), "create the log directory of a") {
		t.Errorf("a: %v %v, want failed creating its log", rs[0].Status, rs[0].Err)
	}
	if rs[1].Status != scheduler.Skipped {
		t.Errorf("b: %v, want skipped", rs[1].Status)
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]scheduler.Mode{"quiet": scheduler.Quiet, "stream": scheduler.Stream, "grouped": scheduler.Grouped} {
		got, err := scheduler.ParseMode(s)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := scheduler.ParseMode("loud"); err == nil || err.Error() != `unknown log mode "loud": use stream, grouped or quiet` {
		t.Errorf("ParseMode(loud) error = %v", err)
	}
}

func TestStreamShowsOverlongLinesInPieces(t *testing.T) {
	var console bytes.Buffer
	c := scheduler.NewConsole(&console, scheduler.Stream)
	long := strings.Repeat("x", 70<<10)
	shown := make(chan bool, 1)
	_, err := scheduler.Run(t.Context(), scheduler.Deps{Order: []string{"a"}}, scheduler.Options{Console: c},
		func(_ context.Context, _ string, out io.Writer) (int, error) {
			fmt.Fprint(out, long)
			// Console is written only under its own lock; Print takes it,
			// so reading after a Print call observes the earlier write.
			c.Print("")
			shown <- console.Len() > len(long)
			fmt.Fprint(out, "tail\n")
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if !<-shown {
		t.Error("a 70 KiB line without newline was held back until the end")
	}
	if diff := cmp.Diff("[a] "+long+"\n[a] tail\n", console.String()); diff != "" {
		t.Errorf("console differs (lengths: want %d, got %d)", len(long)+16, console.Len())
	}
}

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	var console bytes.Buffer
	dir := t.TempDir()
	c := scheduler.NewConsole(&console, scheduler.Stream)
	logs := scheduler.LogFiles(func(node string) string { return filepath.Join(dir, node+".log") })
	const lines = 200
	g := scheduler.Deps{Order: []string{"a", "b"}}
	_, err := scheduler.Run(t.Context(), g, scheduler.Options{Parallel: 2, Console: c, Logs: logs},
		func(_ context.Context, node string, out io.Writer) (int, error) {
			// Two writers per node, like a command's stdout and stderr
			// copied by separate goroutines.
			var wg sync.WaitGroup
			for _, stream := range []string{"out", "err"} {
				wg.Go(func() {
					for i := range lines {
						fmt.Fprintf(out, "%s %s line %03d\n", node, stream, i)
					}
				})
			}
			wg.Wait()
			return 0, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(console.String(), "\n"), "\n")
	if len(got) != 4*lines {
		t.Fatalf("%d console lines, want %d", len(got), 4*lines)
	}
	for _, l := range got {
		var prefix, node, stream string
		var i int
		if n, err := fmt.Sscanf(l, "%s %s %s line %d", &prefix, &node, &stream, &i); n != 4 || err != nil || prefix != "["+node+"]" {
			t.Fatalf("mangled line %q", l)
		}
	}
}

// TestHoldKeepsChatterInTheLog holds part of a node's output: dropped, it
// is only in the log; shown (a failed step), it reaches the console in
// place. Both modes keep the log complete.
func TestHoldKeepsChatterInTheLog(t *testing.T) {
	for _, mode := range []scheduler.Mode{scheduler.Stream, scheduler.Grouped} {
		for _, show := range []bool{false, true} {
			t.Run(fmt.Sprintf("mode %d show %v", mode, show), func(t *testing.T) {
				var console bytes.Buffer
				dir := t.TempDir()
				logs := scheduler.LogFiles(func(node string) string { return filepath.Join(dir, node+".log") })
				_, err := scheduler.Run(t.Context(), scheduler.Deps{Order: []string{"x"}},
					scheduler.Options{Console: scheduler.NewConsole(&console, mode), Logs: logs},
					func(_ context.Context, _ string, out io.Writer) (int, error) {
						fmt.Fprint(out, "before\npar")
						release := out.(scheduler.Holder).Hold()
						fmt.Fprint(out, "tial\ninit chatter\n")
						release(show)
						fmt.Fprint(out, "after\n")
						return 0, nil
					})
				if err != nil {
					t.Fatal(err)
				}
				log, err := os.ReadFile(filepath.Join(dir, "x.log"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff("before\npartial\ninit chatter\nafter\n", string(log)); diff != "" {
					t.Errorf("log (-want +got):\n%s", diff)
				}
				want := map[bool]string{false: "before\nparafter\n", true: "before\npartial\ninit chatter\nafter\n"}[show]
				got := console.String()
				if mode == scheduler.Stream {
					got = strings.ReplaceAll(got, "[x] ", "")
				} else {
					got = strings.TrimPrefix(got, "=== x (succeeded)\n")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("console (-want +got):\n%s", diff)
				}
			})
		}
	}
}
