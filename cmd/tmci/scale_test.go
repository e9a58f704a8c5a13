package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmci/tmci/internal/synth"
	"github.com/tmci/tmci/internal/testenv"
)

// scaleStacksEnv sets the size of TestScale's project; bench/scale.sh
// runs it with 10,000.
const scaleStacksEnv = "TMCI_SCALE_STACKS"

// scaleRepo writes a generated project of n stacks with Terraform code
// and a tmci.hcl as a git repository: main holds it, and the branch
// change, checked out, edits the main.tf of the stacks it returns.
func scaleRepo(t *testing.T, n int) (root string, changed []string) {
	t.Helper()
	root = t.TempDir()
	o := synth.Options{Stacks: n, After: 2, TMCI: true, Terraform: true}
	if err := synth.Write(root, o); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, root, "init", "-q", "-b", "main")
	testenv.Git(t, root, "add", "-A")
	testenv.Git(t, root, "commit", "-q", "-m", "generated")
	testenv.Git(t, root, "checkout", "-q", "-b", "change")
	for _, i := range []int{0, n / 2, n - 1} {
		path := o.StackPath(i)
		appendFile(t, filepath.Join(root, filepath.FromSlash(path), "main.tf"), "# changed\n")
		changed = append(changed, strings.TrimPrefix(path, "/"))
	}
	testenv.Git(t, root, "commit", "-q", "-am", "change three stacks")
	return root, changed
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testenv.Missing(t, "no /proc/self/fd to count open files (this test needs Linux): %v", err)
	}
	return len(fds)
}

// settled waits up to two seconds for the goroutines of a finished
// command (pipe copiers, timers) to end, and returns how many are left.
func settled(limit int) int {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > limit && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// steady returns the number of goroutines once it has not changed for
// 100ms.
func steady() int {
	n := runtime.NumGoroutine()
	for stable := 0; stable < 10; stable++ {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, stable = m, 0
		}
	}
	return n
}

// TestScale runs list, list --changed, list --run-order, check and run
// over a generated project (500 stacks, or $TMCI_SCALE_STACKS) in
// process, checks each result, and checks that no command leaves a
// goroutine or an open file behind.
func TestScale(t *testing.T) {
	n := 500
	if v := os.Getenv(scaleStacksEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 {
			t.Fatalf("%s=%q: want a number of stacks, at least 3", scaleStacksEnv, v)
		}
	}
	root, changed := scaleRepo(t, n)
	env := map[string]string{"PATH": os.Getenv("PATH")}
	lines := func(s string) []string { return strings.Fields(s) }
	steps := []struct {
		args  []string
		check func(t *testing.T, stdout, stderr string)
		code  int
	}{
		{[]string{"list"}, func(t *testing.T, stdout, _ string) {
			if got := len(lines(stdout)); got != n {
				t.Errorf("list printed %d stacks, want %d", got, n)
			}
		}, 0},
		{[]string{"list", "--changed"}, func(t *testing.T, stdout, _ string) {
			want := append([]string(nil), changed...)
			if diff := cmp.Diff(want, lines(stdout)); diff != "" {
				t.Errorf("list --changed (-want +got):\n%s", diff)
			}
		}, 0},
		{[]string{"list", "--run-order"}, func(t *testing.T, stdout, _ string) {
			order := lines(stdout)
			if len(order) != n {
				t.Fatalf("list --run-order printed %d stacks, want %d", len(order), n)
			}
			// Each stack runs after the two before it in its group.
			pos := map[string]int{}
			for i, s := range order {
				pos[s] = i
			}
			o := synth.Options{Stacks: n}
			for i := 1; i < n; i++ {
				prev, cur := o.StackPath(i - 1)[1:], o.StackPath(i)[1:]
				if filepath.Dir(prev) == filepath.Dir(cur) && pos[prev] > pos[cur] {
					t.Errorf("%s runs before %s, which it runs after", cur, prev)
				}
			}
		}, 0},
		{[]string{"check", "--env=prod"}, nil, 0}, // every state isolated
		{[]string{"run", "--env=prod", "--yes", "--parallel=2", "--log-mode=quiet", "--", "true"}, func(t *testing.T, _, stderr string) {
			if want := fmt.Sprintf("%d stacks: %d succeeded", n, n); !strings.Contains(stderr, want) {
				t.Errorf("run does not say %q:\n%s", want, stderr)
			}
			rep := readReport(t, filepath.Join(root, ".tmci", "prod", "report.json"))
			if rep.Totals.Succeeded != n || len(rep.Stacks) != n {
				t.Errorf("report: %d stacks, totals %+v", len(rep.Stacks), rep.Totals)
			}
		}, 0},
		// Failures leave nothing behind either, even with change
		// detection started before the failure is known.
		{[]string{"list", "--changed", "--base=no-such-ref"}, nil, 1},
		{[]string{"run", "--env=nope", "--changed", "--", "true"}, nil, 1},
	}
	// Warm up what the runtime starts once per process (the network
	// poller's descriptors, os/exec's first child) on a small project,
	// so that only what a command leaves behind is counted.
	small, _ := scaleRepo(t, 3)
	for _, s := range steps {
		tmciCode(context.Background(), env, append([]string{"-C", small}, s.args...)...)
	}
	goroutines, files := steady(), openFiles(t)
	for _, s := range steps {
		start := time.Now()
		code, stdout, stderr := tmciCode(context.Background(), env, append([]string{"-C", root}, s.args...)...)
		took := time.Since(start)
		if code != s.code {
			t.Fatalf("tmci %s: exit %d, want %d\n%s%s", strings.Join(s.args, " "), code, s.code, stdout, stderr)
		}
		if s.check != nil {
			s.check(t, stdout, stderr)
		}
		g, f := settled(goroutines), openFiles(t)
		t.Logf("%-52s %5d stacks %8s  goroutines %d -> %d, open files %d -> %d",
			strings.Join(s.args, " "), n, took.Round(time.Millisecond), goroutines, g, files, f)
		if g > goroutines {
			buf := make([]byte, 1<<20)
			t.Errorf("tmci %s left %d goroutines behind:\n%s", strings.Join(s.args, " "), g-goroutines, buf[:runtime.Stack(buf, true)])
		}
		if f > files {
			t.Errorf("tmci %s left %d files open", strings.Join(s.args, " "), f-files)
		}
		goroutines, files = max(goroutines, g), max(files, f) // blame a leak once
	}
}
