package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/testenv"
)

// These tests break what tmci depends on while it runs: terraform dies,
// the state database goes away, another run holds the state lock, the
// work directory's disk fills up. Each checks that tmci says what went
// wrong, exits 1, and leaves a complete report (or, when it cannot write
// one, none at all).

// writeTree writes files (project paths to contents) below root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(name)), content)
	}
}

// slowStack is the main.tf of a stack whose apply touches marker once
// its provisioner runs, then waits until release exists (at most a
// minute), so a test can act while terraform holds the stack's state.
func slowStack(backend, marker, release string) string {
	return fmt.Sprintf(`terraform {
  backend %q {}
}
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch %s; i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
  }
}
`, backend, marker, release)
}

// slowProject writes a project below a new root: files, plus the stack
// /slow (running after the stacks in after) whose apply waits, with
// backend, between marker and release (see slowStack).
func slowProject(t *testing.T, backend string, after []string, files map[string]string) (root, marker, release string) {
	t.Helper()
	root = t.TempDir()
	marker, release = filepath.Join(root, "applying"), filepath.Join(root, "release")
	t.Cleanup(func() { os.WriteFile(release, nil, 0o644) }) // ends a provisioner left behind
	quoted := make([]string, len(after))
	for i, a := range after {
		quoted[i] = strconv.Quote(a)
	}
	files["terramate.tm.hcl"] = "terramate {\n  config {\n  }\n}\n"
	files["slow/stack.tm"] = "stack {\n  after = [" + strings.Join(quoted, ", ") + "]\n}\n"
	files["slow/main.tf"] = slowStack(backend, marker, release)
	writeTree(t, root, files)
	return root, marker, release
}

// waitFile waits until path exists, failing the test after a minute or
// when done is closed first (the run ended without getting there).
func waitFile(t *testing.T, path string, done <-chan struct{}) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("the run ended before %s appeared", path)
		case <-deadline:
			t.Fatalf("%s did not appear within a minute", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// processes returns the pids of the processes for which match holds,
// read from /proc.
func processes(t *testing.T, match func(pid int) bool) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		testenv.Missing(t, "no /proc to list processes (these tests need Linux): %v", err)
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// terraformIn returns the pids of the processes running bin with dir as
// their working directory.
func terraformIn(t *testing.T, bin, dir string) []int {
	t.Helper()
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	return processes(t, func(pid int) bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		return exe == want && cwd == dir
	})
}

// processesWith returns the pids of the processes whose command line
// holds s.
func processesWith(t *testing.T, s string) []int {
	t.Helper()
	return processes(t, func(pid int) bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return bytes.Contains(cmdline, []byte(s))
	})
}

// asyncRun is tmci running in the background; done closes when it ends,
// after which code and output are set.
type asyncRun struct {
	done           chan struct{}
	code           int
	stdout, stderr string
}

func startTmci(t *testing.T, env map[string]string, args ...string) *asyncRun {
	r := &asyncRun{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code, r.stdout, r.stderr = tmciCode(t.Context(), env, args...)
	}()
	t.Cleanup(func() { <-r.done })
	return r
}

