package tf_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

// backendCase sets up one backend type for the two-environment test: the
// backend block of the stack, the backend file per environment, and a
// reader of the environment's state.
type backendCase struct {
	name  string
	block string
	// setup returns the backend file content for env and a function
	// returning the raw state JSON stored for env.
	setup func(t *testing.T, env string) (content string, state func() string)
	// objects lists what the backend holds after both applies.
	objects func(t *testing.T) []string
}

func localBackend(root string) backendCase {
	stateDir := filepath.Join(root, "state")
	return backendCase{
		name:  "local",
		block: `backend "local" {}`,
		setup: func(t *testing.T, env string) (string, func() string) {
			path := filepath.Join(stateDir, env+".tfstate")
			return fmt.Sprintf("path = %q\n", path), func() string {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		},
		objects: func(t *testing.T) []string { return listFiles(t, stateDir) },
	}
}

func pgBackend(conn string) backendCase {
	return backendCase{
		name:  "pg",
		block: `backend "pg" {}`,
		setup: func(t *testing.T, env string) (string, func() string) {
			schema := "state_" + strings.ReplaceAll(env, "-", "_")
			content := fmt.Sprintf("conn_str = %q\nschema_name = %q\n", conn, schema)
			return content, func() string {
				var data string
				err := openDB(t, conn).QueryRow("SELECT data FROM " + schema + ".states WHERE name = 'default'").Scan(&data)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
		},
		objects: func(t *testing.T) []string {
			rows, err := openDB(t, conn).Query(`SELECT table_schema || '.' || table_name FROM information_schema.tables
				WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				names = append(names, n)
			}
			return names
		},
	}
}

// stateInputs returns the input of every terraform_data in a state.
func stateInputs(t *testing.T, state string) []string {
	t.Helper()
	var s struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes struct {
					Input struct{ Value string } // a dynamic value
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(state), &s); err != nil {
		t.Fatalf("state: %v\n%s", err, state)
	}
	var inputs []string
	for _, r := range s.Resources {
		for _, i := range r.Instances {
			inputs = append(inputs, i.Attributes.Input.Value)
		}
	}
	return inputs
}

// TestTwoEnvironments plans, applies and destroys one stack in two
// environments, with the local backend and with pg, and checks that each
// environment has its own data directory and state object and that
// nothing lands in the stack directory.
func TestTwoEnvironments(t *testing.T) {
	t.Parallel()
	for _, binName := range binaries {
		for _, backend := range []string{"local", "pg"} {
			t.Run(binName+"/"+backend, func(t *testing.T) {
				bin := requireBinary(t, binName)
				root := t.TempDir()
				var bc backendCase
				if backend == "local" {
					bc = localBackend(root)
				} else {
					bc = pgBackend(newDatabase(t))
				}
				stackDir := filepath.Join(root, "stacks", "app")
				writeFiles(t, stackDir, map[string]string{"main.tf": `
terraform {
  ` + bc.block + `
}
variable "env" {
  type = string
}
resource "terraform_data" "x" {
  input = var.env
}
`})
				r := newRunner(t, bin)
				envs := []string{"pr-1", "staging"}
				states := map[string]func() string{}
				stacks := map[string]tf.Stack{}
				for _, env := range envs {
					content, state := bc.setup(t, env)
					states[env] = state
					work := filepath.Join(root, ".tmci", env)
					var out bytes.Buffer
					s := tf.Stack{
						Dir:         stackDir,
						DataDir:     filepath.Join(work, "stacks/app"),
						BackendFile: filepath.Join(work, "backend", "stacks-app.tfbackend"),
						Env:         []string{"TF_VAR_env=" + env},
						Out:         &out,
					}
					stacks[env] = s
					if err := tf.WriteBackendFile(s.BackendFile, []byte(content)); err != nil {
						t.Fatal(err)
					}
					if err := r.Init(t.Context(), s); err != nil {
						t.Fatalf("%v\n%s", err, out.String())
					}
					plan := filepath.Join(work, "plans", "stacks-app.tfplan")
					changes, err := r.Plan(t.Context(), s, plan)
					if err != nil || !changes {
						t.Fatalf("plan %s: changes=%v err=%v\n%s", env, changes, err, out.String())
					}
					sum, err := r.Show(t.Context(), s, plan)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff([]tf.Change{{Address: "terraform_data.x", Action: tf.Create}}, sum.Changes); diff != "" {
						t.Errorf("%s plan (-want +got):\n%s", env, diff)
					}
					if _, err := r.Apply(t.Context(), s, plan); err != nil {
						t.Fatalf("%v\n%s", err, out.String())
					}
				}
				for _, env := range envs {
					if diff := cmp.Diff([]string{env}, stateInputs(t, states[env]())); diff != "" {
						t.Errorf("state of %s (-want +got):\n%s", env, diff)
					}
					// A second plan reads the state just written: no changes.
					changes, err := r.Plan(t.Context(), stacks[env], filepath.Join(root, "again.tfplan"))
					if err != nil || changes {
						t.Errorf("re-plan %s: changes=%v err=%v", env, changes, err)
					}
				}
				var wantObjects []string
				if backend == "local" {
					wantObjects = []string{"pr-1.tfstate", "staging.tfstate"}
				} else {
					wantObjects = []string{"state_pr_1.states", "state_staging.states"}
				}
				if diff := cmp.Diff(wantObjects, bc.objects(t)); diff != "" {
					t.Errorf("state objects (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"main.tf"}, listFiles(t, stackDir)); diff != "" {
					t.Errorf("stack directory (-want +got):\n%s", diff)
				}
				for _, env := range envs {
					s := stacks[env]
					for _, dir := range []string{s.DataDir, filepath.Join(root, ".tmci", env, "plans")} {
						info, err := os.Stat(dir)
						if err != nil {
							t.Fatal(err)
						}
						if perm := info.Mode().Perm(); perm != 0o700 {
							t.Errorf("%s has mode %o, want a private directory (700)", dir, perm)
						}
					}
					if _, err := os.Stat(filepath.Join(s.DataDir, "terraform.tfstate")); err != nil {
						t.Errorf("%s holds no initialised backend: %v", s.DataDir, err)
					}
				}
				for _, env := range envs {
					if _, err := r.Destroy(t.Context(), stacks[env]); err != nil {
						t.Fatal(err)
					}
					if got := stateInputs(t, states[env]()); len(got) != 0 {
						t.Errorf("state of %s after destroy holds %q", env, got)
					}
				}
			})
		}
	}
}

// TestPlanCounts applies a stack, changes its code so that one resource is
// created, one updated in place, one deleted and one replaced, and checks
// the summary of the real plan.
func TestPlanCounts(t *testing.T) {
	t.Parallel()
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := requireBinary(t, binName)
			dir := t.TempDir()
			stackDir := filepath.Join(dir, "stack")
			var out bytes.Buffer
			s := tf.Stack{
				Dir:         stackDir,
				DataDir:     filepath.Join(dir, "data"),
				BackendFile: filepath.Join(dir, "b.tfbackend"),
				Out:         &out,
			}
			if err := tf.WriteBackendFile(s.BackendFile, fmt.Appendf(nil, "path = %q\n", filepath.Join(dir, "s.tfstate"))); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, stackDir, map[string]string{"main.tf": `
terraform {
  backend "local" {}
}
resource "terraform_data" "upd" {
  input = "v1"
}
resource "terraform_data" "del" {
  input = "x"
}
resource "terraform_data" "repl" {
  triggers_replace = "v1"
}
`})
			r := newRunner(t, bin)
			r.NoColor = true
			if err := r.Init(t.Context(), s); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if _, err := r.Apply(t.Context(), s, ""); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			writeFiles(t, stackDir, map[string]string{"main.tf": `
terraform {
  backend "local" {}
}
resource "terraform_data" "upd" {
  input = "v2"
}
resource "terraform_data" "repl" {
  triggers_replace = "v2"
}
resource "terraform_data" "new" {
}
`})
			plan := filepath.Join(dir, "p.tfplan")
			changes, err := r.Plan(t.Context(), s, plan)
			if err != nil || !changes {
				t.Fatalf("plan: changes=%v err=%v\n%s", changes, err, out.String())
			}
			got, err := r.Show(t.Context(), s, plan)
			if err != nil {
				t.Fatal(err)
			}
			want := tf.Summary{
				Create: 1, Update: 1, Delete: 1, Replace: 1,
				Changes: []tf.Change{
					{Address: "terraform_data.del", Action: tf.Delete},
					{Address: "terraform_data.new", Action: tf.Create},
					{Address: "terraform_data.repl", Action: tf.Replace},
					{Address: "terraform_data.upd", Action: tf.Update},
				},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if strings.Contains(out.String(), "\x1b[") {
				t.Errorf("output has colours despite NoColor:\n%q", out.String())
			}
		})
	}
}

// TestEnvironment checks what every command gets, with a command that
// prints its environment.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &tf.Runner{Bin: "unused", Env: []string{"PATH=" + os.Getenv("PATH"), "TF_INPUT=1", "KEEP=1"}}
	dir := t.TempDir()
	s := tf.Stack{Dir: dir, DataDir: "rel/data", Env: []string{"TMCI_ENV=pr-1"}, Out: &out}
	if err := r.Exec(t.Context(), s, []string{"sh", "-c", `echo "$TF_IN_AUTOMATION $TF_INPUT $KEEP $TMCI_ENV $TF_DATA_DIR"; pwd`}); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("rel/data")
	want := fmt.Sprintf("1 0 1 pr-1 %s\n%s\n", abs, dir)
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	err := r.Exec(t.Context(), s, []string{"sh", "-c", "exit 3"})
	if err == nil || err.Error() != "sh in "+dir+": exit status 3" {
		t.Errorf("error %v, want the exit status naming the command and directory", err)
	}
}

// TestInitArgsEnv runs a plain `terraform init` and apply through Exec, as
// a user's command under tmci run does, with a backend file whose path
// needs quoting: the state must land where the file says.
func TestInitArgsEnv(t *testing.T) {
	t.Parallel()
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := requireBinary(t, binName)
			dir := filepath.Join(t.TempDir(), "it's a dir")
			stackDir := filepath.Join(dir, "stack")
			writeFiles(t, stackDir, map[string]string{"main.tf": `
terraform {
  backend "local" {}
}
resource "terraform_data" "x" {
  input = "run"
}
`})
			backendFile := filepath.Join(dir, "work", "b.tfbackend")
			statePath := filepath.Join(dir, "state", "run.tfstate")
			if err := tf.WriteBackendFile(backendFile, fmt.Appendf(nil, "path = %q\n", statePath)); err != nil {
				t.Fatal(err)
			}
			initArgs, err := tf.InitArgsEnv(backendFile)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			s := tf.Stack{Dir: stackDir, DataDir: filepath.Join(dir, "data"), Env: []string{initArgs}, Out: &out}
			r := newRunner(t, bin)
			for _, argv := range [][]string{{bin, "init", "-input=false"}, {bin, "apply", "-auto-approve", "-input=false"}} {
				if err := r.Exec(t.Context(), s, argv); err != nil {
					t.Fatalf("%v\n%s", err, out.String())
				}
			}
			state, err := os.ReadFile(statePath)
			if err != nil {
				t.Fatalf("no state at the backend file's path: %v\n%s", err, out.String())
			}
			if diff := cmp.Diff([]string{"run"}, stateInputs(t, string(state))); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutputsLimit: `output -json` of a stack is read up to the caller's
// limit (the outputs are the repository's, and may be any size); past
// it, an error that names the limit, and no bytes.
func TestOutputsLimit(t *testing.T) {
	t.Parallel()
	bin := requireBinary(t, binaries[0])
	dir := t.TempDir()
	stackDir := filepath.Join(dir, "stack")
	var out bytes.Buffer
	s := tf.Stack{Dir: stackDir, DataDir: filepath.Join(dir, "data"), BackendFile: filepath.Join(dir, "b.tfbackend"), Out: &out}
	if err := tf.WriteBackendFile(s.BackendFile, fmt.Appendf(nil, "path = %q\n", filepath.Join(dir, "s.tfstate"))); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, stackDir, map[string]string{"main.tf": `
terraform {
  backend "local" {}
}
output "big" {
  value = format("%02000d", 7)
}
`})
	r := newRunner(t, bin)
	if err := r.Init(t.Context(), s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if _, err := r.Apply(t.Context(), s, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	data, err := r.Outputs(t.Context(), s, 4000)
	if err != nil || !bytes.Contains(data, []byte(`"`+strings.Repeat("0", 1999)+`7"`)) {
		t.Fatalf("outputs within the limit: %v, %d bytes\n%.300s", err, len(data), data)
	}
	data, err = r.Outputs(t.Context(), s, 1000)
	if err == nil || !strings.Contains(err.Error(), "over 1000 bytes") || data != nil {
		t.Errorf("outputs over the limit: %v, %d bytes", err, len(data))
	}
}
