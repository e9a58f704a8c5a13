package project

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tmci/tmci/internal/synth"
)

// benchProject writes a synthetic project of n stacks with globals at
// three levels (root, area, group) once per benchmark.
func benchProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := synth.Write(dir, synth.Options{Stacks: n, After: 2, TMCI: true}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkFloorRead10k is the floor of BenchmarkLoad10k and
// BenchmarkGlobals10k: walking the same tree and reading every file, which
// any loader must do before it parses anything.
func BenchmarkFloorRead10k(b *testing.B) {
	dir := benchProject(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		files := 0
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, err := os.ReadFile(p); err != nil {
				return err
			}
			files++
			return nil
		})
		if err != nil || files < 10000 {
			b.Fatalf("read %d files: %v", files, err)
		}
	}
}

// BenchmarkLoad10k measures what tmci list pays: walking and parsing a
// 10,000-stack project.
func BenchmarkLoad10k(b *testing.B) {
	dir := benchProject(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		p, diags := Load(dir, Options{})
		if diags.HasErrors() || len(p.Stacks) != 10000 {
			b.Fatalf("%d stacks, %v", len(p.Stacks), diags)
		}
	}
}

// BenchmarkGlobals10k adds evaluating every global of every stack, which
// tmci check and runs pay.
func BenchmarkGlobals10k(b *testing.B) {
	dir := benchProject(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		p, diags := Load(dir, Options{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		for _, s := range p.Stacks {
			if _, diags := p.Scope(s).Globals(); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
	}
}
