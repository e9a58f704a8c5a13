package ledger_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/tf"
)

// newRunner returns a runner of terraform with a hermetic CLI
// configuration.
func newRunner(t *testing.T) *tf.Runner {
	t.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		testenv.Missing(t, "terraform is not on PATH: install it (see .ci/run) to run this test")
	}
	cfg := filepath.Join(t.TempDir(), "cli.tfrc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return &tf.Runner{Bin: bin, Env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1"), LockTimeout: 30 * time.Second, NoColor: true}
}

// writeProject writes a project of two stacks under root with tmcihcl
// as its tmci.hcl, and loads it.
func writeProject(t *testing.T, root, tmcihcl string, backendType string) *backend.Resolver {
	t.Helper()
	files := map[string]string{
		"tmci.hcl":         tmcihcl,
		"a/stack.tm.hcl":   `stack { id = "a" }`,
		"a/main.tf":        `terraform { backend "` + backendType + `" {} }`,
		"b/c/stack.tm.hcl": `stack { id = "tmci-ledger" }`,
		"b/c/main.tf":      `terraform { backend "` + backendType + `" {} }`,
		"terramate.tm.hcl": "terramate {\n  config {}\n}\n",
	}
	testenv.WriteFiles(t, root, files)
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res, diags := backend.NewResolver(p, backend.Options{LookupEnv: func(k string) (string, bool) {
		v := os.Getenv(k)
		return v, v != ""
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return res
}

const (
	revA = "1111111111111111111111111111111111111111"
	revB = "2222222222222222222222222222222222222222"
)

// localProject keeps each stack's state of environment prod below the
// project's .state directory.
const localProject = `
backend "local" {
  path = "${terramate.stack.path.to_root}/.state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "prod" {}
`

// roundTrip records, reads, forgets and reads again through real
// terraform, and returns the store.
func roundTrip(t *testing.T, res *backend.Resolver, env string) {
	t.Helper()
	cfg, diags, err := ledger.Resolve(res, env)
	if err != nil {
		t.Fatalf("resolve: %v %v", err, diags)
	}
	runner := newRunner(t)
	work := t.TempDir()
	store := ledger.New(runner, filepath.Join(work, "ledger"), cfg)
	got, err := store.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("a new environment's ledger holds %v", got)
	}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if _, err := store.Record(t.Context(), ledger.Entries{"/a": {Revision: revA, Time: at, Verb: ledger.Applied}, "/b/c": {Revision: revA, Time: at, Verb: ledger.Applied}}, nil); err != nil {
		t.Fatal(err)
	}
	// A second run's store, from a fresh work directory, sees it: the
	// ledger lives in the backend, not in the work directory.
	later := at.Add(time.Hour)
	store2 := ledger.New(runner, filepath.Join(t.TempDir(), "ledger"), cfg)
	if _, err := store2.Record(t.Context(), ledger.Entries{"/a": {Revision: revB, Time: later, Verb: ledger.Applied}}, []string{"/b/c"}); err != nil {
		t.Fatal(err)
	}
	got, err = ledger.New(runner, filepath.Join(t.TempDir(), "ledger"), cfg).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Entries{"/a": {Revision: revB, Time: later, Verb: ledger.Applied}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	// Recording what the ledger already holds writes nothing: no
	// entries file, no terraform apply.
	store3 := ledger.New(runner, filepath.Join(t.TempDir(), "ledger"), cfg)
	got, err = store3.Record(t.Context(), ledger.Entries{"/a": {Revision: revB, Time: later, Verb: ledger.Applied}}, []string{"/gone"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries after an unchanged record (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(store3.Dir(), "entries.auto.tfvars.json")); !os.IsNotExist(err) {
		t.Errorf("an unchanged record wrote the ledger's entries (%v)", err)
	}
}

// TestLocal keeps the ledger next to the environment's state files, at
// the template's path for the reserved stack path.
func TestLocal(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	res := writeProject(t, root, localProject, "local")
	roundTrip(t, res, "prod")
	state := filepath.Join(root, ".state", "prod", ".tmci-ledger", "terraform.tfstate")
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatalf("the ledger is not in the environment's state directory: %v", err)
	}
	if !strings.Contains(string(data), revB) {
		t.Errorf("%s does not hold the recorded revision:\n%s", state, data)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, ".tmci-ledger")); len(entries) != 0 {
		t.Errorf("the ledger wrote into the project at .tmci-ledger: %v", entries)
	}
}

// TestPG keeps the ledger in its own schema of the environment's
// database.
func TestPG(t *testing.T) {
	t.Parallel()
	conn := pgtest.NewDatabase(t, "tmci_ledger_")
	db := pgtest.Open(t, conn)
	root := t.TempDir()
	res := writeProject(t, root, `
backend "pg" {
  conn_str    = "`+conn+`"
  schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"
}
environment "pr-*" {}
`, "pg")
	roundTrip(t, res, "pr-7")
	var data string
	if err := db.QueryRow(`SELECT data FROM "pr-7_tmci-ledger".states WHERE name = 'default'`).Scan(&data); err != nil {
		t.Fatalf("the ledger's schema: %v", err)
	}
	if !strings.Contains(data, revB) {
		t.Errorf("the ledger state does not hold the recorded revision:\n%s", data)
	}
}

// TestSharedWithStack refuses a template under which the ledger would
// overwrite a stack's state.
func TestSharedWithStack(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	res := writeProject(t, root, `
backend "local" {
  path = "/tmp/state/${environment.name}/${terramate.stack.id}.tfstate"
}
environment "prod" {}
`, "local")
	_, _, err := ledger.Resolve(res, "prod")
	if err == nil || !strings.Contains(err.Error(), "would share stack /b/c's state object") {
		t.Fatalf("got %v, want a refusal naming /b/c", err)
	}
}

// TestNoTemplate: without a backend template there is no ledger.
func TestNoTemplate(t *testing.T) {
	t.Parallel()
	res := writeProject(t, t.TempDir(), `environment "prod" {}`, "local")
	if _, _, err := ledger.Resolve(res, "prod"); err != ledger.ErrNoTemplate {
		t.Fatalf("got %v, want ErrNoTemplate", err)
	}
}

// TestManyEntries records more entries than one environment variable can
// carry (128 KiB on Linux): the ledger of a large monorepo.
func TestManyEntries(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	res := writeProject(t, root, localProject, "local")
	cfg, _, err := ledger.Resolve(res, "prod")
	if err != nil {
		t.Fatal(err)
	}
	runner := newRunner(t)
	updates := ledger.Entries{}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for i := range 3000 {
		updates[fmt.Sprintf("/services/area%02d/service-with-a-long-name-%05d", i%40, i)] = ledger.Entry{Revision: revA, Time: at, Verb: ledger.Applied}
	}
	if _, err := ledger.New(runner, filepath.Join(t.TempDir(), "ledger"), cfg).Record(t.Context(), updates, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ledger.New(runner, filepath.Join(t.TempDir(), "ledger"), cfg).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(updates, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestByRevision(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 1, 12, min, 0, 0, time.UTC) }
	old, mid, newer := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	e := ledger.Entries{
		"/a": {Revision: old, Time: at(1), Verb: ledger.Applied},
		"/b": {Revision: mid, Time: at(2), Verb: ledger.Applied},
		"/c": {Revision: old, Time: at(9), Verb: ledger.Applied}, // makes old the newest group
		"/d": {Revision: newer, Time: at(5), Verb: ledger.Applied},
	}
	rev := func(p string) string { return e[p].Revision }
	got := e.ByRevision([]string{"/a", "/b", "/c", "/d"}, rev)
	want := []ledger.RevisionGroup{
		{Revision: old, Paths: []string{"/a", "/c"}},
		{Revision: newer, Paths: []string{"/d"}},
		{Revision: mid, Paths: []string{"/b"}},
	}
	if !cmp.Equal(got, want) {
		t.Fatalf("ByRevision:\n got %+v\nwant %+v", got, want)
	}
	// A path the caller maps to another revision (a stack deleted by the
	// change itself) joins that revision's group.
	got = e.ByRevision([]string{"/a", "/x"}, func(p string) string {
		if p == "/x" {
			return mid
		}
		return rev(p)
	})
	want = []ledger.RevisionGroup{{Revision: old, Paths: []string{"/a"}}, {Revision: mid, Paths: []string{"/x"}}}
	if !cmp.Equal(got, want) {
		t.Fatalf("ByRevision with an unrecorded path:\n got %+v\nwant %+v", got, want)
	}
}

// TestFromStateHostile refuses ledger states whose entries would put
// control characters, unclean paths or unknown verbs on a terminal or in
// a GitHub annotation, and reads a well-formed one.
func TestFromStateHostile(t *testing.T) {
	t.Parallel()
	state := func(path, rev, verb string) []byte {
		t.Helper()
		entries, err := json.Marshal(map[string]map[string]string{path: {"revision": rev, "time": "2026-11-27T12:00:00Z", "verb": verb}})
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(map[string]any{"version": 4, "outputs": map[string]any{"entries": map[string]string{"value": string(entries), "type": "string"}}})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	entries, err := ledger.FromState(state("/a/b", revA, ledger.Applied))
	if err != nil || entries["/a/b"].Revision != revA || entries["/a/b"].Verb != ledger.Applied {
		t.Fatalf("a well-formed ledger state: %v, %v", entries, err)
	}
	for name, data := range map[string][]byte{
		"newline in path":  state("/a\n::warning::x", revA, ledger.Applied),
		"escape in path":   state("/a\x1b[2J", revA, ledger.Applied),
		"bidi in path":     state("/a\u202eb", revA, ledger.Applied),
		"unclean path":     state("/a/../../etc", revA, ledger.Applied),
		"relative path":    state("a", revA, ledger.Applied),
		"short revision":   state("/a", revA[:12], ledger.Applied),
		"unknown verb":     state("/a", revA, "apply\x1b[31m"),
		"empty verb":       state("/a", revA, ""),
		"entries not JSON": []byte(`{"outputs":{"entries":{"value":"{"}}}`),
		"too large":        make([]byte, 64<<20+1),
	} {
		if _, err := ledger.FromState(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if e, err := ledger.FromState([]byte(`{"version":4,"outputs":{}}`)); err != nil || len(e) != 0 {
		t.Errorf("an empty ledger state: %v, %v", e, err)
	}
}
