//go:build unix

package tf_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// The interrupt tests apply a slow stack on the pg backend, with a stack
// after it, and interrupt the run while the slow stack's provisioner is
// sleeping: terraform must get exactly one interrupt, stop within the grace
// period and release its state lock; the stack after it must never start;
// a second apply must get the lock at once.

// helperEnv makes the test binary act as a tmci-like program (see
// TestMain) for TestCtrlC.
const helperEnv = "TMCI_TF_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(interruptHelper())
	}
	os.Exit(m.Run())
}

// slowProject writes the two stacks and the slow stack's backend file in a
// database of its own, and returns a runner of binName for them.
func slowProject(t *testing.T, binName string) (r *tf.Runner, p project, backendFile, conn string) {
	t.Helper()
	r = newRunner(t, requireBinary(t, binName))
	r.Grace = time.Minute // a kill would show as a run this long
	conn = newDatabase(t)
	p = project{root: t.TempDir()}
	p.work = filepath.Join(p.root, ".tmci", "pr-1")
	writeFiles(t, p.root, map[string]string{
		"stacks/slow/main.tf": `
terraform {
  backend "pg" {}
}
variable "sleep" {
  type    = number
  default = 120
}
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "echo $((6*7))-asleep; sleep ${var.sleep}"
  }
}
`,
		"stacks/after/main.tf": "resource \"terraform_data\" \"x\" {}\n",
	})
	backendFile = filepath.Join(p.work, "backend", "slow.tfbackend")
	content := fmt.Sprintf("conn_str = %q\nschema_name = \"slow\"\n", conn)
	if err := tf.WriteBackendFile(backendFile, []byte(content)); err != nil {
		t.Fatal(err)
	}
	return r, p, backendFile, conn
}

// applyBoth applies slow then after under the scheduler, as tmci apply
// will, and returns the results and when the slow apply returned. watch,
// if set, also receives the output.
func applyBoth(ctx context.Context, r *tf.Runner, p project, backendFile string, console *scheduler.Console, watch io.Writer) ([]scheduler.Result[time.Time], error) {
	g := scheduler.Deps{Order: []string{"slow", "after"}, After: map[string][]string{"after": {"slow"}}}
	opts := scheduler.Options{Parallel: 2, Logs: scheduler.LogFiles(p.logPath), Console: console}
	return scheduler.Run(ctx, g, opts, func(ctx context.Context, name string, out io.Writer) (time.Time, error) {
		s := p.stack(name, backendFile)
		s.Out = out
		if watch != nil {
			s.Out = io.MultiWriter(out, watch)
		}
		if err := r.Init(ctx, s); err != nil {
			return time.Now(), err
		}
		_, err := r.Apply(ctx, s, "")
		return time.Now(), err
	})
}

// checkInterrupted checks the outcome of an interrupted applyBoth: what the
// log of slow says, the lock, and a second apply.
func checkInterrupted(t *testing.T, r *tf.Runner, p project, backendFile, conn string, slowStart, slowReturned time.Time) {
	t.Helper()
	log, err := os.ReadFile(p.logPath("slow"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("Interrupt received")); n != 1 {
		t.Errorf("terraform saw %d interrupts, want 1:\n%s", n, log)
	}
	if bytes.Contains(log, []byte("Two interrupts received")) {
		t.Errorf("terraform got a second interrupt:\n%s", log)
	}
	if d := slowReturned.Sub(slowStart); d > 50*time.Second {
		t.Errorf("the apply took %v: it was killed, not stopped by its interrupt", d)
	}
	if _, err := os.Stat(p.logPath("after")); !os.IsNotExist(err) {
		t.Errorf("the stack after the interrupted one has a log (%v)", err)
	}
	var locks int
	err = openDB(t, conn).QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks)
	if err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Errorf("%d advisory locks left in the state database", locks)
	}
	// The runner's -lock-timeout is 0s: a held lock fails this at once.
	var out bytes.Buffer
	s := p.stack("slow", backendFile)
	s.Out = &out
	if _, err := r.Apply(t.Context(), s, "", "-var=sleep=0"); err != nil {
		t.Errorf("second apply: %v\n%s", err, out.String())
	}
}

// signalWatch is an io.Writer that closes seen once the output contains
// marker, so a test can act at a precise point of a command's run.
type signalWatch struct {
	marker string
	mu     sync.Mutex
	buf    bytes.Buffer
	seen   chan struct{}
	once   sync.Once
}

