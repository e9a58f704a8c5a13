package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsNeverPrinted runs every backend command, in passing and
// failing configurations and at debug log level, and greps everything
// they print and write for the secret values. --show-secrets, the one
// way to see them, is checked to reveal them, which proves the grep can
// find what it looks for.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{
		"PG_PASSWORD":  "pw-hunter2-pw",    // inside conn_str, secret by name
		"SCHEMA_SALT":  "salt-s3cr3t-salt", // marked with sensitive()
		"HTTP_TOKEN":   "tok-0xdeadbeef-tok",
		"NUMBER_LIKE":  "nl-not-a-number-nl", // echoed by a failing function call
		"TF_STATE_ENV": "prod",
	}
	root := toolProject(t, "pg", `backend "pg" {
  conn_str    = "postgres://tf:${env.PG_PASSWORD}@db.example.com/state"
  schema_name = "${environment.name}_${slug(terramate.stack.path.basename)}_${substr(sha256(sensitive(env.SCHEMA_SALT)), 0, 8)}"
  password    = env.HTTP_TOKEN
}`)
	broken := map[string]string{
		// Every stack shares one schema in every environment: the
		// identity in the messages holds conn_str.
		"shared.hcl": `backend "pg" {
  conn_str    = "postgres://tf:${env.PG_PASSWORD}@db.example.com/state"
  schema_name = "state"
}
environment "prod" {}
environment "staging" {}
`,
		// A sensitive value out of limits.
		"limits.hcl": `backend "pg" {
  conn_str    = "postgres://tf:${env.PG_PASSWORD}@db.example.com/state"
  schema_name = sensitive("${environment.name}_${terramate.stack.path.basename}_${env.SCHEMA_SALT}_${env.SCHEMA_SALT}_${env.SCHEMA_SALT}_${env.SCHEMA_SALT}")
}
environment "prod" {}
`,
		// HCL quotes the argument of a failing conversion.
		"function.hcl": `backend "pg" {
  conn_str    = "postgres://tf:${env.PG_PASSWORD}@db.example.com/state"
  schema_name = "${environment.name}_${terramate.stack.path.basename}"
  port        = tonumber(env.NUMBER_LIKE)
}
environment "prod" {}
`,
	}
	var all bytes.Buffer
	runTmci := func(want int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"-C", root, "--log-level", "debug"}, args...)
		code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return secrets[k] }, os.Environ)
		if code != want {
			t.Fatalf("tmci %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
		}
		all.Write(stdout.Bytes())
		all.Write(stderr.Bytes())
		return stdout.String() + stderr.String()
	}
	runTmci(0, "backend", "--env=prod", "--format=json")
	runTmci(0, "backend", "--env=prod", "--stack=stacks/app")
	runTmci(0, "backend", "--env=prod", "--stack=stacks/app", "--format=args")
	runTmci(0, "backend", "--env=prod", "--stack=stacks/app", "--format=json", "--backend-config=password=${env.HTTP_TOKEN}")
	runTmci(0, "check")
	runTmci(1, "generate", "--env=prod")
	runTmci(0, "generate", "--check")
	hcl, err := os.ReadFile(filepath.Join(root, "tmci.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range broken {
		if err := os.WriteFile(filepath.Join(root, "tmci.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runTmci(1, "check")
		if !strings.Contains(out, "tmci.hcl:") {
			t.Errorf("%s: check printed no diagnostic:\n%s", name, out)
		}
		// Shared state is a cross-stack problem that only check sees.
		want := 1
		if name == "shared.hcl" {
			want = 0
		}
		runTmci(want, "backend", "--env=prod", "--format=json")
		runTmci(1, "generate", "--env=prod", "--allow-secrets")
	}
	for name, v := range secrets {
		if name == "TF_STATE_ENV" {
			continue
		}
		if bytes.Contains(all.Bytes(), []byte(v)) {
			t.Errorf("the value of %s appears in tmci's output:\n%s", name, all.String())
		}
	}
	// The grep would see a secret that is printed.
	if err := os.WriteFile(filepath.Join(root, "tmci.hcl"), hcl, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runTmci(0, "backend", "--env=prod", "--stack=stacks/app", "--show-secrets"); !strings.Contains(out, secrets["PG_PASSWORD"]) {
		t.Errorf("--show-secrets does not show conn_str:\n%s", out)
	}
}
