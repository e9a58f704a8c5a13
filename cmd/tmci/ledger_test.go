package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/synth"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/report"
)

// These tests replay, with real git histories and real terraform, the
// pipelines that lost changes before the ledger: a cancelled apply-on-
// merge run and a failed one. Each push's run is what GitHub would start:
// a push event whose before is the previous push.

// stackTF is a stack whose one resource holds value; with failFile set,
// applying it fails while that file exists (a transient outage). A new
// value replaces the resource, so the provisioner runs on every change.
func stackTF(backendType, value, failFile string) string {
	prov := ""
	if failFile != "" {
		prov = `
  provisioner "local-exec" {
    command = "test ! -e '` + failFile + `'"
  }`
	}
	return `terraform {
  backend "` + backendType + `" {}
}
resource "terraform_data" "v" {
  input            = "` + value + `"
  triggers_replace = "` + value + `"` + prov + `
}
`
}

// pipeline is a repository of three stacks on main and the environment
// tmci's apply-on-merge job gets.
type pipeline struct {
	t       *testing.T
	root    string
	backend string
	env     map[string]string
	// state returns the state of a stack in prod.
	state func(stack string) string
}

func (pl *pipeline) write(files map[string]string) {
	testenv.WriteFiles(pl.t, pl.root, files)
}

// merge commits files on main and returns the new commit.
func (pl *pipeline) merge(msg string, files map[string]string) string {
	pl.write(files)
	testenv.Git(pl.t, pl.root, "add", "-A")
	testenv.Git(pl.t, pl.root, "commit", "-qm", msg)
	return testenv.Git(pl.t, pl.root, "rev-parse", "HEAD")
}