func (w *signalWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte(w.marker)) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// provisionerMarker is what the slow stack's provisioner prints once its
// shell runs. The interrupt must come after it: terraform prints its own
// "Executing:" line before it starts the shell, and a SIGINT that arrives
// while terraform forks is sometimes counted twice (with one signal sent,
// terraform and tofu then report "Two interrupts received").
const provisionerMarker = "42-asleep"

// TestInterruptReleasesLock cancels the run's context, as the first signal
// does in tmci.
func TestInterruptReleasesLock(t *testing.T) {
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			r, p, backendFile, conn := slowProject(t, binName)

			ctx, cancel := context.WithCancelCause(t.Context())
			watch := &signalWatch{marker: provisionerMarker, seen: make(chan struct{})}
			go func() {
				select {
				case <-watch.seen: // the provisioner's sleep is running
					cancel(fmt.Errorf("interrupt signal"))
				case <-time.After(2 * time.Minute):
					t.Error("the provisioner never started")
					cancel(fmt.Errorf("test timeout"))
				}
			}()
			rs, err := applyBoth(ctx, r, p, backendFile, nil, watch)
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Status != scheduler.Interrupted || rs[1].Status != scheduler.NotStarted || !rs[1].Start.IsZero() {
				t.Fatalf("slow %v (%v), after %v; want interrupted and not started", rs[0].Status, rs[0].Err, rs[1].Status)
			}
			if rs[1].Err == nil || rs[1].Err.Error() != "interrupt signal" {
				t.Errorf("after: %v, want the cause of the cancellation", rs[1].Err)
			}
			checkInterrupted(t, r, p, backendFile, conn, rs[0].Start, rs[0].Value)
		})
	}
}

// TestCtrlC runs the scheduler in a child process that stops on SIGINT the
// way tmci's main does, and sends SIGINT to the child's whole process group,
// as a terminal's Ctrl-C does. terraform runs in a group of its own, so it
// gets the one interrupt the runner forwards, not a second from the
// terminal (which would make it exit at once and could leave the lock).
func TestCtrlC(t *testing.T) {
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			r, p, backendFile, conn := slowProject(t, binName)
			bin := r.Bin

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(r.Env, helperEnv+"=1", "HELPER_BIN="+bin, "HELPER_ROOT="+p.root,
				"HELPER_WORK="+p.work, "HELPER_BACKEND="+backendFile)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the terminal's job
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			results := map[string]string{}
			var slowStart, slowReturned time.Time
			sc := bufio.NewScanner(stdout)
			sent := false
			for sc.Scan() {
				line := sc.Text()
				if strings.Contains(line, provisionerMarker) && !sent {
					sent = true
					if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
				}
				var node, status string
				var start, end int64
				if n, _ := fmt.Sscanf(line, "RESULT %s %s %d %d", &node, &status, &start, &end); n == 4 {
					results[node] = status
					if node == "slow" {
						slowStart, slowReturned = time.Unix(0, start), time.Unix(0, end)
					}
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper: %v", err)
			}
			if !sent {
				t.Fatal("the provisioner never started")
			}
			want := map[string]string{"slow": "interrupted", "after": "not_started"}
			if fmt.Sprint(results) != fmt.Sprint(want) {
				t.Fatalf("results %v, want %v", results, want)
			}
			checkInterrupted(t, r, p, backendFile, conn, slowStart, slowReturned)
		})
	}
}

// interruptHelper is the child process of TestCtrlC: it applies the slow
// project with a context that the first SIGINT cancels, streams the output
// to stdout and prints one RESULT line per stack.
func interruptHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &tf.Runner{Bin: os.Getenv("HELPER_BIN"), Env: os.Environ(), Grace: time.Minute}
	p := project{root: os.Getenv("HELPER_ROOT"), work: os.Getenv("HELPER_WORK")}
	console := scheduler.NewConsole(os.Stdout, scheduler.Stream)
	rs, err := applyBoth(ctx, r, p, os.Getenv("HELPER_BACKEND"), console, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, res := range rs {
		status := strings.ReplaceAll(res.Status.String(), " ", "_")
		fmt.Printf("RESULT %s %s %d %d\n", res.Node, status, res.Start.UnixNano(), res.Value.UnixNano())
	}
	return 0
}
