package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/synth"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/report"
)

// These tests run tmci init/plan/apply/destroy/run/exec end to end, in
// process, with real terraform and tofu on terraform_data resources and
// the local and pg backends.

// runEnv is the environment a test gives tmci: a hermetic terraform CLI
// config and the binary, on top of PATH.
func runEnv(t *testing.T, bin string, extra map[string]string) map[string]string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "cli.tfrc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "TMCI_TF_BIN": bin, "TF_CLI_CONFIG_FILE": cfg, "CHECKPOINT_DISABLE": "1"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// childEnv are the variables of a test's env that the commands tmci
// starts get too, on top of the process environment, as t.Setenv would
// give them without ruling out t.Parallel. tmci itself sees the whole env.
var childEnv = []string{"TF_CLI_CONFIG_FILE", "CHECKPOINT_DISABLE", "WHO", "PROBE", "REAL_TF", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

// tmciCode runs the CLI in-process and returns its exit code and output.
func tmciCode(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	environ := func() []string {
		out := os.Environ()
		for _, k := range childEnv {
			if v, ok := env[k]; ok {
				out = append(out, k+"="+v)
			}
		}
		return out
	}
	code := run(ctx, args, &stdout, &stderr, func(k string) string { return env[k] }, environ)
	return code, stdout.String(), stderr.String()
}

// tmciWant runs the CLI and fails the test unless it exits with want.
func tmciWant(t *testing.T, want int, env map[string]string, args ...string) string {
	t.Helper()
	code, stdout, stderr := tmciCode(t.Context(), env, args...)
	if code != want {
		t.Fatalf("tmci %s: exit %d, want %d\n%s%s%s", strings.Join(args, " "), code, want, stdout, stderr, failedLogs(args))
	}
	return stdout + stderr
}

// failedLogs returns the end of every stack log that holds an error below
// the work directory of the project args name with -C, so that a failure
// says why a stack failed, not only that it did.
func failedLogs(args []string) string {
	var root string
	for i, a := range args {
		if a == "-C" && i+1 < len(args) {
			root = args[i+1]
		}
	}
	if root == "" {
		return ""
	}
	var b strings.Builder
	_ = filepath.WalkDir(filepath.Join(root, ".tmci"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte("Error")) {
			return nil
		}
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "--- %s (end)\n%s\n", p, data)
		return nil
	})
	return b.String()
}

// copyDir copies the regular files below src into dst, leaving out what
// the checkout's git ignores: a developer who followed the README in
// examples/acme has .tmci/ and .tmci-state/ there, and a test must see the
// example as committed, not those leftovers. Outside a git checkout (a
// source archive) every file is copied except tmci's and terraform's
// work directories.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	for _, rel := range sourceFiles(t, src) {
		data, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sourceFiles lists the files below src that copyDir copies, as paths
// relative to src.
func sourceFiles(t *testing.T, src string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	cmd.Dir = src
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, rel := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			// A tracked file deleted in the work tree is still listed.
			if _, err := os.Lstat(filepath.Join(src, rel)); rel != "" && err == nil {
				files = append(files, filepath.FromSlash(rel))
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == ".tmci" || d.Name() == ".tmci-state" || d.Name() == ".terraform"):
			return filepath.SkipDir
		case d.Type().IsRegular():
			rel, _ := filepath.Rel(src, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// projectFiles lists the files of root outside the work and state
// directories, to prove a run wrote nothing into the stacks.
func projectFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".tmci" || d.Name() == ".tmci-state") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readReport(t *testing.T, path string) report.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

// statuses maps each stack of a report to its status.
func statuses(rep report.Report) map[string]string {
	out := map[string]string{}
	for _, s := range rep.Stacks {
		out[s.Path] = s.Status
	}
	return out
}

// localStates returns, for every stack, what its local state file in env
// holds: the resource inputs of terraform_data, in state order.
func localState(t *testing.T, root, env, stack string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".tmci-state", env, filepath.FromSlash(strings.TrimPrefix(stack, "/")), "terraform.tfstate"))
	if err != nil {
		t.Fatalf("state of %s in %s: %v", stack, env, err)
	}
	return string(data)
}

