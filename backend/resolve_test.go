package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

const resolveProject = `
-- tmci.hcl --
backend "s3" {
  bucket     = "acme-${environment.account}"
  key        = "${environment.name}/${terramate.stack.path.relative}"
  region     = try(env.REGION, "eu-west-1")
  encrypt    = true
  acl        = "private"
  token      = "not-shown"
  kms_key_id = sensitive("kms-${global.team}")
}
environment "prod" {
  account = "prod"
}
environment "pr-*" {
  account = "dev-${environment.name}"
  backend {
    bucket = "acme-previews"
    acl    = null
  }
}
-- globals.tm --
globals {
  team = "core"
}
-- stacks/app/stack.tm --
stack {}
-- stacks/app/extra.tfbackend --
region = "us-east-2"
-- stacks/db/stack.tm --
stack {}
-- other/tmci.hcl --
backend "local" {
  path = "${environment.name}.tfstate"
}
-- other/x/stack.tm --
stack {}
-- nobackend.txt --
`

// resolveAttrs resolves stack in env and returns its attributes as strings.
func resolveAttrs(t *testing.T, r *Resolver, stack, env string) (map[string]string, hcl.Diagnostics) {
	t.Helper()
	c, diags := r.Resolve(r.Project().Scope(r.Project().Stack(stack)), env)
	if c == nil {
		return nil, diags
	}
	out := map[string]string{}
	for n, v := range c.Attrs {
		s, _ := primitiveString(v.Val)
		if v.Sensitive {
			s += " (sensitive)"
		}
		out[n] = s
	}
	return out, diags
}

