package project

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"
)

// addFixtureSeeds adds every file of the error fixtures named like want
// (a Terramate file or tmci.hcl) as a seed.
func addFixtureSeeds(f *testing.F, tmci bool) {
	archives, _ := filepath.Glob("testdata/errors/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if (filepath.Base(file.Name) == ConfigFileName) == tmci {
				f.Add(file.Data)
			}
		}
	}
}

// FuzzLoad loads a project whose stack directory holds the fuzzed config
// and evaluates its globals: neither may panic, whatever the input.
func FuzzLoad(f *testing.F) {
	addFixtureSeeds(f, false)
	f.Add([]byte("stack {\n  id = \"a\"\n  after = [\"/b\", \"tag:x\"]\n}\nglobals {\n  a = global.b\n  b = [for x in [1] : x]\n}\n"))
	f.Add([]byte("globals \"a\" \"b\" {\n  c = 1\n}\nglobals \"a\" {\n  d = global.a.b.c\n}\nstack {}\n"))
	f.Add([]byte("globals {\n  map \"m\" {\n    for_each = [1, 2]\n    iterator = it\n    key = \"k${it.new}\"\n    value {\n      v = it.new\n      map \"n\" {\n        for_each = {a = 1}\n        key = element.new\n        value = tm_try(element.old, 0)\n      }\n    }\n  }\n}\nstack {}\n"))
	f.Add([]byte("globals \"a\" \"c\" {\n  y = global.a.b.x\n}\nglobals \"a\" \"b\" {\n  x = global.a.c\n}\nstack {}\n"))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		dir, err := os.MkdirTemp(root, "p")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		stack := filepath.Join(dir, "stacks", "a")
		if err := os.MkdirAll(stack, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stack, "stack.tm"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "root.tm"), []byte("globals {\n  r = 1\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p, _ := Load(dir, Options{})
		for _, s := range p.Stacks {
			p.Scope(s).Globals()
		}
	})
}

// FuzzTMCIConfig loads a fuzzed root tmci.hcl and matches environment
// names against it: neither may panic.
func FuzzTMCIConfig(f *testing.F) {
	addFixtureSeeds(f, true)
	f.Add([]byte("backend \"s3\" {\n  key = \"${environment.name}\"\n}\nenvironment \"pr-*\" {\n  backend {\n    bucket = \"x\"\n  }\n}\n"))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		dir, err := os.MkdirTemp(root, "p")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.WriteFile(filepath.Join(dir, ConfigFileName), src, 0o644); err != nil {
			t.Fatal(err)
		}
		p, diags := Load(dir, Options{})
		if diags.HasErrors() {
			return
		}
		for _, name := range []string{"prod", "pr-1", "pr-123", "x", "Bad"} {
			p.TMCI.Match(name)
		}
		p.TMCI.BackendFor("/a/b")
	})
}

// FuzzParseTagFilter parses arbitrary --tags and --no-tags values: no
// panic, and an accepted filter behaves as Terramate's language says: a
// stack carrying every tag of one include clause and no excluded tag
// matches, and a stack carrying an excluded tag never does.
func FuzzParseTagFilter(f *testing.F) {
	for _, seed := range [][2]string{
		{"a", ""}, {"a:b,c", "d"}, {"a,,b", ""}, {"", ","}, {"x/y.z", "a:b"}, {"A", ""},
		{"a:", ""}, {":", ":"}, {"ü", "-a"}, {"a-b_c", "c,d"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, include, exclude string) {
		var inc, exc []string
		if include != "" {
			inc = []string{include}
		}
		if exclude != "" {
			exc = []string{exclude}
		}
		tf, err := ParseTagFilter(inc, exc)
		if err != nil {
			if !strings.Contains(err.Error(), "tags") {
				t.Errorf("error names no flag: %v", err)
			}
			return
		}
		for _, and := range tf.include {
			for _, tag := range and {
				if !ValidTag(tag) {
					t.Fatalf("accepted invalid tag %q from %q", tag, include)
				}
			}
		}
		for _, tag := range tf.exclude {
			if !ValidTag(tag) {
				t.Fatalf("accepted invalid tag %q from %q", tag, exclude)
			}
			if tf.Match(&Stack{Tags: []string{tag}}) {
				t.Errorf("a stack tagged %q, excluded by %q, matched", tag, exclude)
			}
		}
		for _, and := range tf.include {
			s := &Stack{Tags: slices.Clone(and)}
			if !slices.ContainsFunc(and, func(tag string) bool { return slices.Contains(tf.exclude, tag) }) && !tf.Match(s) {
				t.Errorf("a stack tagged %v did not match --tags %q --no-tags %q", and, include, exclude)
			}
		}
	})
}

// FuzzEval evaluates arbitrary expressions in a stack's scope, with the
// whole function library and a global of each type: no panic, and no
// input may take seconds.
func FuzzEval(f *testing.F) {
	for _, seed := range []string{
		`global.s`, `"${global.n + 1}-${terramate.stack.path.relative}"`,
		`tm_upper(global.s)`, `[for x in global.l : x * 2 if x > 1]`, `{for k, v in global.o : v => k}`,
		`try(global.missing, "d")`, `jsonencode(global.o)`, `regex("([a-z]+)", global.s)`,
		`format("%5.2f|%-3s|%q", 1.5, "a", "b")`, `cidrsubnet("10.0.0.0/8", 8, 2)`,
		`formatdate("YYYY-MM-DD", "2024-01-02T03:04:05Z")`, `range(1, 10, 2)`,
		`tm_ternary(global.n > 1, "a", "b")`, `substr("héllo", 1, -1)`, `slug(global.s)`,
		`sensitive(global.s)`, `split(",", "a,b")[5]`, `lookup(global.o, "a", null)`,
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "stacks", "a"), 0o755); err != nil {
		f.Fatal(err)
	}
	files := map[string]string{
		"globals.tm":        "globals {\n  s = \"Hello World\"\n  n = 3\n  l = [1, 2, 3]\n  o = { a = \"x\", b = \"y\" }\n  z = null\n}\n",
		"stacks/a/stack.tm": "stack {\n  name = \"a\"\n  tags = [\"t\"]\n}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(src), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	p, diags := Load(dir, Options{})
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	f.Fuzz(func(t *testing.T, src string) {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "fuzz.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return
		}
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q", src)) })
		defer tm.Stop()
		p.Scope(p.Stacks[0]).Eval(expr, nil)
	})
}
