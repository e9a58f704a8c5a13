package changes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/synthrepo"
	"github.com/tmci/tmci/project"
)

// benchRepo generates (once per size, cached under the test's temp dir
// root) a repository with stacks stacks and commits commits on main.
// TMCI_BENCH_STACKS and TMCI_BENCH_COMMITS override the default size.
func benchRepo(b *testing.B) (dir string, spec synthrepo.Spec) {
	b.Helper()
	spec = synthrepo.Spec{Stacks: 1000, Commits: 2000, Modules: 10, FeatureStacks: 5}
	if n, err := strconv.Atoi(os.Getenv("TMCI_BENCH_STACKS")); err == nil {
		spec.Stacks = n
	}
	if n, err := strconv.Atoi(os.Getenv("TMCI_BENCH_COMMITS")); err == nil {
		spec.Commits = n
	}
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git is not on PATH")
	}
	dir = filepath.Join(os.TempDir(), fmt.Sprintf("tmci-bench-changes-%d-%d", spec.Stacks, spec.Commits))
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		os.RemoveAll(dir)
		if err := synthrepo.Generate(dir, spec); err != nil {
			b.Fatal(err)
		}
	}
	return dir, spec
}

// BenchmarkFloor is what git itself needs for the committed change: the
// merge-base and a name-only diff. The other benchmarks compare with it.
func BenchmarkFloor(b *testing.B) {
	dir, _ := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		mb, err := exec.Command("git", "-C", dir, "merge-base", "HEAD", "origin/main").Output()
		if err != nil {
			b.Fatal(err)
		}
		out, err := exec.Command("git", "-C", dir, "diff", "--name-only", "--no-renames", strings.TrimSpace(string(mb)), "HEAD").Output()
		if err != nil || len(out) == 0 {
			b.Fatal(err, "no changes")
		}
	}
}

// BenchmarkDetect chooses the base and lists changed files, with the git
// CLI for merge-base and status, and with go-git alone.
func BenchmarkDetect(b *testing.B) {
	dir, spec := benchRepo(b)
	gitBin, _ := exec.LookPath("git")
	for _, mode := range []struct {
		name string
		git  string
		opts Options
	}{
		{"git-cli", gitBin, Options{}},
		{"git-cli-no-uncommitted", gitBin, Options{NoUncommitted: true}},
		{"go-git-no-uncommitted", "", Options{NoUncommitted: true}},
		{"go-git", "", Options{}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			opts := mode.opts
			opts.Git = mode.git
			b.ReportAllocs()
			for b.Loop() {
				d, err := Detect(context.Background(), dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				d.Close()
				if len(d.Files) != spec.FeatureStacks+1 {
					b.Fatalf("%d changed files, want %d", len(d.Files), spec.FeatureStacks+1)
				}
			}
		})
	}
}

// BenchmarkMap puts the changed files onto the stacks: owner, watch and
// the module scan over every stack's Terraform files.
func BenchmarkMap(b *testing.B) {
	dir, spec := benchRepo(b)
	p, diags := project.Load(dir, project.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	gitBin, _ := exec.LookPath("git")
	d, err := Detect(context.Background(), dir, Options{NoUncommitted: true, Git: gitBin})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	for b.Loop() {
		res, diags := Map(context.Background(), p, d)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if len(res.Changed) < spec.Stacks/spec.Modules {
			b.Fatalf("%d changed stacks, want at least %d", len(res.Changed), spec.Stacks/spec.Modules)
		}
	}
}

// BenchmarkLoad is tmci list's own discovery, for scale.
func BenchmarkLoad(b *testing.B) {
	dir, _ := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := project.Load(dir, project.Options{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