// applyOnMerge runs `tmci apply --env=prod --changed --yes` as GitHub's
// push run for the push whose before is before, and returns the report.
func (pl *pipeline) applyOnMerge(before string, want int) map[string]string {
	event := filepath.Join(pl.t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"before":"`+before+`"}`), 0o644); err != nil {
		pl.t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
		"GITHUB_REF_NAME": "main", "GITHUB_EVENT_PATH": event,
	}
	for k, v := range pl.env {
		env[k] = v
	}
	tmciWant(pl.t, want, env, "-C", pl.root, "apply", "--env=prod", "--changed", "--yes", "--log-mode=quiet")
	return statuses(readReport(pl.t, filepath.Join(pl.root, ".tmci", "prod", "report.json")))
}

// ledger returns tmci ledger --json.
func (pl *pipeline) ledger() ledger.Entries {
	out := tmciWant(pl.t, 0, pl.env, "-C", pl.root, "ledger", "--env=prod", "--json")
	var e ledger.Entries
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &e); err != nil {
		pl.t.Fatalf("tmci ledger --json: %v\n%s", err, out)
	}
	return e
}

// environments returns tmci environments --json as "ephemeral=B
// stacks=N" by name; an environment with applied stacks must have its
// last apply within the hour.
func (pl *pipeline) environments() map[string]string {
	out := tmciWant(pl.t, 0, pl.env, "-C", pl.root, "environments", "--json")
	var envs []environmentJSON
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &envs); err != nil {
		pl.t.Fatalf("tmci environments --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, e := range envs {
		if e.Stacks > 0 && (e.LastApply == nil || time.Since(*e.LastApply) > time.Hour) {
			pl.t.Errorf("%s: last apply %v", e.Name, e.LastApply)
		}
		got[e.Name] = fmt.Sprintf("ephemeral=%t stacks=%d", e.Ephemeral, e.Stacks)
	}
	return got
}

// revisions returns the ledger's revision of each stack.
func revisions(e ledger.Entries) map[string]string {
	out := map[string]string{}
	for p, en := range e {
		out[p] = en.Revision
	}
	return out
}

func newPipeline(t *testing.T, backendType, template string, extraEnv map[string]string) *pipeline {
	root := t.TempDir()
	pl := &pipeline{t: t, root: root, backend: backendType, env: runEnv(t, findTool(t, tools[0]), extraEnv)}
	testenv.Git(t, root, "init", "-q", "-b", "main")
	files := map[string]string{
		".gitignore":       ".tmci/\n.state/\n",
		"terramate.tm.hcl": "terramate {\n  config {}\n}\n",
		"tmci.hcl":         template,
	}
	for _, s := range []string{"platform/registry", "app", "web"} {
		files[s+"/stack.tm.hcl"] = "stack {}\n"
		files[s+"/main.tf"] = stackTF(backendType, "v0", "")
	}
	pl.merge("initial", files)
	return pl
}

// pgLedgerBackend keeps each (stack, environment) in a schema of the
// test's database, STATE_DB.
const pgLedgerBackend = `backend "pg" {
  conn_str    = env.STATE_DB
  schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"
}
`

const localLedgerTemplate = `backend "local" {
  path = "${terramate.root.path.fs.absolute}/.state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "prod" {}
`

func TestLedgerPipelinesLocal(t *testing.T) {
	t.Parallel()
	pl := newPipeline(t, "local", localLedgerTemplate, nil)
	pl.state = func(stack string) string {
		data, err := os.ReadFile(filepath.Join(pl.root, ".state", "prod", stack, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	testLedgerPipelines(t, pl)
}

func TestLedgerPipelinesPG(t *testing.T) {
	t.Parallel()
	conn, db := newDB(t)
	pl := newPipeline(t, "pg", pgLedgerBackend+"environment \"prod\" {\n  protected = true\n}\n", map[string]string{"STATE_DB": conn})
	pl.state = func(stack string) string {
		var data string
		q := fmt.Sprintf(`SELECT data FROM %q.states WHERE name = 'default'`, "prod_"+strings.ReplaceAll(stack, "/", "-"))
		if err := db.QueryRow(q).Scan(&data); err != nil {
			t.Fatal(err)
		}
		return data
	}
	testLedgerPipelines(t, pl)
}

// testLedgerPipelines: merges A, B, C; B's run is cancelled (GitHub
// keeps one pending run per concurrency group), so C's run, whose push
// before is B, must still apply B's change to /platform/registry. Then
// D's run fails on /app (a transient failure), and E's run, which only
// changes /web, must apply /app's change from D.
func testLedgerPipelines(t *testing.T, pl *pipeline) {
	initial := testenv.Git(t, pl.root, "rev-parse", "HEAD")
	// The first deployment applies everything.
	tmciWant(t, 0, pl.env, "-C", pl.root, "apply", "--env=prod", "--yes", "--log-mode=quiet")
	want := map[string]string{"/app": initial, "/platform/registry": initial, "/web": initial}
	if diff := cmp.Diff(want, revisions(pl.ledger())); diff != "" {
		t.Fatalf("ledger after the first apply (-want +got):\n%s", diff)
	}

	a := pl.merge("A", map[string]string{"app/main.tf": stackTF(pl.backend, "a", "")})
	if diff := cmp.Diff(map[string]string{"/app": "succeeded"}, pl.applyOnMerge(initial, 0)); diff != "" {
		t.Errorf("A's run (-want +got):\n%s", diff)
	}
	b := pl.merge("B", map[string]string{"platform/registry/main.tf": stackTF(pl.backend, "b", "")})
	// B's run is cancelled before it starts.
	c := pl.merge("C", map[string]string{"web/main.tf": stackTF(pl.backend, "c", "")})
	got := pl.applyOnMerge(b, 0)
	if diff := cmp.Diff(map[string]string{"/platform/registry": "succeeded", "/web": "succeeded"}, got); diff != "" {
		t.Errorf("C's run after B's was cancelled (-want +got):\n%s", diff)
	}
	want = map[string]string{"/app": a, "/platform/registry": c, "/web": c}
	if diff := cmp.Diff(want, revisions(pl.ledger())); diff != "" {
		t.Errorf("ledger after C (-want +got):\n%s", diff)
	}

	// D changes /app, whose apply fails: its entry stays at A.
	fail := filepath.Join(pl.root, ".state", "outage")
	if err := os.MkdirAll(filepath.Dir(fail), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fail, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d := pl.merge("D", map[string]string{"app/main.tf": stackTF(pl.backend, "d", fail)})
	if diff := cmp.Diff(map[string]string{"/app": "failed"}, pl.applyOnMerge(c, 1)); diff != "" {
		t.Errorf("D's run (-want +got):\n%s", diff)
	}
	if got := revisions(pl.ledger())["/app"]; got != a {
		t.Errorf("a failed stack advanced in the ledger: /app at %s, want %s (A)", got, a)
	}
	if err := os.Remove(fail); err != nil {
		t.Fatal(err)
	}
	e := pl.merge("E", map[string]string{"web/main.tf": stackTF(pl.backend, "e", "")})
	if diff := cmp.Diff(map[string]string{"/app": "succeeded", "/web": "succeeded"}, pl.applyOnMerge(d, 0)); diff != "" {
		t.Errorf("E's run after D's failed (-want +got):\n%s", diff)
	}
	want = map[string]string{"/app": e, "/platform/registry": c, "/web": e}
	if diff := cmp.Diff(want, revisions(pl.ledger())); diff != "" {
		t.Errorf("ledger after E (-want +got):\n%s", diff)
	}
	// Everything merged is deployed: a plan of every stack finds nothing.
	tmciWant(t, 0, pl.env, "-C", pl.root, "plan", "--env=prod", "--detailed-exitcode", "--log-mode=quiet")

	testDeletedStack(t, pl, e)
}

// testDeletedStack: F deletes /web. Its plan says so everywhere and exits
// 2; its apply leaves the resources (and says so); destroy --deleted
// destroys them from E, the revision that had the stack, and forgets it.
func testDeletedStack(t *testing.T, pl *pipeline, e string) {
	if !strings.Contains(pl.state("web"), `"terraform_data"`) {
		t.Fatalf("/web has no resources before the test")
	}
	testenv.Git(t, pl.root, "rm", "-rq", "web")
	pl.merge("F: delete web", nil)
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"before":"`+e+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	gh := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_EVENT_PATH": event}
	for k, v := range pl.env {
		gh[k] = v
	}
	out := tmciWant(t, 2, gh, "-C", pl.root, "plan", "--env=prod", "--changed", "--detailed-exitcode", "--log-mode=quiet")
	if !strings.Contains(out, "::warning title=tmci%3A deleted stack /web::stack /web is deleted") {
		t.Errorf("no GitHub warning for the deleted stack:\n%s", out)
	}
	rep := readReport(t, filepath.Join(pl.root, ".tmci", "prod", "report.json"))
	want := []report.DeletedStack{{Path: "/web", Revision: e, Source: "change"}}
	if diff := cmp.Diff(want, rep.Deleted); diff != "" {
		t.Errorf("report.json deleted (-want +got):\n%s", diff)
	}
	for _, name := range []string{"comment.md", "summary.md"} {
		data, err := os.ReadFile(filepath.Join(pl.root, ".tmci", "prod", name))
		if err != nil || !strings.Contains(string(data), "1 stack deleted") || !strings.Contains(string(data), "`/web`") {
			t.Errorf("%s does not name the deleted stack (%v):\n%s", name, err, data)
		}
	}
	// The apply on merge leaves the resources, and says so.
	out = tmciWant(t, 0, gh, "-C", pl.root, "apply", "--env=prod", "--changed", "--yes", "--log-mode=quiet")
	if !strings.Contains(out, "stack /web is deleted from the code") {
		t.Errorf("apply did not warn about /web:\n%s", out)
	}
	if !strings.Contains(pl.state("web"), `"terraform_data"`) {
		t.Fatalf("apply destroyed /web's resources without being asked")
	}
	// From /app, /web is out of reach: destroy --deleted leaves it.
	out = tmciWant(t, 0, pl.env, "-C", filepath.Join(pl.root, "app"), "destroy", "--deleted", "--env=prod", "--yes", "--log-mode=quiet")
	if !strings.Contains(out, "records no deleted stack") || !strings.Contains(pl.state("web"), `"terraform_data"`) {
		t.Fatalf("destroy --deleted below /app reached /web:\n%s", out)
	}
	tmciWant(t, 0, pl.env, "-C", pl.root, "destroy", "--deleted", "--env=prod", "--yes", "--log-mode=quiet")
	if st := pl.state("web"); strings.Contains(st, `"terraform_data"`) {
		t.Errorf("/web's resources survived destroy --deleted:\n%s", st)
	}
	got := revisions(pl.ledger())
	if _, ok := got["/web"]; ok {
		t.Errorf("the ledger still records /web after destroy --deleted: %v", got)
	}
	if len(got) != 2 {
		t.Errorf("destroy --deleted touched other stacks' entries: %v", got)
	}
	if wts := testenv.Git(t, pl.root, "worktree", "list"); strings.Count(wts, "\n") != 0 {
		t.Errorf("the temporary worktree was left behind:\n%s", wts)
	}
	// Nothing deleted is left: the next plan is clean.
	tmciWant(t, 0, pl.env, "-C", pl.root, "plan", "--env=prod", "--detailed-exitcode", "--log-mode=quiet")
}

// ledgerCostEnv sets the size of TestLedgerCost's project; unset, the
// test is skipped (it applies the project twice with real terraform).
const ledgerCostEnv = "TMCI_LEDGER_COST_STACKS"

// TestLedgerCost measures what the ledger adds to an apply of n stacks.
// The floor is the same apply of the same project without a ledger (a
// copy that is no git repository, so there is no revision to record).
// The two alternate over three fresh environments and the fastest run of
// each counts, so that load from other processes on the machine weighs
// on both alike. Target: the ledger adds less than 10% of the floor.
func TestLedgerCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(ledgerCostEnv))
	if n <= 0 {
		t.Skipf("set %s=100 to measure the ledger's cost", ledgerCostEnv)
	}
	env := runEnv(t, findTool(t, tools[0]), nil)
	o := synth.Options{Stacks: n, After: 1, TMCI: true, Terraform: true}
	apply := func(root, e string) (time.Duration, report.Report) {
		start := time.Now()
		tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--yes", "--log-mode=quiet", "--parallel=2")
		return time.Since(start), readReport(t, filepath.Join(root, ".tmci", e, "report.json"))
	}
	floorRoot, ledgerRoot := t.TempDir(), t.TempDir()
	for _, root := range []string{floorRoot, ledgerRoot} {
		if err := synth.Write(root, o); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Git(t, ledgerRoot, "init", "-q", "-b", "main")
	testenv.Git(t, ledgerRoot, "add", "-A")
	testenv.Git(t, ledgerRoot, "commit", "-qm", "generated")
	floor, withLedger := time.Duration(1<<62), time.Duration(1<<62)
	for _, e := range []string{"staging", "pr-1", "pr-2"} {
		d, rep := apply(floorRoot, e)
		if rep.Ledger != nil {
			t.Fatalf("the floor run recorded a ledger: %+v", rep.Ledger)
		}
		floor = min(floor, d)
		d, rep = apply(ledgerRoot, e)
		if rep.Ledger == nil || len(rep.Ledger.Recorded) != n || rep.Ledger.Error != "" {
			t.Fatalf("the ledger run did not record %d stacks: %+v", n, rep.Ledger)
		}
		withLedger = min(withLedger, d)
	}
	extra := withLedger - floor
	t.Logf("apply of %d stacks, fastest of 3: %s without the ledger (floor), %s with it: %+.2fs (%+.1f%%, %.1f ms per stack)",
		n, floor.Round(time.Millisecond), withLedger.Round(time.Millisecond), extra.Seconds(),
		100*extra.Seconds()/floor.Seconds(), float64(extra.Milliseconds())/float64(n))
	if extra > floor/10 {
		t.Errorf("the ledger adds %s to a %s apply: more than the 10%% target", extra, floor)
	}
}

