package backend

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/boundedhcl"
)

const inputsFiles = `
-- terramate.tm.hcl --
terramate {
  config {
    experiments = ["outputs-sharing"]
  }
}
globals {
  region = "eu-west-1"
}
-- tmci.hcl --
inputs {
  env_name = environment.name
  region   = global.region
  account  = environment.account
  dropped  = "root"
  secret   = sensitive(["a-secret", "b-secret"])
  huge     = try(env.HUGE, false) ? [for i in range(1000) : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"] : null
}
environment "prod" {
  account = "111"
  inputs {
    region = "us-east-1"
  }
}
environment "pr-*" {
  account = "222"
}
-- a/tmci.hcl --
inputs {
  dropped = null
  path    = terramate.stack.path.absolute
}
-- a/stack.tm --
stack {}
-- a/main.tf --
variable "env_name" {
  type = string
}
variable "region" {}
variable "secret" {
  type = list(string)
}
variable "path" {
  type = any
}
-- b/stack.tm --
stack {}
-- b/main.tf.json --
{"variable": {"env_name": {"type": "any"}}}
-- d/stack.tm --
stack {}
input "account" {
  backend       = "default"
  from_stack_id = "other"
  value         = outputs.account.value
}
-- e/stack.tm --
stack {}
input "account" {
  backend       = "default"
  from_stack_id = "other"
  value         = outputs.account.value
}
-- e/tmci.hcl --
inputs {
  account = null
}
-- c/stack.tm --
stack {}
-- c/tmci.hcl --
inputs {
  missing = env.NOT_SET
}
`

// TestStackTFVars evaluates inputs per (stack, environment) and encodes
// each as terraform will read it from TF_VAR_: a string raw for a
// variable typed string or untyped, HCL for the others.
func TestStackTFVars(t *testing.T) {
	p := loadProject(t, inputsFiles)
	r, _ := NewResolver(p, Options{LookupEnv: envMap(nil)})
	for _, c := range []struct {
		stack, env string
		want       []string
	}{
		{"/a", "prod", []string{
			"TF_VAR_account=111", "TF_VAR_env_name=prod", `TF_VAR_path="/a"`, "TF_VAR_region=us-east-1",
			`TF_VAR_secret=["a-secret", "b-secret"]`,
		}},
		{"/a", "pr-7", []string{
			"TF_VAR_account=222", "TF_VAR_env_name=pr-7", `TF_VAR_path="/a"`, "TF_VAR_region=eu-west-1",
			`TF_VAR_secret=["a-secret", "b-secret"]`,
		}},
		{"/e", "pr-7", []string{
			"TF_VAR_dropped=root", "TF_VAR_env_name=pr-7", "TF_VAR_region=eu-west-1",
			`TF_VAR_secret=["a-secret", "b-secret"]`,
		}},
		{"/b", "pr-7", []string{
			"TF_VAR_account=222", "TF_VAR_dropped=root", `TF_VAR_env_name="pr-7"`, "TF_VAR_region=eu-west-1",
			`TF_VAR_secret=["a-secret", "b-secret"]`,
		}},
	} {
		env, secrets, diags := r.StackTFVars(p.Stack(c.stack), c.env)
		if diags.HasErrors() {
			t.Fatalf("%s in %s: %v", c.stack, c.env, diags)
		}
		sort.Strings(env)
		if diff := cmp.Diff(c.want, env); diff != "" {
			t.Errorf("%s in %s (-want +got):\n%s", c.stack, c.env, diff)
		}
		if diff := cmp.Diff([]string{"a-secret", "b-secret", `["a-secret", "b-secret"]`}, secrets); diff != "" {
			t.Errorf("%s in %s: secrets (-want +got):\n%s", c.stack, c.env, diff)
		}
	}
}

// TestInputErrors: each failure is a diagnostic on the expression that
// caused it.
func TestInputErrors(t *testing.T) {
	p := loadProject(t, inputsFiles)
	for _, c := range []struct {
		stack string
		env   map[string]string
		want  string
	}{
		{"/c", nil, "c/tmci.hcl:2: Unset environment variable"},
		{"/a", map[string]string{"HUGE": "true"}, "tmci.hcl:7: Value too large"},
		{"/d", nil, "tmci.hcl:4: Input set twice"},
	} {
		r, _ := NewResolver(p, Options{LookupEnv: envMap(c.env)})
		_, _, diags := r.StackTFVars(p.Stack(c.stack), "prod")
		var got []string
		for _, d := range diags {
			got = append(got, fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary))
		}
		if diff := cmp.Diff([]string{c.want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.stack, diff)
		}
	}
}

func TestEncodeTFVarNUL(t *testing.T) {
	p := loadProject(t, strings.Replace(inputsFiles, `missing = env.NOT_SET`, `missing = "a\u0000b"`, 1))
	r, _ := NewResolver(p, Options{LookupEnv: envMap(nil)})
	if _, _, diags := r.StackTFVars(p.Stack("/c"), "prod"); !diags.HasErrors() || !strings.Contains(diags.Error(), "NUL") {
		t.Errorf("a NUL in an input: %v", diags)
	}
}

// TestInputTooLargeAtRun: a value whose size only shows once evaluated
// (an environment variable's) is refused on its input, not passed on.
func TestInputTooLargeAtRun(t *testing.T) {
	p := loadProject(t, strings.Replace(inputsFiles, `missing = env.NOT_SET`, `missing = env.BIG`, 1))
	r, _ := NewResolver(p, Options{LookupEnv: envMap(map[string]string{"BIG": strings.Repeat("x", boundedhcl.MaxValueSize+1)})})
	env, _, diags := r.StackTFVars(p.Stack("/c"), "prod")
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "c/tmci.hcl:2,13-20: Value too large") || env != nil {
		t.Errorf("an input over the limit: %v (env of %d entries)", diags, len(env))
	}
}
