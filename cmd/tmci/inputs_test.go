package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/redact"
)

// inputsTMCI declares inputs at the root, in a subtree and in
// environments, around a backend template (%s).
const inputsTMCI = `%s
inputs {
  environment = environment.name
  claims      = env.CLAIMS
  tier        = "base"
  replicas    = 1
  tags        = { owner = global.owner, env = environment.name }
  token       = sensitive("tok3n-${environment.name}-${terramate.stack.name}")
}
environment "staging" {
  inputs {
    replicas = 3
  }
}
environment "pr-*" {
  inputs {
    tier = "preview"
  }
}
`

// inputsStack is a stack whose one resource has a fixed name per
// environment: it claims a file of that name in a directory every
// environment shares, refusing to overwrite one (set -C), as a bucket or
// a DNS record would refuse a second owner. The file holds what the
// stack received.
const inputsStack = `terraform {
  backend %q {}
}
variable "environment" {
  type = string
}
variable "claims" {}
variable "tier" {
  type = string
}
variable "replicas" {
  type = number
}
variable "tags" {
  type = map(string)
}
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "named" {
  input = "${var.environment}-%s"
  provisioner "local-exec" {
    command = "set -C; printf '%%s' \"$V\" > \"$DIR/$NAME\""
    environment = {
      DIR  = var.claims
      NAME = self.input
      V    = jsonencode({ tier = var.tier, replicas = var.replicas, tags = var.tags, token = var.token })
    }
  }
}
`

// inputsProject writes a project of two stacks, /app (whose subtree
// tmci.hcl overrides tier) and /db, on the backend template.
func inputsProject(t *testing.T, typ, template string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "-- tmci.hcl --\n"+inputsTMCI, template)
	b.WriteString("-- globals.tm --\nglobals {\n  owner = \"team-a\"\n}\n")
	b.WriteString("-- app/tmci.hcl --\ninputs {\n  tier = \"app\"\n}\n")
	for _, s := range []string{"app", "db"} {
		fmt.Fprintf(&b, "-- %s/stack.tm --\nstack {\n  name = %q\n}\n", s, s)
		fmt.Fprintf(&b, "-- %s/main.tf --\n"+inputsStack, s, typ, s)
	}
	return archiveProject(t, b.String())
}

// TestInputsSideBySide applies two previews and staging at the same
// time, on the local backend with terraform and on pg with tofu: every
// environment creates its own fixed-name resources, and each stack
// receives its own environment's values, of every type, with the nearest
// definition winning and the environment's last. The sensitive input
// reaches terraform and no log or report.
func TestInputsSideBySide(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		root := inputsProject(t, "local", `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}`)
		testInputs(t, root, runEnv(t, findTool(t, tools[0]), nil))
	})
	t.Run("pg", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.NewDatabase(t, "tmci_inputs_")
		root := inputsProject(t, "pg", `backend "pg" {
  conn_str    = env.STATE_DB
  schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"
}`)
		testInputs(t, root, runEnv(t, findTool(t, tools[1]), map[string]string{"STATE_DB": conn}))
	})
}

func testInputs(t *testing.T, root string, env map[string]string) {
	claims := t.TempDir()
	env["CLAIMS"] = claims
	envs := []string{"pr-1", "pr-2", "staging"}
	var wg sync.WaitGroup
	for _, e := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, stdout, stderr := tmciCode(t.Context(), env, "-C", root, "apply", "--env="+e, "--log-mode=quiet")
			if code != 0 {
				t.Errorf("apply %s: exit %d\n%s%s", e, code, stdout, stderr)
			}
		}()
	}
	wg.Wait()
	type received struct {
		Tier     string            `json:"tier"`
		Replicas int               `json:"replicas"`
		Tags     map[string]string `json:"tags"`
		Token    string            `json:"token"`
	}
	got := map[string]received{}
	entries, err := os.ReadDir(claims)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(claims, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r received
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v (%q)", e.Name(), err, data)
		}
		got[e.Name()] = r
	}
	want := map[string]received{}
	for _, e := range envs {
		for _, s := range []string{"app", "db"} {
			r := received{Tier: "base", Replicas: 1, Tags: map[string]string{"owner": "team-a", "env": e}, Token: "tok3n-" + e + "-" + s}
			if s == "app" {
				r.Tier = "app" // the subtree's tmci.hcl beats the root's
			}
			if strings.HasPrefix(e, "pr-") {
				r.Tier = "preview" // the environment's beats every file's
			}
			if e == "staging" {
				r.Replicas = 3
			}
			want[e+"-"+s] = r
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resources created and the values they received (-want +got):\n%s", diff)
	}
	// Applied: a second plan of each environment finds nothing to do, so
	// every environment kept its own values in its own state.
	for _, e := range envs {
		tmciWant(t, 0, env, "-C", root, "plan", "--env="+e, "--detailed-exitcode", "--log-mode=quiet")
	}
	// The sensitive input is in no log or report, in any form.
	err = filepath.WalkDir(filepath.Join(root, ".tmci"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tfplan") || strings.Contains(path, string(filepath.Separator)+".terraform"+string(filepath.Separator)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte("tok3n-")) {
			t.Errorf("%s holds a sensitive input", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// tmci exec gives a command the same variables, and a sensitive one
	// it prints is masked.
	out := tmciWant(t, 0, env, "-C", filepath.Join(root, "db"), "exec", "--env=pr-2", "--", "sh", "-c", `printf '%s|%s|%s' "$TF_VAR_environment" "$TF_VAR_replicas" "$TF_VAR_token"`)
	if want := "pr-2|1|" + redact.Mask; out != want {
		t.Errorf("tmci exec printed %q, want %q", out, want)
	}
	out = tmciWant(t, 0, env, "-C", root, "inputs", "--env=pr-2", "--stack=app", "--json")
	var printed []map[string]any
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatalf("tmci inputs --json: %v\n%s", err, out)
	}
	values := map[string]any{}
	for _, p := range printed {
		values[p["name"].(string)] = p["value"]
	}
	wantValues := map[string]any{
		"environment": "pr-2", "claims": claims, "tier": "preview", "replicas": float64(1),
		"tags": map[string]any{"owner": "team-a", "env": "pr-2"}, "token": "<redacted>",
	}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("tmci inputs --env=pr-2 --stack=app --json (-want +got):\n%s", diff)
	}
}

// TestInputsCollide is the check that the side-by-side test can fail:
// when an environment's inputs give its resource the name another
// environment's already has, its apply fails on the claimed name.
func TestInputsCollide(t *testing.T) {
	t.Parallel()
	root := inputsProject(t, "local", `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}`)
	tmciHCL := filepath.Join(root, "tmci.hcl")
	data, err := os.ReadFile(tmciHCL)
	if err != nil {
		t.Fatal(err)
	}
	// Every preview claims the names of pr-1.
	data = bytes.Replace(data, []byte(`tier = "preview"`), []byte("tier = \"preview\"\n    environment = \"pr-1\""), 1)
	if err := os.WriteFile(tmciHCL, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := runEnv(t, findTool(t, tools[0]), map[string]string{"CLAIMS": t.TempDir()})
	tmciWant(t, 0, env, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet", "--stack=db")
	out := tmciWant(t, 1, env, "-C", root, "apply", "--env=pr-2", "--log-mode=quiet", "--stack=db")
	log, _ := os.ReadFile(filepath.Join(root, ".tmci", "pr-2", "logs", "db.log"))
	out += string(log)
	if !strings.Contains(out, "local-exec provisioner error") {
		t.Errorf("the second claim of pr-1-db did not fail in its provisioner:\n%s", out)
	}
}
