package project

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tmci/tmci/internal/fixture"
)

// load writes a txtar project to a temporary directory and loads it,
// failing the test on any error diagnostic.
func load(t *testing.T, src string) *Project {
	t.Helper()
	root := t.TempDir()
	if err := fixture.WriteFiles(root, txtar.Parse([]byte(src))); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(root, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func stackPaths(stacks []*Stack) []string {
	out := []string{}
	for _, s := range stacks {
		out = append(out, s.Path)
	}
	return out
}

func TestLoadStacks(t *testing.T) {
	p := load(t, `
-- stack.tm --
stack {
  name = "root"
}
terramate {
  config {
    experiments = ["scripts"]
  }
}
-- a/stack.tm.hcl --
stack {
  id          = "A-1"
  description = "first ${upper("a")}"
  tags        = ["z", "a.b/c"]
  after       = ["/b", "../c"]
  watch       = ["file.txt", "/shared/x"]
}
-- a/b/stack.tm --
stack {}
-- a-b/stack.tm --
stack {}
-- .hidden/stack.tm --
stack {}
-- skip/.tmskip --
-- skip/stack.tm --
stack {}
-- skip/deeper/stack.tm --
stack {}
-- a/.stack.tm --
this would not parse
-- notes/README.md --
stack {}
-- gen/x.tm --
generate_hcl "x.tf" {
  content {
    a = 1
  }
}
generate_file "y" {
  content = "z"
}
script "deploy" {
  job {
    command = ["echo"]
  }
}
assert {
  assertion = true
}
vendor {
  dir = "/vendor"
}
terramate {
  required_version = ">= 0.1"
}
`)
	if diff := cmp.Diff([]string{"/", "/a", "/a-b", "/a/b"}, stackPaths(p.Stacks)); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
	a := p.Stack("/a")
	want := &Stack{
		Path: "/a", ID: "A-1", Name: "a", Description: "first A",
		Tags:  []string{"a.b/c", "z"},
		After: []string{"/b", "../c"},
		Watch: []string{"/a/file.txt", "/shared/x"},
	}
	if diff := cmp.Diff(want, a, cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".ranges" || f == ".DeclRange"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("stack /a (-want +got):\n%s", diff)
	}
	if got := p.Stack("/").Name; got != "root" {
		t.Errorf("root stack name = %q", got)
	}
	if got := p.StackOf("/a/b/c/file.tf"); got == nil || got.Path != "/a/b" {
		t.Errorf("StackOf(/a/b/c/file.tf) = %v", got)
	}
	if got := stackPaths(p.StacksBelow("/a")); !cmp.Equal(got, []string{"/a", "/a/b"}) {
		t.Errorf("StacksBelow(/a) = %v", got)
	}
	if r := a.AttrRange("tags"); r.Start.Line != 4 || r.Filename != "a/stack.tm.hcl" {
		t.Errorf("tags range = %v", r)
	}
}

func TestGlobals(t *testing.T) {
	p := load(t, `
-- terramate.tm.hcl --
terramate {
  config {
    git {
      default_branch = "trunk"
    }
  }
}
globals {
  env    = "root"
  region = "eu-west-1"
  name   = "${global.env}-${terramate.stack.name}"
  list   = [1, 2]
}
globals "labels" "team" {
  owner = "platform"
}
-- stacks/globals.tm --
globals {
  env = "stacks"
}
globals "labels" {
  tier = "x"
}
import {
  source = "/imports/*.tm.hcl"
}
-- imports/common.tm.hcl --
globals {
  imported = tm_upper(global.region)
}
-- stacks/app/stack.tm --
stack {
  id   = "app"
  tags = ["b", "a"]
}
globals {
  region = "us-east-1"
  path   = terramate.stack.path.relative
  root   = terramate.stack.path.to_root
}
-- stacks/other/stack.tm --
stack {}
`)
	if p.Git.DefaultBranch != "trunk" || p.Git.DefaultRemote != "origin" {
		t.Errorf("git config = %+v", p.Git)
	}
	v, diags := p.Scope(p.Stack("/stacks/app")).Globals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := `{"env":"stacks","imported":"US-EAST-1","labels":{"team":{"owner":"platform"},"tier":"x"},"list":[1,2],"name":"stacks-app","path":"stacks/app","region":"us-east-1","root":"../.."}`
	if got := jsonOf(t, v); got != want {
		t.Errorf("globals of /stacks/app:\n got %s\nwant %s", got, want)
	}
	sc := p.Scope(p.Stack("/stacks/other"))
	region, ok, diags := sc.Global("region")
	if !ok || diags.HasErrors() || region.AsString() != "eu-west-1" {
		t.Errorf("other region = %v %v %v", region, ok, diags)
	}
	if _, ok, _ := sc.Global("nope"); ok {
		t.Error("Global(nope) reported as defined")
	}
	expr, _ := hclsyntax.ParseExpression([]byte(`"${environment.name}/${terramate.stack.id}/${global.env}"`), "x", hcl.InitialPos)
	got, diags := p.Scope(p.Stack("/stacks/app")).Eval(expr, map[string]cty.Value{
		"environment": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("pr-1")}),
	})
	if diags.HasErrors() || got.AsString() != "pr-1/app/stacks" {
		t.Errorf("Eval = %#v, %v", got, diags)
	}
}