// TestFaultTerraformKilled: terraform is killed with SIGKILL in the middle
// of an apply, as the OOM killer would. The stack fails, the stack after
// it is skipped naming it, an independent stack finishes, and the run
// ends without waiting for the killed terraform's provisioner.
func TestFaultTerraformKilled(t *testing.T) {
	bin := findTool(t, tools[0])
	root, marker, _ := slowProject(t, "local", nil, map[string]string{
		"after/stack.tm": "stack {\n  after = [\"/slow\"]\n}\n",
		"after/main.tf":  "resource \"terraform_data\" \"after\" {}\n",
		"indep/stack.tm": "stack {}\n",
		"indep/main.tf":  "resource \"terraform_data\" \"indep\" {}\n",
	})
	env := runEnv(t, bin, nil)
	start := time.Now()
	r := startTmci(t, env, "-C", root, "apply", "--log-mode=quiet", "--parallel=2")
	waitFile(t, marker, r.done)
	pids := terraformIn(t, bin, filepath.Join(root, "slow"))
	if len(pids) != 1 {
		t.Fatalf("found %d terraform processes applying /slow, want 1: %v", len(pids), pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
	out := r.stdout + r.stderr
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, out)
	}
	// The provisioner's shell outlives terraform and holds its output
	// pipe; tmci must not wait for it (up to a minute) to end the run.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %v after terraform was killed", d)
	}
	if !strings.Contains(out, "skipped (/slow failed)") {
		t.Errorf("the summary does not name the killed stack:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "default", "report.json"))
	want := map[string]string{"/slow": "failed", "/after": "skipped", "/indep": "succeeded"}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if rep.ExitCode != 1 || rep.Totals.Failed != 1 || rep.Totals.Skipped != 1 || rep.Totals.Succeeded != 1 {
		t.Errorf("report: exit %d totals %+v", rep.ExitCode, rep.Totals)
	}
	for _, s := range rep.Stacks {
		switch s.Path {
		case "/slow":
			if !strings.Contains(s.Error, "killed") {
				t.Errorf("/slow's error does not say terraform was killed: %q", s.Error)
			}
		case "/after":
			if diff := cmp.Diff([]string{"/slow"}, s.FailedDependencies); diff != "" {
				t.Errorf("/after's failed dependencies (-want +got):\n%s", diff)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, "indep", "terraform.tfstate")); err != nil {
		t.Errorf("the independent stack was not applied: %v", err)
	}
	// Nothing the killed terraform started outlives the run (SIGKILL
	// takes a moment to land; the provisioner would run a minute).
	left := processesWith(t, marker)
	for deadline := time.Now().Add(2 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = processesWith(t, marker) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("the killed terraform's provisioner still runs: %v", left)
	}
}

// localTemplate gives each (stack, environment) a local state file under
// the project root, shared by every run in the checkout whatever its
// work directory.
const localTemplate = `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "staging" {}
`

// TestFaultConcurrentRuns: two tmci runs apply one environment at once,
// as two CI jobs with their own work directories would. terraform's state
// lock holds: the second run fails at once with --lock-timeout=0s, naming
// the lock the first holds, and the first completes.
func TestFaultConcurrentRuns(t *testing.T) {
	bin := findTool(t, tools[0])
	root, marker, release := slowProject(t, "local", nil, map[string]string{"tmci.hcl": localTemplate})
	env := runEnv(t, bin, nil)
	first := startTmci(t, env, "-C", root, "apply", "--env=staging", "--log-mode=quiet")
	waitFile(t, marker, first.done)
	lockInfo, err := os.ReadFile(filepath.Join(root, ".tmci-state", "staging", "slow", ".terraform.tfstate.lock.info"))
	if err != nil {
		t.Fatalf("the first run holds no state lock: %v", err)
	}
	var lock struct{ ID, Operation, Who string }
	if err := json.Unmarshal(lockInfo, &lock); err != nil || lock.ID == "" {
		t.Fatalf("lock info %s: %v", lockInfo, err)
	}

	work2 := t.TempDir()
	out := tmciWant(t, 1, env, "-C", root, "apply", "--env=staging", "--log-mode=stream", "--lock-timeout=0s", "--work-dir="+work2)
	for _, want := range []string{"Error acquiring the state lock", "Lock Info:", "ID:        " + lock.ID, "Who:       " + lock.Who, "Operation: " + lock.Operation} {
		if !strings.Contains(out, want) {
			t.Errorf("the second run's output lacks %q:\n%s", want, out)
		}
	}
	rep := readReport(t, filepath.Join(work2, "staging", "report.json"))
	if diff := cmp.Diff(map[string]string{"/slow": "failed"}, statuses(rep)); diff != "" || rep.ExitCode != 1 {
		t.Errorf("second run: exit %d, statuses (-want +got):\n%s", rep.ExitCode, diff)
	}
	log, _ := os.ReadFile(filepath.Join(work2, "staging", "logs", "slow.log"))
	if !bytes.Contains(log, []byte(lock.ID)) {
		t.Errorf("the second run's log does not name the lock %s:\n%s", lock.ID, log)
	}

	// A run in the same work directory would share the first's data
	// directory, log and report: tmci refuses it, naming the first.
	code, stdout, stderr := tmciCode(t.Context(), env, "-C", root, "apply", "--env=staging", "--log-mode=quiet", "--lock-timeout=0s")
	if want := fmt.Sprintf("another tmci run (pid %d, tmci apply, since ", os.Getpid()); code != 1 || stdout != "" || !strings.Contains(stderr, want) || !strings.Contains(stderr, "own --work-dir") {
		t.Errorf("a run in the same work directory: exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
	}

	select {
	case <-first.done:
		t.Fatalf("the first run ended while it held the lock: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	default:
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	<-first.done
	if first.code != 0 {
		t.Fatalf("the first run: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	log, _ = os.ReadFile(filepath.Join(root, ".tmci", "staging", "logs", "slow.log"))
	if !bytes.Contains(log, []byte("Apply complete!")) || bytes.Contains(log, []byte("Error")) || bytes.IndexByte(log, 0) >= 0 {
		t.Errorf("the first run's log is not its own, whole:\n%q", log)
	}
	if rep := readReport(t, filepath.Join(root, ".tmci", "staging", "report.json")); rep.ExitCode != 0 {
		t.Errorf("the first run's report says exit %d", rep.ExitCode)
	}
	if st := localState(t, root, "staging", "/slow"); !strings.Contains(st, `"terraform_data"`) {
		t.Errorf("the first run's state holds no terraform_data:\n%s", st)
	}
}

// privatePostgres starts a PostgreSQL server for one test, as
// .ci/postgres.sh does for the whole suite, on a free port, and returns
// the connection string of its postgres database and functions that stop
// it (fast shutdown: sessions are ended, as when a database is
// restarted) and start it again. The server is stopped and removed when
// the test ends.
func privatePostgres(t *testing.T) (conn string, stop, start func()) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	runuser, err := exec.LookPath("runuser")
	_, noUser := user.Lookup("postgres")
	if len(bins) == 0 || err != nil || noUser != nil || os.Geteuid() != 0 {
		testenv.Missing(t, "a private PostgreSQL needs root, runuser, the user postgres and the server binaries in /usr/lib/postgresql/*/bin (see .ci/postgres.sh)")
	}
	pgbin := filepath.Dir(bins[len(bins)-1])
	// The server runs as postgres, who cannot enter t.TempDir().
	data, err := os.MkdirTemp("", "tmci-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	asPostgres := func(name string, args ...string) error {
		out, err := exec.Command(runuser, append([]string{"-u", "postgres", "--", filepath.Join(pgbin, name)}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if out, err := exec.Command("chown", "postgres", data).CombinedOutput(); err != nil {
		testenv.Missing(t, "%s", fmt.Sprintf("chown postgres %s: %v %s", data, err, out))
	}
	if err := asPostgres("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off", port, data)
	running := false
	start = func() {
		if err := asPostgres("pg_ctl", "-D", data, "-l", filepath.Join(data, "log"), "-w", "-o", opts, "start"); err != nil {
			t.Fatal(err)
		}
		running = true
	}
	stop = func() {
		if running {
			running = false
			if err := asPostgres("pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
				t.Error(err)
			}
		}
	}
	start()
	t.Cleanup(stop)
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), stop, start
}

// TestFaultPostgresStopped: the pg backend's server stops while a stack
// applies. The stack fails with terraform's error in its log and report,
// the stack after it is skipped, and report.json is complete.
func TestFaultPostgresStopped(t *testing.T) {
	bin := findTool(t, tools[0])
	conn, stop, start := privatePostgres(t)
	root, marker, release := slowProject(t, "pg", []string{"/a", "/b"}, map[string]string{
		"tmci.hcl":     pgTemplate,
		"a/stack.tm":   "stack {}\n",
		"a/main.tf":    "terraform {\n  backend \"pg\" {}\n}\nresource \"terraform_data\" \"a\" {}\n",
		"b/stack.tm":   "stack {}\n",
		"b/main.tf":    "terraform {\n  backend \"pg\" {}\n}\nresource \"terraform_data\" \"b\" {}\n",
		"dep/stack.tm": "stack {\n  after = [\"/slow\"]\n}\n",
		"dep/main.tf":  "terraform {\n  backend \"pg\" {}\n}\nresource \"terraform_data\" \"dep\" {}\n",
	})
	env := runEnv(t, bin, map[string]string{"STATE_DB": conn})
	r := startTmci(t, env, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet", "--parallel=2")
	waitFile(t, marker, r.done)
	stop()
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	<-r.done
	out := r.stdout + r.stderr
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	want := map[string]string{"/a": "succeeded", "/b": "succeeded", "/slow": "failed", "/dep": "skipped"}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if rep.ExitCode != 1 || len(rep.Stacks) != 4 || rep.Totals.Stacks != 4 {
		t.Errorf("report: exit %d, %d stacks, totals %+v", rep.ExitCode, len(rep.Stacks), rep.Totals)
	}
	// terraform saved the state it could not write in the stack, and
	// tmci says where and what to do with it.
	errored, err := os.ReadFile(filepath.Join(root, "slow", "errored.tfstate"))
	if err != nil || !bytes.Contains(errored, []byte(`"terraform_data"`)) {
		t.Errorf("slow/errored.tfstate: %v\n%s", err, errored)
	}
	for _, s := range rep.Stacks {
		if s.Path != "/slow" {
			continue
		}
		if !strings.Contains(s.Error, "saved it in slow/errored.tfstate") || !strings.Contains(s.Error, "tmci exec --env=pr-1 -- terraform state push errored.tfstate") {
			t.Errorf("/slow's error does not point at the saved state: %q", s.Error)
		}
		log, _ := os.ReadFile(filepath.Join(root, s.Log))
		for _, want := range []string{"connection refused", "Failed to persist state to backend"} {
			if !bytes.Contains(log, []byte(want)) {
				t.Errorf("/slow's log lacks %q:\n%s", want, log)
			}
		}
	}
	for _, s := range rep.Stacks {
		if s.Path == "/dep" && (len(s.FailedDependencies) != 1 || s.FailedDependencies[0] != "/slow") {
			t.Errorf("/dep: failed dependencies %v", s.FailedDependencies)
		}
	}
	// The advice works: with the server back, the saved state is pushed
	// and the database holds the resource again.
	start()
	db := pgtest.Open(t, conn)
	state := func() string {
		var data string
		err := db.QueryRow(`SELECT data FROM "pr-1_slow".states WHERE name = 'default'`).Scan(&data)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("the state of /slow in pr-1: %v", err)
		}
		return data
	}
	if data := state(); strings.Contains(data, `"terraform_data"`) {
		t.Fatalf("the failed apply wrote its state after all:\n%s", data)
	}
	tmciWant(t, 0, env, "-C", filepath.Join(root, "slow"), "exec", "--env=pr-1", "--", bin, "state", "push", "errored.tfstate")
	if data := state(); !strings.Contains(data, `"terraform_data"`) {
		t.Errorf("after state push, the state of /slow in pr-1 holds no terraform_data:\n%s", data)
	}
}

// TestFaultDiskFull: the work directory's file system fills up while
// stacks write their logs. tmci says so and exits 1, and leaves no
// report.json rather than a partial one. The test mounts a small tmpfs,
// so it needs root and the right to mount; elsewhere it skips.
func TestFaultDiskFull(t *testing.T) {
	work := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", work).CombinedOutput(); err != nil {
		testenv.Unprivileged(t, "cannot mount a 256 KiB tmpfs to fill: run the test as root with the right to mount: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", work).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", work, err, out)
		}
	})
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
		"a/stack.tm":       "stack {}\n",
		"b/stack.tm":       "stack {}\n",
	})
	before := projectFiles(t, root)
	env := map[string]string{"PATH": os.Getenv("PATH")}
	// Each stack prints 200 KiB: the second log cannot fit.
	code, stdout, stderr := tmciCode(t.Context(), env, "-C", root, "run", "--work-dir="+work, "--log-mode=quiet", "--parallel=1", "--",
		"sh", "-c", "head -c 204800 /dev/zero | tr '\\0' x")
	out := stdout + stderr
	if code != 1 || !strings.Contains(out, "no space left on device") {
		t.Errorf("exit %d, want 1 and the file system's error:\n%s", code, out)
	}
	if !strings.Contains(stderr, "tmci run: no report: writing ") || strings.Contains(stderr, "tmci run: report ") {
		t.Errorf("tmci does not say it could not write report.json, or names it as written:\n%s", out)
	}
	// Without a report, the console says why the stack failed.
	if !strings.Contains(stderr, "tmci run: /b failed: write the log of /b: ") {
		t.Errorf("tmci does not say why /b failed:\n%s", out)
	}
	err := filepath.WalkDir(work, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "report.json") {
			t.Errorf("a report was left on the full disk: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, projectFiles(t, root)); diff != "" {
		t.Errorf("files in the project changed (-before +after):\n%s", diff)
	}
}
