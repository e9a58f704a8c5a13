package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindRoot(t *testing.T) {
	repo := t.TempDir()
	mkdir := func(p string) string {
		d := filepath.Join(repo, filepath.FromSlash(p))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	write := func(p, src string) {
		if err := os.WriteFile(filepath.Join(repo, filepath.FromSlash(p)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir(".git")
	mkdir("plain/stacks/a")
	mkdir("nested/stacks/a")
	write("nested/terramate.tm.hcl", "terramate {\n  config {\n  }\n}\n")
	mkdir("nover/stacks")
	write("nover/terramate.tm.hcl", "terramate {\n  required_version = \"> 0\"\n}\n")
	tests := []struct{ from, want string }{
		{"plain/stacks/a", repo},
		{"nested/stacks/a", filepath.Join(repo, "nested")},
		{"nested", filepath.Join(repo, "nested")},
		{"nover/stacks", repo},
		{".", repo},
	}
	for _, tt := range tests {
		got, err := FindRoot(filepath.Join(repo, tt.from))
		if err != nil || got != tt.want {
			t.Errorf("FindRoot(%s) = %q, %v; want %q", tt.from, got, err, tt.want)
		}
	}
	// Outside git, only a terramate { config {} } block makes a root:
	// else -C / or -C /tmp would walk the whole filesystem.
	outside := t.TempDir()
	if got, err := FindRoot(outside); err == nil || !strings.Contains(err.Error(), "not in a git repository") {
		t.Errorf("FindRoot outside git = %q, %v; want an error saying it is not in a git repository", got, err)
	}
	sub := filepath.Join(outside, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "root.tm"), []byte("terramate {\n  config {\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindRoot(sub); err != nil || got != outside {
		t.Errorf("FindRoot outside git below a terramate config = %q, %v; want %q", got, err, outside)
	}
	if got, err := FindRoot("/"); err == nil {
		t.Errorf("FindRoot(/) = %q, want an error", got)
	}
	if _, err := FindRoot(filepath.Join(repo, "missing")); err == nil {
		t.Error("FindRoot of a missing directory succeeded")
	}
}

// TestExamples keeps examples/acme, which the README's quickstart runs on,
// loading cleanly with every global of every stack evaluating.
func TestExamples(t *testing.T) {
	root, err := FindRoot("../examples/acme/services")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(root) != "acme" {
		t.Fatalf("root = %s, want examples/acme", root)
	}
	p, diags := Load(root, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(p.Stacks) != 12 {
		t.Errorf("%d stacks, want 12", len(p.Stacks))
	}
	for _, s := range p.Stacks {
		v, diags := p.Scope(s).Globals()
		if diags.HasErrors() {
			t.Errorf("%s: %v", s.Path, diags)
			continue
		}
		if !v.GetAttr("prefix").IsKnown() {
			t.Errorf("%s: prefix unknown", s.Path)
		}
	}
	api := p.Scope(p.Stack("/services/api"))
	if v, _, _ := api.Global("owner"); v.AsString() != "services-team" {
		t.Errorf("owner of /services/api = %v", v)
	}
	if v, _, _ := api.Global("prefix"); v.AsString() != "acme-services-api" {
		t.Errorf("prefix of /services/api = %v", v)
	}
	if len(p.TMCI.Environments) != 3 || p.TMCI.BackendFor("/services/api").Type != "local" {
		t.Errorf("tmci.hcl = %+v", p.TMCI)
	}
}