// TestRunExamples plans, applies, re-plans and destroys the examples
// project in two environments with terraform and the local backend.
func TestRunExamples(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root := t.TempDir()
	copyDir(t, "../../examples/acme", root)
	env := runEnv(t, bin, nil)
	before := projectFiles(t, root)
	stacks := []string{}
	for _, line := range strings.Fields(tmciWant(t, 0, env, "-C", root, "list")) {
		stacks = append(stacks, "/"+line)
	}
	if len(stacks) < 10 {
		t.Fatalf("the examples project lists %d stacks", len(stacks))
	}
	envs := []string{"pr-1", "staging"}
	for _, e := range envs {
		out := tmciWant(t, 2, env, "-C", root, "plan", "--env="+e, "--detailed-exitcode", "--log-mode=quiet", "--parallel=2")
		if !strings.Contains(out, fmt.Sprintf("%d with changes", len(stacks))) {
			t.Errorf("plan %s: summary does not count every stack as changed:\n%s", e, out)
		}
		rep := readReport(t, filepath.Join(root, ".tmci", e, "report.json"))
		if rep.Command != "plan" || rep.Environment != e || rep.ExitCode != 2 || rep.Totals.Create != len(stacks) {
			t.Errorf("plan %s report: command %q env %q exit %d totals %+v", e, rep.Command, rep.Environment, rep.ExitCode, rep.Totals)
		}
		for _, s := range rep.Stacks {
			if s.Plan == nil || s.Plan.File == "" || s.Backend == nil || s.Backend.Type != "local" {
				t.Errorf("plan %s, stack %s: plan %+v backend %+v", e, s.Path, s.Plan, s.Backend)
			}
		}
		tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--from-plans", "--log-mode=quiet", "--parallel=2")
	}
	// Each (stack, environment) has its own state holding the stack's
	// resources.
	for _, s := range stacks {
		for _, e := range envs {
			if st := localState(t, root, e, s); !strings.Contains(st, `"terraform_data"`) {
				t.Errorf("state of %s in %s holds no terraform_data:\n%s", s, e, st)
			}
		}
	}
	// Applied: nothing left to do, and the saved plans are gone.
	tmciWant(t, 0, env, "-C", root, "plan", "--env=pr-1", "--detailed-exitcode", "--log-mode=quiet")
	if diff := cmp.Diff(before, projectFiles(t, root)); diff != "" {
		t.Errorf("files in the project outside .tmci and .tmci-state changed (-before +after):\n%s", diff)
	}
	// Destroy one environment: the other keeps its resources.
	out := tmciWant(t, 0, env, "-C", root, "destroy", "--env=pr-1", "--yes", "--log-mode=quiet")
	if !strings.Contains(out, fmt.Sprintf("(+0 ~0 -%d)", len(stacks))) {
		t.Errorf("destroy summary:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	var order []string
	for _, s := range rep.Stacks {
		order = append(order, s.Path)
	}
	runOrder := strings.Fields(tmciWant(t, 0, env, "-C", root, "list", "--reverse"))
	for i := range runOrder {
		runOrder[i] = "/" + runOrder[i]
	}
	if diff := cmp.Diff(runOrder, order); diff != "" {
		t.Errorf("destroy does not list the stacks in reverse run order (-list --reverse +report):\n%s", diff)
	}
	// pr-* is ephemeral in the example: the emptied state files are
	// removed too.
	for _, s := range stacks {
		if _, err := os.Stat(filepath.Join(root, ".tmci-state", "pr-1", filepath.FromSlash(strings.TrimPrefix(s, "/")), "terraform.tfstate")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("state of %s in pr-1 remains after destroying the ephemeral environment (%v)", s, err)
		}
		if st := localState(t, root, "staging", s); !strings.Contains(st, `"terraform_data"`) {
			t.Errorf("destroying pr-1 emptied the staging state of %s", s)
		}
	}
}

// synthProject writes a generated project with Terraform code and a
// tmci.hcl, and returns its root.
func synthProject(t *testing.T, stacks int) string {
	t.Helper()
	root := t.TempDir()
	if err := synth.Write(root, synth.Options{Stacks: stacks, Areas: 2, Groups: 1, After: 1, TMCI: true, Terraform: true}); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRunGeneratedTofu plans and applies a generated project in two
// environments with OpenTofu and the local backend.
func TestRunGeneratedTofu(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[1])
	root := synthProject(t, 4)
	env := runEnv(t, bin, nil)
	before := projectFiles(t, root)
	stacks := []string{"/area00/group00/stack0000", "/area00/group00/stack0001", "/area01/group00/stack0002", "/area01/group00/stack0003"}
	for _, e := range []string{"pr-1", "staging"} {
		tmciWant(t, 2, env, "-C", root, "plan", "--env="+e, "--detailed-exitcode", "--log-mode=grouped")
		tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--log-mode=stream")
		rep := readReport(t, filepath.Join(root, ".tmci", e, "report.json"))
		if rep.Binary == nil || rep.Binary.Name != "tofu" || rep.Totals.Succeeded != 4 || rep.Totals.Create != 4 {
			t.Errorf("apply %s report: binary %+v totals %+v", e, rep.Binary, rep.Totals)
		}
	}
	for i, s := range stacks {
		for _, e := range []string{"pr-1", "staging"} {
			if st := localState(t, root, e, s); !strings.Contains(st, fmt.Sprintf(`"s%05d"`, i)) {
				t.Errorf("state of %s in %s does not hold its resource:\n%s", s, e, st)
			}
		}
	}
	if diff := cmp.Diff(before, projectFiles(t, root)); diff != "" {
		t.Errorf("files in the project outside .tmci and .tmci-state changed (-before +after):\n%s", diff)
	}
}

// newDB creates a PostgreSQL database for one test, dropped at the end,
// and returns its connection string and a connection to it.
func newDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	conn := pgtest.NewDatabase(t, "tmci_run_")
	return conn, pgtest.Open(t, conn)
}

const pgTemplate = `backend "pg" {
  conn_str    = env.STATE_DB
  schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"
}
environment "prod" {
  protected = true
}
environment "staging" {}
environment "pr-*" {}
`

// TestRunPG plans and applies a generated project in two environments on
// the pg backend: each (stack, environment) gets its own schema, and the
// connection string, a secret, reaches no log and no report.
func TestRunPG(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) { testRunPG(t, findTool(t, tl)) })
	}
}