// TestDriftPerStack: a drift run says of every stack whether it drifted,
// is clean, failed or was never deployed (the ledger has no apply of it),
// and claims "no drift" only when it checked every stack.
func TestDriftPerStack(t *testing.T) {
	t.Parallel()
	pl := newPipeline(t, "local", localLedgerTemplate, nil)
	tmciWant(t, 0, pl.env, "-C", pl.root, "apply", "--env=prod", "--yes", "--log-mode=quiet", "--stack=/app", "--stack=/web")
	// /web's code moves away from what is deployed; /platform/registry
	// was never applied.
	pl.merge("web changes", map[string]string{"web/main.tf": stackTF(pl.backend, "new", "")})
	out := tmciWant(t, 2, pl.env, "-C", pl.root, "drift", "--env=prod", "--log-mode=quiet")
	drift := func() map[string]string {
		rep := readReport(t, filepath.Join(pl.root, ".tmci", "prod", "report.json"))
		got := map[string]string{}
		for _, s := range rep.Stacks {
			got[s.Path] = s.Drift
		}
		return got
	}
	want := map[string]string{"/app": "clean", "/platform/registry": "not_deployed", "/web": "drifted"}
	if diff := cmp.Diff(want, drift()); diff != "" {
		t.Errorf("drift per stack (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, "1 drifted, 1 clean, 0 failed, 1 not deployed") {
		t.Errorf("drift summary:\n%s", out)
	}
	// /web deployed again, /app broken: no drift found, but not "no drift".
	tmciWant(t, 0, pl.env, "-C", pl.root, "apply", "--env=prod", "--yes", "--log-mode=quiet", "--stack=/web")
	pl.merge("app breaks", map[string]string{"app/main.tf": "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"v\" {\n  input = var.missing\n}\n"})
	out = tmciWant(t, 1, pl.env, "-C", pl.root, "drift", "--env=prod", "--log-mode=quiet")
	want = map[string]string{"/app": "failed", "/platform/registry": "not_deployed", "/web": "clean"}
	if diff := cmp.Diff(want, drift()); diff != "" {
		t.Errorf("drift per stack with a failure (-want +got):\n%s", diff)
	}
	if strings.Contains(out, "tmci drift: no drift") || !strings.Contains(out, "1 of 3 stacks not checked") {
		t.Errorf("a drift run that could not check /app claims too much:\n%s", out)
	}
	body, err := os.ReadFile(filepath.Join(pl.root, ".tmci", "prod", "drift.md"))
	if err != nil || strings.Contains(string(body), ": no drift.") || !strings.Contains(string(body), "1 not checked") {
		t.Errorf("drift.md (%v):\n%s", err, body)
	}
}

// TestTeardownLocal and TestTeardownPG: destroying an ephemeral
// environment leaves no state object behind, neither the stacks' nor the
// ledger's, whether it was applied or never deployed; a permanent
// environment's objects stay.
func TestTeardownLocal(t *testing.T) {
	t.Parallel()
	pl := newPipeline(t, "local", localLedgerTemplate+"environment \"pr-*\" {\n  ephemeral = true\n}\n", nil)
	objects := func(env string) []string {
		var out []string
		dir := filepath.Join(pl.root, ".state", env)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".backup") {
				out = append(out, strings.TrimPrefix(path, dir))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	testTeardown(t, pl, objects)
}

func TestTeardownPG(t *testing.T) {
	t.Parallel()
	conn, db := newDB(t)
	pl := newPipeline(t, "pg", pgLedgerBackend+"environment \"prod\" {}\nenvironment \"pr-*\" {\n  ephemeral = true\n}\n", map[string]string{"STATE_DB": conn})
	objects := func(env string) []string {
		rows, err := db.Query(`SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE $1 ORDER BY 1`, env+"\\_%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	testTeardown(t, pl, objects)
}

func testTeardown(t *testing.T, pl *pipeline, objects func(env string) []string) {
	for _, env := range []string{"pr-7", "prod"} {
		tmciWant(t, 0, pl.env, "-C", pl.root, "apply", "--env="+env, "--yes", "--log-mode=quiet")
		// Three stacks and the ledger.
		if got := objects(env); len(got) != 4 {
			t.Fatalf("%s after apply: %d state objects, want 4: %v", env, len(got), got)
		}
	}
	want := map[string]string{"pr-7": "ephemeral=true stacks=3", "prod": "ephemeral=false stacks=3"}
	if diff := cmp.Diff(want, pl.environments()); diff != "" {
		t.Errorf("environments after apply (-want +got):\n%s", diff)
	}
	for _, env := range []string{"pr-7", "pr-8", "prod"} {
		out := tmciWant(t, 0, pl.env, "-C", pl.root, "destroy", "--env="+env, "--yes", "--log-mode=quiet")
		rep := readReport(t, filepath.Join(pl.root, ".tmci", env, "report.json"))
		got := objects(env)
		switch env {
		case "prod":
			if len(got) != 4 {
				t.Errorf("destroying the permanent prod removed state objects: %v left", got)
			}
		default:
			if len(got) != 0 {
				t.Errorf("tearing down %s left state objects: %v\n%s", env, got, out)
			}
			if env == "pr-7" && pl.backend == "local" {
				if _, err := os.Stat(filepath.Join(pl.root, ".state", env, "app", "terraform.tfstate.backup")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the backup of a removed local state stays (%v)", err)
				}
			}
			if rep.Ledger == nil || !rep.Ledger.Removed {
				t.Errorf("%s: the report does not say the ledger was removed: %+v", env, rep.Ledger)
			}
		}
	}
	// prod's stacks are destroyed but its ledger stays (recording it).
	want = map[string]string{"prod": "ephemeral=false stacks=0"}
	got := pl.environments()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("environments after teardown (-want +got):\n%s", diff)
	}
}
