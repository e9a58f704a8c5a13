package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzBackendConfig resolves a stack's backend with an arbitrary
// --backend-config=key=value and an arbitrary --backend-config file:
// no panic, every error is a diagnostic that names the flag or the file,
// and whatever resolves renders to a .tfbackend file.
func FuzzBackendConfig(f *testing.F) {
	for _, seed := range [][2]string{
		{`key=${environment.name}/x`, "bucket = \"b2\"\n"},
		{`region=eu`, "workspaces {\n  name = \"w\"\n}\n"},
		{`bad key=1`, "= broken"},
		{`key=${`, `bucket = env.NOPE`},
		{`=x`, "key = sensitive(\"s\")\n"},
		{`key=%{ if true }a%{ endif }`, "dynamodb_table = 3\nencrypt = true\n"},
		{`password=${env.HOME}`, "bucket = [1, \"a\"]\n"},
	} {
		f.Add(seed[0], []byte(seed[1]))
	}
	p := loadProject(f, `
-- tmci.hcl --
backend "s3" {
  bucket = "b"
  key    = "${environment.name}/${terramate.stack.path.relative}"
}
environment "prod" {
  account = "p"
}
-- stacks/app/stack.tm --
stack {}
`)
	env := envMap(map[string]string{"HOME": "/home/u"})
	f.Fuzz(func(t *testing.T, kv string, file []byte) {
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q, %q", kv, file)) })
		defer tm.Stop()
		dir := t.TempDir()
		cfg := filepath.Join(dir, "fuzz.tfbackend")
		if err := os.WriteFile(cfg, file, 0o644); err != nil {
			t.Fatal(err)
		}
		r, diags := NewResolver(p, Options{LookupEnv: env, BackendConfig: []string{kv, cfg}})
		if diags.HasErrors() {
			for _, d := range diags {
				if !strings.Contains(d.Summary+d.Detail, "backend-config") {
					t.Fatalf("error names no flag: %s: %s", d.Summary, d.Detail)
				}
			}
			return
		}
		c, diags := r.Resolve(p.Scope(p.Stacks[0]), "prod")
		if diags.HasErrors() {
			for _, d := range diags {
				if d.Subject == nil && !strings.Contains(d.Summary+d.Detail, "backend-config") {
					t.Fatalf("error names neither a file nor the flag: %s: %s", d.Summary, d.Detail)
				}
			}
			return
		}
		if _, err := c.JSON(false); err != nil {
			t.Fatalf("json: %v", err)
		}
		c.Limits(nil)
		c.Identity(nil)
		c.TFBackend("header", true)
	})
}

// FuzzReadCode reads an arbitrary stack Terraform file, in native and in
// JSON syntax: no panic, a backend type only from a parsed block, and a
// cloud block and a backend block never both reported.
func FuzzReadCode(f *testing.F) {
	for _, seed := range []string{
		"terraform {\n  backend \"s3\" {\n    key = \"k\"\n    n = 1\n  }\n}\n",
		"terraform {\n  cloud {\n    organization = \"o\"\n  }\n}\nterraform {\n  backend \"pg\" {}\n}\n",
		"terraform {\n  backend {}\n}\n", "terraform {\n  backend \"local\" {\n    path = var.x\n  }\n}\n",
		`{"terraform":{"backend":{"s3":{"key":"k"}}}}`, `{"terraform":[{"backend":[{"gcs":{}}]}]}`,
		`{"terraform":{"backend":"x"}}`, "terraform {\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, src []byte, jsonSyntax bool) {
		dir := t.TempDir()
		name := "main.tf"
		if jsonSyntax {
			name = "main.tf.json"
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _ := ReadCode(dir, filepath.Base)
		if code == nil {
			t.Fatal("nil Code")
		}
		if code.Cloud && code.Type != "" {
			t.Fatalf("both a cloud block and backend %q", code.Type)
		}
		if code.Type == "" && len(code.Attrs) > 0 {
			t.Fatalf("attributes %v without a backend", code.Attrs)
		}
	})
}
