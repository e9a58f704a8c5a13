package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/sharing"
)

// sharingProject is a Terramate outputs-sharing project as `terramate
// generate` leaves it: /src (id "src") shares vpc_id and a sensitive
// secret; /app reads both through input blocks and writes what it
// received to $CLAIMS/<environment>, refusing to overwrite (set -C).
// Alphabetical order would run /app first: only from_stack_id orders it.
const sharingProject = `-- terramate.tm.hcl --
terramate {
  config {
    experiments = ["outputs-sharing"]
  }
}
sharing_backend "default" {
  type     = terraform
  filename = "sharing_generated.tf"
  command  = ["terraform", "output", "-json"]
}
-- tmci.hcl --
%s
environment "staging" {}
environment "pr-*" {
  ephemeral = true
}
inputs {
  env    = environment.name
  claims = env.CLAIMS
}
-- src/stack.tm --
stack {
  name = "src"
  id   = "src"
}
output "vpc_id" {
  backend = "default"
  value   = terraform_data.vpc.output
}
output "secret" {
  backend   = "default"
  value     = "s3cr3t-${terraform_data.vpc.output}"
  sensitive = true
}
-- src/sharing_generated.tf --
// TERRAMATE: GENERATED AUTOMATICALLY DO NOT EDIT

output "vpc_id" {
  value = terraform_data.vpc.output
}
output "secret" {
  value     = "s3cr3t-${terraform_data.vpc.output}"
  sensitive = true
}
-- src/main.tf --
terraform {
  backend %[2]q {}
}
variable "env" {
  type = string
}
resource "terraform_data" "vpc" {
  input = "vpc-${var.env}"
}
-- app/stack.tm --
stack {
  name = "app"
  id   = "app"
}
input "vpc_id" {
  backend       = "default"
  from_stack_id = "src"
  value         = outputs.vpc_id.value
  mock          = "mock-vpc"
}
input "token" {
  backend       = "default"
  from_stack_id = "src"
  value         = tm_upper(outputs.secret.value)
  mock          = "mock-token"
}
-- app/sharing_generated.tf --
// TERRAMATE: GENERATED AUTOMATICALLY DO NOT EDIT

variable "vpc_id" {
  type = any
}
variable "token" {
  type = any
}
-- app/main.tf --
terraform {
  backend %[2]q {}
}
variable "env" {
  type = string
}
variable "claims" {}
resource "terraform_data" "app" {
  input = "${var.vpc_id}|${var.token}"
  provisioner "local-exec" {
    command     = "set -C; printf '%%s' \"$V\" > \"$DIR/$NAME\""
    environment = {
      DIR  = var.claims
      NAME = var.env
      V    = self.input
    }
  }
}
`

// TestSharingPerEnvironment runs outputs sharing for real, on the local
// backend with terraform and on pg with tofu: a first plan of a new
// preview uses the mocks (log and report say so per input) and its
// apply refuses them; once the source is applied, a consumer receives
// its own environment's outputs in each of two environments, the
// sensitive one never shown.
func TestSharingPerEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		root := archiveProject(t, fmt.Sprintf(sharingProject, `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}`, "local"))
		testSharing(t, root, runEnv(t, findTool(t, tools[0]), nil))
	})
	t.Run("pg", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.NewDatabase(t, "tmci_sharing_")
		root := archiveProject(t, fmt.Sprintf(sharingProject, `backend "pg" {
  conn_str    = env.STATE_DB
  schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"
}`, "pg"))
		testSharing(t, root, runEnv(t, findTool(t, tools[1]), map[string]string{"STATE_DB": conn}))
	})
}