func jsonOf(t *testing.T, v cty.Value) string {
	t.Helper()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnvironments(t *testing.T) {
	p := load(t, `
-- tmci.hcl --
backend "s3" {
  bucket = "b"
  key    = "${environment.name}/${terramate.stack.path.relative}"
}
environment "prod" {
  account   = "prod"
  protected = true
}
environment "pr-*" {
  account   = "dev"
  ephemeral = true
  backend {
    bucket = "previews"
  }
}
environment "pr-1*" {}
environment "*" {}
-- team/tmci.hcl --
backend "local" {
  path = "x"
}
-- team/a/stack.tm --
stack {}
`)
	tests := []struct{ name, want, err string }{
		{"prod", "prod", ""},
		{"pr-123", "pr-1*", ""},
		{"pr-7", "pr-*", ""},
		{"staging", "*", ""},
		{"../prod", "", `invalid environment name "../prod"`},
		{"Prod", "", `invalid environment name "Prod"`},
	}
	for _, tt := range tests {
		e, err := p.TMCI.Match(tt.name)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Match(%q) error = %v, want %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("Match(%q): %v", tt.name, err)
		case e.Name != tt.want:
			t.Errorf("Match(%q) = %q, want %q", tt.name, e.Name, tt.want)
		}
	}
	prod, _ := p.TMCI.Match("prod")
	if !prod.Protected || prod.Ephemeral || prod.Attrs["account"] == nil {
		t.Errorf("prod = %+v", prod)
	}
	pr, _ := p.TMCI.Match("pr-7")
	if !pr.Ephemeral || pr.Backend == nil || pr.Backend.Attributes["bucket"] == nil {
		t.Errorf("pr-* = %+v", pr)
	}
	if b := p.TMCI.BackendFor("/team/a"); b == nil || b.Type != "local" {
		t.Errorf("BackendFor(/team/a) = %+v", b)
	}
	if b := p.TMCI.BackendFor("/teams"); b == nil || b.Type != "s3" {
		t.Errorf("BackendFor(/teams) = %+v", b)
	}
	empty := &Config{}
	if _, err := empty.Match("prod"); err == nil || !strings.Contains(err.Error(), "no tmci.hcl declares an environment") {
		t.Errorf("Match on empty config: %v", err)
	}
	only := &Config{Environments: []*Environment{{Name: "prod"}, {Name: "staging"}}}
	if _, err := only.Match("dev"); err == nil || !strings.Contains(err.Error(), "prod, staging") {
		t.Errorf("unknown env error = %v", err)
	}
}

func TestGlobsOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"pr-*", "pr-*-x", true},
		{"pr-*", "qa-*", false},
		{"pr-?", "pr-1*", true},
		{"pr-??", "pr-?", false},
		{"*-a", "*-b", false},
		{"*a*", "*b*", true},
		{"x*", "*y", true},
		{"abc", "a?c", true},
		{"a*c", "a*d", false},
	}
	for _, tt := range tests {
		if got := globsOverlap(tt.a, tt.b); got != tt.want {
			t.Errorf("globsOverlap(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := globsOverlap(tt.b, tt.a); got != tt.want {
			t.Errorf("globsOverlap(%q, %q) = %v, want %v (swapped)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestTagFilter(t *testing.T) {
	stacks := []*Stack{
		{Path: "/a", Tags: []string{"prod", "web"}},
		{Path: "/b", Tags: []string{"db", "prod"}},
		{Path: "/c", Tags: []string{"web"}},
		{Path: "/d"},
	}
	tests := []struct {
		name          string
		include, excl []string
		want          []string
	}{
		{"none", nil, nil, []string{"/a", "/b", "/c", "/d"}},
		{"and", []string{"prod:web"}, nil, []string{"/a"}},
		{"or", []string{"db,web"}, nil, []string{"/a", "/b", "/c"}},
		{"repeated", []string{"db", "web:prod"}, nil, []string{"/a", "/b"}},
		{"mixed", []string{"db:prod,web"}, nil, []string{"/a", "/b", "/c"}},
		{"exclude", nil, []string{"web"}, []string{"/b", "/d"}},
		{"exclude list", nil, []string{"web,db"}, []string{"/d"}},
		{"both", []string{"prod"}, []string{"db"}, []string{"/a"}},
		// The edges, as Terramate 0.17.2 answers them.
		{"empty or branch ignored", []string{"prod,"}, nil, []string{"/a", "/b"}},
		{"empty or branches inside", []string{"prod,,db"}, nil, []string{"/a", "/b"}},
		{"and with an empty side matches nothing", []string{"prod:"}, nil, []string{}},
		{"double colon matches nothing", []string{"prod::web"}, nil, []string{}},
		{"no tag at all matches nothing", []string{","}, nil, []string{}},
		{"an unsatisfiable clause beside another", []string{"prod:web,"}, nil, []string{"/a"}},
		{"empty expression is no filter", []string{""}, nil, []string{"/a", "/b", "/c", "/d"}},
		{"empty exclude entries ignored", nil, []string{"web,"}, []string{"/b", "/d"}},
		{"empty exclude", nil, []string{","}, []string{"/a", "/b", "/c", "/d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseTagFilter(tt.include, tt.excl)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, s := range stacks {
				if f.Match(s) {
					got = append(got, s.Path)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range [][2][]string{{{"Web"}, nil}, {nil, {"prod:web"}}, {nil, {"Web"}}, {{"a~b"}, nil}} {
		if _, err := ParseTagFilter(bad[0], bad[1]); err == nil {
			t.Errorf("ParseTagFilter(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

// TestDeprecatedMetadata: the legacy terramate.* names Terramate 0.17.2
// still serves (terramate.path, .name, .description), terramate.stacks.list
// and terramate.stack.parent evaluate; the wanted values are what
// `terramate debug show globals` printed for this project.
func TestDeprecatedMetadata(t *testing.T) {
	p := load(t, `
-- a/stack.tm.hcl --
stack {
  id          = "a-id"
  name        = "alpha"
  description = "the a stack"
  tags        = ["t1"]
}
-- a/b/stack.tm.hcl --
stack {}
-- c/stack.tm.hcl --
stack {}
-- globals.tm.hcl --
globals {
  old_path = terramate.path
  old_name = terramate.name
  old_desc = terramate.description
  stacks   = terramate.stacks.list
  parent   = tm_try(terramate.stack.parent, "none")
}
`)
	for _, c := range []struct{ stack, want string }{
		{"/a", `{"old_desc":"the a stack","old_name":"alpha","old_path":"/a","parent":"none","stacks":["/a","/a/b","/c"]}`},
		{"/a/b", `{"old_desc":"","old_name":"b","old_path":"/a/b","parent":{"id":"a-id","tags":["t1"]},"stacks":["/a","/a/b","/c"]}`},
		{"/c", `{"old_desc":"","old_name":"c","old_path":"/c","parent":"none","stacks":["/a","/a/b","/c"]}`},
	} {
		v, diags := p.Scope(p.Stack(c.stack)).Globals()
		if diags.HasErrors() {
			t.Fatalf("%s: %v", c.stack, diags)
		}
		if diff := cmp.Diff(c.want, jsonOf(t, v)); diff != "" {
			t.Errorf("globals of %s (-want +got):\n%s", c.stack, diff)
		}
	}
}

// TestLabelledGlobalsPerPath: labelled globals may read a sibling under
// the same label, in either order; dependencies are tracked per attribute
// path. The wanted values are what `terramate debug show globals` printed
// for this project; a real loop between two paths is still a cycle.
func TestLabelledGlobalsPerPath(t *testing.T) {
	src := `
-- globals.tm.hcl --
globals "a" "b" {
  x = 1
}
globals "a" "c" {
  y = global.a.b.x
}
globals "a" {
  z = global.a.c.y * 10
  w = global.a.b.x + global.a.c.y
}
globals "p" "q" {
  r = global.p.s.t
}
globals "p" "s" {
  t = "late"
}
-- s/stack.tm.hcl --
stack {}
`
	p := load(t, src)
	v, diags := p.Scope(p.Stack("/s")).Globals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := `{"a":{"b":{"x":1},"c":{"y":1},"w":2,"z":10},"p":{"q":{"r":"late"},"s":{"t":"late"}}}`
	if diff := cmp.Diff(want, jsonOf(t, v)); diff != "" {
		t.Errorf("globals (-want +got):\n%s", diff)
	}

	p = load(t, src+`-- loop.tm.hcl --
globals "k" "m" {
  n = global.k.o.p
}
globals "k" "o" {
  p = global.k.m.n
}
`)
	_, diags = p.Scope(p.Stack("/s")).Globals()
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "global.k.m.n -> global.k.o.p -> global.k.m.n") {
		t.Errorf("diags = %v, want the cycle global.k.m.n -> global.k.o.p -> global.k.m.n", diags)
	}
}
