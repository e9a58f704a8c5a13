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

// BenchmarkFloor is the least any tool must do to learn the committed
// change: one git process listing the files changed since the merge base
// (`git diff --name-only origin/main...HEAD` finds the merge base itself).
// The Detect benchmarks without the work tree compare with it.
func BenchmarkFloor(b *testing.B) {
	dir, _ := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		floorDiff(b, dir)
	}
}

// BenchmarkFloorStatus adds what the uncommitted change costs git: one
// `git status` listing every untracked file, without taking the index
// lock, run at the same time as the diff (both only read). The Detect
// benchmarks with the work tree compare with it.
func BenchmarkFloorStatus(b *testing.B) {
	dir, _ := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		status := exec.Command("git", "-C", dir, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all")
		if err := status.Start(); err != nil {
			b.Fatal(err)
		}
		floorDiff(b, dir)
		if err := status.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

func floorDiff(b *testing.B, dir string) {
	out, err := exec.Command("git", "-C", dir, "diff", "--name-only", "--no-renames", "origin/main...HEAD").Output()
	if err != nil || len(out) == 0 {
		b.Fatal(err, "no changes")
	}
}

// BenchmarkFloorRead reads once every file of a kind that Load or Map
// must read: the Terramate files (tm, Load's floor) and the Terraform
// files (tf, Map's floor: its module scan reads every stack's code).
func BenchmarkFloorRead(b *testing.B) {
	dir, _ := benchRepo(b)
	for _, kind := range []struct {
		name string
		exts []string
	}{{"tm", []string{".tm", ".tm.hcl"}}, {"tf", []string{".tf"}}} {
		b.Run(kind.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n := readAll(b, dir, kind.exts); n == 0 {
					b.Fatal("nothing read")
				}
			}
		})
	}
}

// readAll reads every file of the work tree dir whose name ends in one of
// exts and returns the bytes read.
func readAll(b *testing.B, dir string, exts []string) int {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		for _, ext := range exts {
			if !d.IsDir() && strings.HasSuffix(d.Name(), ext) {
				data, err := os.ReadFile(path)
				n += len(data)
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
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
