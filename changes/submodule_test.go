package changes

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/project"
)

// TestSubmodulePointer: moving a submodule inside a stack to another
// commit changes that stack, committed (the diff from the base) and
// uncommitted (the work tree, outside CI), with the git CLI and with
// go-git; a stack without the submodule does not change.
func TestSubmodulePointer(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git is not on PATH: it creates the submodule")
	}
	git := func(dir string, args ...string) {
		t.Helper()
		// A local path as the submodule's URL needs file transport.
		testenv.Git(t, dir, append([]string{"-c", "protocol.file.allow=always"}, args...)...)
	}
	lib := t.TempDir()
	git(lib, "init", "-q", "-b", "main")
	write(t, lib, "lib.tf", "# v1\n")
	git(lib, "add", "-A")
	git(lib, "commit", "-q", "-m", "v1")

	root := t.TempDir()
	git(root, "init", "-q", "-b", "main")
	write(t, root, "stacks/app/stack.tm", "stack {}\n")
	write(t, root, "stacks/other/stack.tm", "stack {}\n")
	git(root, "add", "-A")
	git(root, "commit", "-q", "-m", "stacks")
	git(root, "submodule", "add", "-q", lib, "stacks/app/vendor/lib")
	git(root, "commit", "-q", "-m", "submodule")

	// A new commit in the library, and the pointer moved to it.
	write(t, lib, "lib.tf", "# v2\n")
	git(lib, "commit", "-q", "-am", "v2")
	git(filepath.Join(root, "stacks/app/vendor/lib"), "pull", "-q", "origin", "main")

	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	check := func(what string, opts Options, want []string) {
		t.Helper()
		for mode, gitBin := range gitModes(t) {
			opts.Git = gitBin
			d, err := Detect(context.Background(), root, opts)
			if err != nil {
				t.Fatalf("%s, %s: %v", mode, what, err)
			}
			res, diags := Map(context.Background(), p, d)
			d.Close()
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(want, summary(res)); diff != "" {
				t.Errorf("%s, %s: changed stacks (-want +got):\n%s", mode, what, diff)
			}
		}
	}
	check("uncommitted", Options{Base: "HEAD"}, []string{"/stacks/app: changed file /stacks/app/vendor/lib (unstaged);"})
	git(root, "commit", "-q", "-am", "bump the library")
	check("committed", Options{Base: "HEAD^", NoUncommitted: true}, []string{"/stacks/app: changed file /stacks/app/vendor/lib;"})
	check("no change", Options{Base: "HEAD", NoUncommitted: true}, nil)
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