func testRunPG(t *testing.T, bin string) {
	conn, db := newDB(t)
	root := synthProject(t, 3)
	if err := os.WriteFile(filepath.Join(root, "tmci.hcl"), []byte(pgTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		file := filepath.Join(root, filepath.FromSlash(synth.Options{Stacks: 3, Areas: 2, Groups: 1}.StackPath(i)), "main.tf")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, bytes.Replace(data, []byte(`backend "local"`), []byte(`backend "pg"`), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := runEnv(t, bin, map[string]string{"STATE_DB": conn})
	before := projectFiles(t, root)
	// terraform's pg backend races when stacks of one database create
	// their states at once; tmci runs the losing command again
	// (retryStateCreation), so a new environment runs in parallel.
	for _, e := range []string{"pr-1", "staging"} {
		tmciWant(t, 2, env, "-C", root, "plan", "--env="+e, "--detailed-exitcode", "--log-mode=quiet", "--parallel=3")
		tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--from-plans", "--log-mode=quiet", "--parallel=3")
	}
	tmciWant(t, 0, env, "-C", root, "plan", "--env=pr-1", "--detailed-exitcode", "--log-mode=quiet", "--parallel=2")
	rows, err := db.Query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'states' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var schemas []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		var data string
		if err := db.QueryRow(fmt.Sprintf(`SELECT data FROM %q.states WHERE name = 'default'`, s)).Scan(&data); err != nil || !strings.Contains(data, `"terraform_data"`) {
			t.Errorf("schema %s holds no applied state (%v)", s, err)
		}
		schemas = append(schemas, s)
	}
	want := []string{
		"pr-1_area00-group00-stack0000", "pr-1_area00-group00-stack0001", "pr-1_area01-group00-stack0002",
		"staging_area00-group00-stack0000", "staging_area00-group00-stack0001", "staging_area01-group00-stack0002",
	}
	if diff := cmp.Diff(want, schemas); diff != "" {
		t.Errorf("state schemas (-want +got):\n%s", diff)
	}
	// The connection string is a secret: not in logs, not in reports.
	err = filepath.WalkDir(filepath.Join(root, ".tmci"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tfbackend") || strings.HasSuffix(path, ".tfplan") || strings.Contains(path, string(filepath.Separator)+".terraform"+string(filepath.Separator)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(conn)) {
			t.Errorf("%s holds the connection string", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, projectFiles(t, root)); diff != "" {
		t.Errorf("files in the project outside .tmci changed (-before +after):\n%s", diff)
	}
	tmciWant(t, 0, env, "-C", root, "destroy", "--env=pr-1", "--yes", "--log-mode=quiet", "--parallel=2")
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM "pr-1_area00-group00-stack0000".states WHERE data LIKE '%terraform_data%'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("after destroy, pr-1 state still holds resources (%d, %v)", left, err)
	}
}

// TestRunFailure: a broken stack fails, the stack after it is skipped
// naming it, the others finish; exit 1 and the report says so. The
// project has no tmci.hcl, so it runs without --env and without backend.
func TestRunFailure(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root := t.TempDir()
	files := map[string]string{
		"terramate.tm.hcl":  "terramate {\n  config {\n  }\n}\n",
		"a/stack.tm":        "stack {}\n",
		"a/main.tf":         "resource \"terraform_data\" \"a\" {}\n",
		"b/stack.tm":        "stack {\n  after = [\"/a\"]\n}\n",
		"b/main.tf":         "resource \"terraform_data\" \"b\" {\n  input = var.missing\n}\n",
		"c/stack.tm":        "stack {\n  after = [\"/b\"]\n}\n",
		"c/main.tf":         "resource \"terraform_data\" \"c\" {}\n",
		"d/stack.tm":        "stack {}\n",
		"d/main.tf":         "resource \"terraform_data\" \"d\" {}\n",
		"d/e/stack.tm":      "stack {}\n",
		"d/e/main.tf":       "resource \"terraform_data\" \"e\" {}\n",
		"x/stack.tm":        "stack {}\n",
		"x/main.tf":         "resource \"terraform_data\" \"x\" {\n  input = var.missing\n}\n",
		"y/stack.tm":        "stack {}\n",
		"y/main.tf":         "resource \"terraform_data\" \"y\" {}\n",
		"unrelated/file.md": "not a stack\n",
	}
	testenv.WriteFiles(t, root, files)
	env := runEnv(t, bin, nil)
	out := tmciWant(t, 1, env, "-C", root, "plan", "--log-mode=quiet", "--parallel=2", "--stack=a", "--stack=b", "--stack=c", "--stack=d", "--stack=d/e")
	if !strings.Contains(out, "skipped (/b failed)") {
		t.Errorf("the summary does not name the failed dependency:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "default", "report.json"))
	want := map[string]string{"/a": "succeeded", "/b": "failed", "/c": "skipped", "/d": "succeeded", "/d/e": "succeeded"}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if rep.ExitCode != 1 || rep.Environment != "" || rep.Totals.Failed != 1 || rep.Totals.Skipped != 1 {
		t.Errorf("report: exit %d env %q totals %+v", rep.ExitCode, rep.Environment, rep.Totals)
	}
	for _, s := range rep.Stacks {
		switch s.Path {
		case "/b":
			if !strings.Contains(s.Error, "plan") || s.Log == "" {
				t.Errorf("/b: error %q log %q", s.Error, s.Log)
			}
			log, _ := os.ReadFile(filepath.Join(root, s.Log))
			if !bytes.Contains(log, []byte("missing")) {
				t.Errorf("/b's log does not hold terraform's error:\n%s", log)
			}
		case "/c":
			if diff := cmp.Diff([]string{"/b"}, s.FailedDependencies); diff != "" || s.StartedAt != nil || s.Log != "" {
				t.Errorf("/c: failed deps %v, started %v, log %q", s.FailedDependencies, s.StartedAt, s.Log)
			}
		}
	}
	// With --fail-fast, nothing starts after the failure.
	tmciWant(t, 1, env, "-C", root, "plan", "--log-mode=quiet", "--parallel=1", "--fail-fast", "--stack=/x", "--stack=/y")
	rep = readReport(t, filepath.Join(root, ".tmci", "default", "report.json"))
	want = map[string]string{"/x": "failed", "/y": "not_started"}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("fail-fast statuses (-want +got):\n%s", diff)
	}
}

// TestRunRefusals: usage and configuration errors stop tmci before any
// stack starts, with exit 1.
func TestRunRefusals(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	copyDir(t, "../../examples/acme", root)
	env := map[string]string{"PATH": os.Getenv("PATH"), "TMCI_TF_BIN": "/nonexistent/terraform"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apply", "--env=prod"}, "environment prod is protected (tmci.hcl): pass --yes to apply"},
		{[]string{"destroy", "--env=prod", "--yes"}, "environment prod is protected (tmci.hcl): destroy is refused"},
		{[]string{"destroy", "--env=pr-1"}, "pass --yes to confirm"},
		{[]string{"plan"}, "--env is required"},
		{[]string{"plan", "--env=nope"}, `"nope"`},
		{[]string{"plan", "--env=pr-1", "--log-mode=loud"}, `unknown log mode "loud"`},
		{[]string{"plan", "--env=pr-1", "extra"}, `unexpected argument "extra": put arguments for the command after --`},
		{[]string{"run", "--env=pr-1"}, "no command to run"},
		{[]string{"plan", "--env=pr-1"}, "TMCI_TF_BIN=/nonexistent/terraform"},
	} {
		code, stdout, stderr := tmciCode(t.Context(), env, append([]string{"-C", root}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("tmci %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(c.args, " "), code, stdout, stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".tmci")); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote its work directory (%v)", err)
	}
	// A backend template shared by two stacks is refused before running.
	shared := "backend \"local\" {\n  path = \"/tmp/${environment.name}.tfstate\"\n}\nenvironment \"pr-*\" {}\n"
	if err := os.WriteFile(filepath.Join(root, "tmci.hcl"), []byte(shared), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := tmciCode(t.Context(), env, "-C", root, "run", "--env=pr-1", "--", "true")
	if code != 1 || !strings.Contains(stderr, "Shared state") || !strings.Contains(stderr, "refusing to run") {
		t.Errorf("shared state: exit %d\n%s", code, stderr)
	}
}

// TestRunCommand runs a shell command per stack and in one stack with
// tmci exec: each sees its stack, environment, backend file and
// Terramate's run environment.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	copyDir(t, "../../examples/acme", root)
	runEnvBlock := `
terramate {
  config {
    run {
      env {
        GREETING = "hello-${terramate.stack.id}-${env.WHO}"
      }
    }
  }
}
`
	f, err := os.OpenFile(filepath.Join(root, "terramate.tm.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(runEnvBlock)
	f.Close()
	if err := os.WriteFile(filepath.Join(root, "network", "vpc", "env.tm"), []byte(strings.ReplaceAll(runEnvBlock, "hello-", "vpc-")), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "WHO": "tester"}
	script := `echo "$TMCI_ENV $TMCI_STACK_PATH $TMCI_STACK_ID $GREETING"; test -f "$TMCI_BACKEND_FILE" && test -d "$(dirname "$TF_DATA_DIR")" && echo "$TF_CLI_ARGS_init" | grep -q -- "-backend-config=" && echo ok`
	out := tmciWant(t, 0, env, "-C", root, "run", "--env=staging", "--log-mode=stream", "--stack=network/vpc", "--stack=services/api", "--", "sh", "-c", script)
	for _, want := range []string{
		"[/network/vpc] staging /network/vpc network-vpc vpc-network-vpc-tester\n[/network/vpc] ok\n",
		"[/services/api] staging /services/api svc-api hello-svc-api-tester\n[/services/api] ok\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tmci run output lacks %q:\n%s", want, out)
		}
	}
	code, stdout, stderr := tmciCode(t.Context(), env, "-C", filepath.Join(root, "services", "api"), "exec", "--env=pr-7", "--", "sh", "-c", `echo "$TMCI_STACK_PATH $TMCI_ENV $GREETING"; cat "$TMCI_BACKEND_FILE" >&2; exit 3`)
	if code != 3 || stdout != "/services/api pr-7 hello-svc-api-tester\n" || !strings.Contains(stderr, `.tmci-state/pr-7/services/api/terraform.tfstate"`) {
		t.Errorf("tmci exec: exit %d (want 3), stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = tmciCode(t.Context(), env, "-C", root, "exec", "--env=pr-7", "--", "true")
	if code != 1 || !strings.Contains(stderr, "is in no stack") {
		t.Errorf("tmci exec outside a stack: exit %d, %q", code, stderr)
	}
}

// TestRunInterrupt cancels tmci apply's context, as the first SIGINT does
// in main, while a slow stack applies on the pg backend: terraform stops
// on its one interrupt and releases the lock, the stack after it never
// starts, and the report names the interrupted stack.
func TestRunInterrupt(t *testing.T) {
	bin := findTool(t, tools[0])
	conn, db := newDB(t)
	root := t.TempDir()
	for name, content := range map[string]string{
		"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
		"tmci.hcl":         pgTemplate,
		"slow/stack.tm":    "stack {}\n",
		"slow/main.tf": `terraform {
  backend "pg" {}
}
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "echo $((6*7))-asleep; sleep 120"
  }
}
`,
		"after/stack.tm": "stack {\n  after = [\"/slow\"]\n}\n",
		"after/main.tf":  "terraform {\n  backend \"pg\" {}\n}\nresource \"terraform_data\" \"x\" {}\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := runEnv(t, bin, map[string]string{"STATE_DB": conn})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	log := filepath.Join(root, ".tmci", "pr-1", "logs", "slow.log")
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			// The interrupt must come once the provisioner's shell runs
			// (see tf's interrupt tests).
			if data, _ := os.ReadFile(log); bytes.Contains(data, []byte("42-asleep")) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	code, stdout, stderr := tmciCode(ctx, env, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet", "--grace=1m")
	if code != 1 || !strings.Contains(stderr, "interrupted while running /slow") {
		t.Errorf("exit %d, want 1 naming /slow:\n%s%s", code, stdout, stderr)
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("the run took %v: terraform was killed, not stopped by its interrupt", d)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	if diff := cmp.Diff(map[string]string{"/slow": "interrupted", "/after": "not_started"}, statuses(rep)); diff != "" || !rep.Interrupted {
		t.Errorf("interrupted %v; statuses (-want +got):\n%s", rep.Interrupted, diff)
	}
	data, _ := os.ReadFile(log)
	if n := bytes.Count(data, []byte("Interrupt received")); n != 1 {
		t.Errorf("terraform saw %d interrupts, want 1:\n%s", n, data)
	}
	if _, err := os.Stat(filepath.Join(root, ".tmci", "pr-1", "logs", "after.log")); !os.IsNotExist(err) {
		t.Errorf("the stack after the interrupted one ran (%v)", err)
	}
	var locks int
	if err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Errorf("%d advisory locks left in the state database", locks)
	}
}

// TestCopyDirLeavesIgnoredFiles: what a user's runs left in a checkout
// (git-ignored .tmci/ and .tmci-state/) never reaches a test's copy.
func TestCopyDirLeavesIgnoredFiles(t *testing.T) {
	src := t.TempDir()
	for name, text := range map[string]string{
		".gitignore":                 ".tmci/\n.tmci-state/\n",
		"stack/main.tf":              "# tracked\n",
		"stack/new.tf":               "# untracked, not ignored\n",
		".tmci/pr-1/report.json":     "{}",
		".tmci-state/pr-1/a.tfstate": "{}",
	} {
		writeFile(t, filepath.Join(src, name), text)
	}
	testenv.Git(t, src, "init", "-q")
	testenv.Git(t, src, "add", ".gitignore", "stack/main.tf")
	dst := t.TempDir()
	copyDir(t, src, dst)
	var got []string
	err := filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".gitignore", "stack/main.tf", "stack/new.tf"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("copied files (-want +got):\n%s", diff)
	}
}