func testSharing(t *testing.T, root string, env map[string]string) {
	claims := t.TempDir()
	env["CLAIMS"] = claims
	q := "--log-mode=quiet"

	// A new preview: /src has no state in pr-1, so /app's plan takes
	// both mocks, in the log and the report.
	out := tmciWant(t, 0, env, "-C", root, "plan", "--env=pr-1", q)
	if !strings.Contains(out, "/app used mock values for token (app/stack.tm:11: /src has no state in pr-1 yet), vpc_id (app/stack.tm:5:") {
		t.Errorf("the console does not name the mocked inputs:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	if got := order(rep); !cmp.Equal(got, []string{"/src", "/app"}) {
		t.Errorf("run order %v, want /src before /app", got)
	}
	mocked := map[string][]string{}
	for _, s := range rep.Stacks {
		for _, m := range s.MockedInputs {
			mocked[s.Path] = append(mocked[s.Path], m.Name+"@"+m.Defined+"@"+m.Source)
			if !strings.Contains(m.Reason, "no state in pr-1") {
				t.Errorf("mock reason %q does not say the source has no state in pr-1", m.Reason)
			}
		}
	}
	want := map[string][]string{"/app": {"token@app/stack.tm:11@/src", "vpc_id@app/stack.tm:5@/src"}}
	if diff := cmp.Diff(want, mocked); diff != "" {
		t.Errorf("mocked inputs in report.json (-want +got):\n%s", diff)
	}
	log := readFile(t, filepath.Join(root, ".tmci", "pr-1", "logs", "app.log"))
	for _, in := range []string{"vpc_id (app/stack.tm:5): using its mock value", "token (app/stack.tm:11): using its mock value"} {
		if !strings.Contains(log, in) {
			t.Errorf("app.log does not say %q:\n%s", in, log)
		}
	}

	// Its apply refuses the plan made with mocks; /src's own plan applies.
	tmciWant(t, 1, env, "-C", root, "apply", "--env=pr-1", "--from-plans", q)
	rep = readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	if got := statuses(rep); !cmp.Equal(got, map[string]string{"/src": report.StatusSucceeded, "/app": report.StatusFailed}) {
		t.Errorf("apply --from-plans statuses %v", got)
	}
	if e := stackError(rep, "/app"); !strings.Contains(e, "used mock values for the inputs vpc_id (app/stack.tm:5), token (app/stack.tm:11)") {
		t.Errorf("/app's error does not refuse the mocks: %q", e)
	}
	// An apply that plans anew refuses them too: /src is not applied in
	// pr-2, and this run does not apply it.
	tmciWant(t, 1, env, "-C", root, "apply", "--env=pr-2", "--stack=app", q)
	rep = readReport(t, filepath.Join(root, ".tmci", "pr-2", "report.json"))
	if e := stackError(rep, "/app"); !strings.Contains(e, "app/stack.tm:5:1: Input without a value") || !strings.Contains(e, "/src has no state in pr-2 yet") {
		t.Errorf("/app's error in pr-2 does not name the input and why: %q", e)
	}
	if entries, _ := os.ReadDir(claims); len(entries) > 0 {
		t.Fatalf("a refused apply created resources: %v", entries)
	}

	// With /src applied, /app receives its own environment's outputs.
	// The applies' logs (which later plans replace) and console show no
	// secret, not even upper-cased as /app derives it.
	for _, e := range []string{"pr-1", "staging"} {
		out := tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--log-mode=stream")
		if strings.Contains(strings.ToLower(out), "s3cr3t") {
			t.Errorf("apply in %s printed the sensitive output:\n%s", e, out)
		}
		noSecretIn(t, filepath.Join(root, ".tmci"))
	}
	for _, e := range []string{"pr-1", "staging"} {
		got := readFile(t, filepath.Join(claims, e))
		if want := "vpc-" + e + "|S3CR3T-VPC-" + strings.ToUpper(e); got != want {
			t.Errorf("/app in %s received %q, want %q", e, got, want)
		}
		// Nothing left to do, and no mock any more.
		tmciWant(t, 0, env, "-C", root, "plan", "--env="+e, "--detailed-exitcode", q)
		rep = readReport(t, filepath.Join(root, ".tmci", e, "report.json"))
		for _, s := range rep.Stacks {
			if len(s.MockedInputs) > 0 {
				t.Errorf("%s in %s used mocks once its source was applied: %v", s.Path, e, s.MockedInputs)
			}
		}
	}
	// tmci exec (terramate run -- tmci exec ...) reads the same values;
	// a mock only with --mock-on-fail, as the command may apply.
	app := filepath.Join(root, "app")
	show := []string{"--", "sh", "-c", `printf '%s' "$TF_VAR_vpc_id"`}
	code, stdout, stderr := tmciCode(t.Context(), env, append([]string{"-C", app, "exec", "--env=staging"}, show...)...)
	if code != 0 || stdout != `"vpc-staging"` {
		t.Errorf("tmci exec in staging: exit %d, printed %q\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = tmciCode(t.Context(), env, append([]string{"-C", app, "exec", "--env=pr-3"}, show...)...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "/src has no state in pr-3 yet") {
		t.Errorf("tmci exec in pr-3 without --mock-on-fail: exit %d, printed %q\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = tmciCode(t.Context(), env, append([]string{"-C", app, "exec", "--env=pr-3", "--mock-on-fail"}, show...)...)
	if code != 0 || stdout != `"mock-vpc"` || !strings.Contains(stderr, "using its mock value") {
		t.Errorf("tmci exec in pr-3 with --mock-on-fail: exit %d, printed %q\n%s", code, stdout, stderr)
	}

	// tmci inputs names where each input block's value comes from.
	var listed []inputJSON
	if err := json.Unmarshal([]byte(tmci(t, env, "-C", root, "inputs", "--env=pr-1", "--stack=app", "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	from := map[string]string{}
	for _, in := range listed {
		from[in.Name] = in.FromStack
		if in.FromStack != "" {
			from[in.Name] += "@" + in.Defined
		}
	}
	if diff := cmp.Diff(map[string]string{"env": "", "claims": "", "vpc_id": "/src@app/stack.tm:5", "token": "/src@app/stack.tm:11"}, from); diff != "" {
		t.Errorf("tmci inputs --json (-want +got):\n%s", diff)
	}

	// The sensitive output, in any case, is in no log or report.
	noSecretIn(t, filepath.Join(root, ".tmci"))
}

// noSecretIn fails the test when a file below dir other than a plan or
// terraform's own data holds the sensitive output of sharingProject, in
// any case.
func noSecretIn(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tfplan") || strings.Contains(path, string(filepath.Separator)+".terraform"+string(filepath.Separator)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(bytes.ToLower(data), []byte("s3cr3t")) {
			t.Errorf("%s holds the sensitive output", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func order(rep report.Report) []string {
	var out []string
	for _, s := range rep.Stacks {
		out = append(out, s.Path)
	}
	return out
}

func stackError(rep report.Report, path string) string {
	for _, s := range rep.Stacks {
		if s.Path == path {
			return s.Error
		}
	}
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSharingConfigErrors: a from_stack_id that names no stack, and
// inputs that read each other, are errors at their file:line before
// anything runs.
func TestSharingConfigErrors(t *testing.T) {
	t.Parallel()
	head := "-- terramate.tm.hcl --\nterramate {\n  config {\n    experiments = [\"outputs-sharing\"]\n  }\n}\n" +
		"sharing_backend \"default\" {\n  type     = terraform\n  filename = \"s.tf\"\n  command  = [\"terraform\", \"output\", \"-json\"]\n}\n"
	input := func(name, from string) string {
		return fmt.Sprintf("input %q {\n  backend       = \"default\"\n  from_stack_id = %q\n  value         = outputs.x.value\n}\n", name, from)
	}
	tests := []struct {
		name, files string
		want        []string
	}{
		{"unknown id", "-- a/stack.tm --\nstack {\n  id = \"a\"\n}\n" + input("x", "nope"),
			[]string{"a/stack.tm:6", "Unknown stack ID", `no stack has that id`}},
		{"cycle", "-- a/stack.tm --\nstack {\n  id = \"a\"\n}\n" + input("x", "b") +
			"-- b/stack.tm --\nstack {\n  id = \"b\"\n}\n" + input("y", "a"),
			[]string{"Cycle in stack order", "/a reads input x from /b", "/b reads input y from /a", "a/stack.tm:4", "b/stack.tm:4"}},
		{"other command", "-- a/stack.tm --\nstack {\n  id = \"a\"\n}\n-- b/stack.tm --\nstack {\n  id = \"b\"\n}\n" + input("y", "a") +
			"sharing_backend \"default\" {\n  type     = terraform\n  filename = \"s.tf\"\n  command  = [\"cat\", \"outputs.json\"]\n}\n",
			[]string{"b/stack.tm:12", "Unsupported sharing_backend command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := archiveProject(t, head+tt.files)
			code, stdout, stderr := tmciCode(t.Context(), map[string]string{}, "-C", root, "graph", "--format=json")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestSharingParity compares tmci's outputs sharing with Terramate
// 0.17.2's, recorded: testdata/sharing/terramate-values.json holds the
// TF_VAR_ values `terramate run --enable-sharing` passed each stack of
// testdata/sharing/parity.txtar after its sources were applied in the
// environment "parity" (written by `go run ./bench/sharingparity
// -record`, which also runs the comparison live). tmci must pass the
// same values, as terraform reads them, in "parity", and each
// environment's own in "pr-1".
func TestSharingParity(t *testing.T) {
	t.Parallel()
	root := archiveProject(t, readFile(t, filepath.Join("testdata", "sharing", "parity.txtar")))
	var want map[string]map[string]string
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join("testdata", "sharing", "terramate-values.json"))), &want); err != nil {
		t.Fatal(err)
	}
	env := runEnv(t, findTool(t, tools[0]), nil)
	for _, e := range []string{"parity", "pr-1"} {
		tmciWant(t, 0, env, "-C", root, "apply", "--env="+e, "--log-mode=quiet")
		out := t.TempDir()
		tmciWant(t, 0, env, "-C", root, "run", "--env="+e, "--log-mode=quiet", "--", "sh", "-c", `env -0 > "`+out+`/$(basename "$PWD").env"`)
		for stack, vars := range want {
			data := readFile(t, filepath.Join(out, stack+".env"))
			got := map[string]string{}
			for _, kv := range strings.Split(data, "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TF_VAR_") && k != "TF_VAR_env" {
					got[k] = v
				}
			}
			if len(got) != len(vars) {
				t.Errorf("%s in %s: tmci passed %d variables, Terramate %d: %v", stack, e, len(got), len(vars), got)
			}
			for k, w := range vars {
				w = strings.ReplaceAll(w, "parity", e)
				same, err := sharing.SameTFVar(w, got[k])
				if err != nil || !same {
					t.Errorf("%s in %s: %s = %q, want %q as Terramate passes it (%v)", stack, e, k, got[k], w, err)
				}
			}
		}
	}
}
