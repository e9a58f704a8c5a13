package project

import (
	"os"
	"path/filepath"
	"testing"

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