func TestResolve(t *testing.T) {
	p := loadProject(t, resolveProject)
	tests := []struct {
		name   string
		stack  string
		env    string
		flags  []string
		getenv map[string]string
		want   map[string]string
	}{
		{
			name: "template", stack: "/stacks/app", env: "prod",
			want: map[string]string{
				"bucket": "acme-prod", "key": "prod/stacks/app", "region": "eu-west-1",
				"encrypt": "true", "acl": "private", "token": "not-shown (sensitive)", "kms_key_id": "kms-core (sensitive)",
			},
		},
		{
			name: "environment override and null removal", stack: "/stacks/db", env: "pr-7",
			getenv: map[string]string{"REGION": "us-west-1"},
			want: map[string]string{
				"bucket": "acme-previews", "key": "pr-7/stacks/db", "region": "us-west-1",
				"encrypt": "true", "token": "not-shown (sensitive)", "kms_key_id": "kms-core (sensitive)",
			},
		},
		{
			name: "flags after the template, later wins", stack: "/stacks/app", env: "prod",
			flags: []string{"extra.tfbackend", "key=${environment.name}-${terramate.stack.name}", "encrypt=false", "key=k/${terramate.stack.path.basename}"},
			want: map[string]string{
				"bucket": "acme-prod", "key": "k/app", "region": "us-east-2",
				"encrypt": "false", "acl": "private", "token": "not-shown (sensitive)", "kms_key_id": "kms-core (sensitive)",
			},
		},
		{
			name: "subtree template", stack: "/other/x", env: "pr-1",
			want: map[string]string{"path": "pr-1.tfstate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, diags := NewResolver(p, Options{LookupEnv: envMap(tt.getenv), BackendConfig: tt.flags})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := resolveAttrs(t, r, tt.stack, tt.env)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	p := loadProject(t, resolveProject)
	abs := filepath.Join(t.TempDir(), "abs.tfbackend")
	if err := os.WriteFile(abs, []byte(`bucket = "from-abs"`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   string
		flags []string
		want  string // substring of the first error's summary + detail
	}{
		{"unknown environment", "qa", nil, `unknown environment "qa": the known environments are prod, pr-*`},
		{"invalid environment", "Prod", nil, `invalid environment name "Prod"`},
		{"missing flag file", "prod", []string{"nope.tfbackend"}, "stacks/app/nope.tfbackend for stack /stacks/app, which does not exist"},
		{"escaping flag file", "prod", []string{"../../../x.tfbackend"}, "outside the project root"},
		{"bad flag key", "prod", []string{"a b=c"}, `"a b" is not an attribute name`},
		{"flag with unset env", "prod", []string{"key=${env.NOPE}"}, "In --backend-config=key=...: Stack /stacks/app needs env.NOPE, but"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, diags := NewResolver(p, Options{LookupEnv: envMap(nil), BackendConfig: tt.flags})
			if !diags.HasErrors() {
				_, diags = resolveAttrs(t, r, "/stacks/app", tt.env)
			}
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if got := diags[0].Summary + ": " + diags[0].Detail; !strings.Contains(got, tt.want) {
				t.Errorf("error %q does not contain %q", got, tt.want)
			}
		})
	}
	t.Run("absolute flag file", func(t *testing.T) {
		r, _ := NewResolver(p, Options{LookupEnv: envMap(nil), BackendConfig: []string{abs}})
		got, diags := resolveAttrs(t, r, "/stacks/app", "prod")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got["bucket"] != "from-abs" {
			t.Errorf("bucket = %q, want from-abs", got["bucket"])
		}
	})
}

// TestUnsetEnvNamesEverything checks the message users get for an unset
// variable: the variable, the stack and the template's file:line.
func TestUnsetEnvNamesEverything(t *testing.T) {
	p := loadProject(t, `
-- tmci.hcl --
backend "local" {
  path = "${env.STATE_DIR}/${environment.name}"
}
environment "prod" {}
-- a/stack.tm --
stack {}
`)
	r, _ := NewResolver(p, Options{LookupEnv: envMap(map[string]string{"STATE_DIR": ""})})
	_, diags := r.Resolve(p.Scope(p.Stack("/a")), "prod")
	if len(diags) != 1 {
		t.Fatalf("want 1 diagnostic, got %v", diags)
	}
	d := diags[0]
	want := `Stack /a needs env.STATE_DIR (at tmci.hcl:2,13-26), but the variable STATE_DIR is not set or is empty. Set it, or give a default with try(env.STATE_DIR, "...").`
	if diff := cmp.Diff(want, d.Detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if d.Subject == nil || d.Subject.Filename != "tmci.hcl" || d.Subject.Start.Line != 2 {
		t.Errorf("subject = %v, want tmci.hcl line 2", d.Subject)
	}
}

// TestLazyEvaluation checks that env.* is read only where a winning
// definition names it: a template value the preview override replaces,
// and an environment attribute no template uses, need no variable.
func TestLazyEvaluation(t *testing.T) {
	p := loadProject(t, `
-- tmci.hcl --
backend "s3" {
  bucket = env.PROD_BUCKET
  key    = "${environment.name}/${terramate.stack.path.relative}"
}
environment "prod" {
  unused = env.NOT_SET_EITHER
}
environment "pr-*" {
  backend {
    bucket = "previews"
  }
}
-- a/stack.tm --
stack {}
`)
	var read []string
	r, _ := NewResolver(p, Options{LookupEnv: func(k string) (string, bool) {
		read = append(read, k)
		return "", false
	}})
	got, diags := resolveAttrs(t, r, "/a", "pr-1")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff(map[string]string{"bucket": "previews", "key": "pr-1/a"}, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if len(read) > 0 {
		t.Errorf("read environment variables %v, want none", read)
	}
	if _, diags := resolveAttrs(t, r, "/a", "prod"); !diags.HasErrors() || !strings.Contains(diags[0].Detail, "env.PROD_BUCKET") {
		t.Errorf("prod without PROD_BUCKET: got %v, want an unset variable error", diags)
	}
}

// TestConstantErrorsPerStack resolves a failing constant flag for several
// stacks concurrently (Check), which shares one evaluation: each stack's
// message must read the same, without repeated prefixes.
func TestConstantErrorsPerStack(t *testing.T) {
	p := loadProject(t, `
-- tmci.hcl --
backend "local" {
  path = "${environment.name}.tfstate"
}
environment "prod" {}
-- a/stack.tm --
stack {}
-- b/stack.tm --
stack {}
-- c/stack.tm --
stack {}
`)
	r, diags := NewResolver(p, Options{LookupEnv: envMap(nil), BackendConfig: []string{`path=${tonumber("x")}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rep, err := r.Check(t.Context(), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var flagDiags []string
	for _, d := range rep.Diags {
		if d.Summary != "Missing backend block" {
			flagDiags = append(flagDiags, d.Detail)
		}
	}
	if len(flagDiags) != 1 || strings.Count(flagDiags[0], "In --backend-config") != 1 {
		t.Errorf("got %q, want one message with one flag prefix", flagDiags)
	}
}
