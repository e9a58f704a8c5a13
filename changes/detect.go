// Package changes finds what a git change touches: the base commit to
// compare with, the changed files, and the stacks they change, each with
// its reasons.
//
// Detect reads only the repository, so it can run while the project loads;
// Map then puts the files onto the project's stacks. Repository access goes
// through go-git; the git CLI, when given, does the two steps go-git is slow
// at on large histories (merge-base and work tree status) and resolves
// --base with git's full revision syntax.
package changes

import (
	"context"
	"log/slog"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/project"
)

// Options tunes Detect.
type Options struct {
	// Base is the --base revision; empty chooses one (see DESIGN.md §3).
	Base string
	// CI is the CI context; the zero value means tmci runs outside CI.
	CI CI
	// NoUncommitted leaves staged, unstaged and untracked files out. They
	// are always left out in CI, where the checkout is the commit.
	NoUncommitted bool
	// DefaultBranch and DefaultRemote come from terramate.config.git.
	DefaultBranch string
	DefaultRemote string
	// Git is the git binary for merge-base, status and rev-parse; empty
	// means go-git does everything.
	Git string
	// Logger gets debug messages; nil discards them.
	Logger *slog.Logger
}

// Diff is what changed between the base and HEAD (and the work tree).
type Diff struct {
	Base Base
	// Head is the full hash of HEAD.
	Head string
	// Uncommitted is true when work tree changes were included.
	Uncommitted bool
	// Files holds the changed files in path order.
	Files []File

	repo *repo
}

// terraformFiles lists the Terraform files directly in each stack
// directory, from the git index plus the untracked files Detect saw, keyed
// by stack path. It returns nil without the git CLI, or when listing fails:
// the caller then reads the directories. One `git ls-files` costs less than
// a directory read per stack.
func (d *Diff) terraformFiles(ctx context.Context, p *project.Project) map[string][]string {
	if d.repo.git == "" {
		return nil
	}
	out, err := d.repo.run(ctx, "ls-files", "-z", "--", "*.tf", "*.tofu")
	if err != nil {
		return nil
	}
	known := map[string][]string{}
	addFile := func(rel string) {
		dir, name := path.Split("/" + rel)
		dir = path.Clean(dir)
		if isTerraformFile(name) && p.Stack(dir) != nil {
			known[dir] = append(known[dir], name)
		}
	}
	for _, rel := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rel != "" {
			addFile(rel)
		}
	}
	for _, f := range d.Files {
		if f.Origin&Untracked != 0 {
			addFile(strings.TrimPrefix(f.Path, "/"))
		}
	}
	return known
}

// baseFile returns the content of the file at project path p in the base
// commit, and false when it is not there.
func (d *Diff) baseFile(p string) ([]byte, bool) {
	t, err := d.repo.tree(plumbing.NewHash(d.Base.Commit))
	if err != nil {
		return nil, false
	}
	f, err := t.File(strings.TrimPrefix(p, "/"))
	if err != nil {
		return nil, false
	}
	src, err := f.Contents()
	if err != nil {
		return nil, false
	}
	return []byte(src), true
}

// Close releases the repository files Detect opened; Map needs them, so
// close the Diff after mapping.
func (d *Diff) Close() error { return d.repo.close() }

// Detect chooses the base and lists the files changed since, in the
// repository whose work tree is root. The error says what to do next when
// the history needed is missing (a shallow clone, an unknown ref, a single
// commit, a detached HEAD in CI). The caller closes the Diff.
func Detect(ctx context.Context, root string, opts Options) (*Diff, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.DefaultRemote == "" {
		opts.DefaultRemote = "origin"
	}
	g, err := openRepo(root, opts.Git)
	if err != nil {
		return nil, err
	}
	head, branch, err := g.head()
	if err != nil {
		g.close()
		return nil, err
	}
	d := &Diff{Head: head.String(), Uncommitted: !opts.NoUncommitted && opts.CI.Provider == "", repo: g}

	// The work tree status does not depend on the base: with the git CLI,
	// read it meanwhile. (A go-git Repository is not safe for concurrent
	// use, so the fallback reads it afterwards.)
	var status []statusEntry
	eg, ectx := errgroup.WithContext(ctx)
	if d.Uncommitted && g.git != "" {
		eg.Go(func() error {
			var err error
			status, err = g.status(ctx) // not ectx: let it finish cleanly
			return err
		})
	}
	var committed []diffEntry
	eg.Go(func() error {
		base, err := selectBase(ectx, g, head, branch, opts)
		if err != nil {
			return err
		}
		d.Base = base
		log.Debug("change base", "commit", base.Commit, "rev", base.Rev, "reason", base.Reason)
		if base.Commit == d.Head {
			return nil
		}
		committed, err = g.diff(ectx, plumbing.NewHash(base.Commit), head)
		return err
	})
	if err := eg.Wait(); err != nil {
		g.close()
		return nil, err
	}
	if d.Uncommitted && g.git == "" {
		if status, err = g.status(ctx); err != nil {
			g.close()
			return nil, err
		}
	}
	files := fileSet{}
	for _, e := range committed {
		files.add(e.path, Committed, e.deleted)
	}
	for _, e := range status {
		files.add(e.path, e.origin, false)
	}
	d.Files = files.sorted(root, d.Uncommitted)
	log.Debug("changed files", "count", len(d.Files), "uncommitted", d.Uncommitted)
	return d, nil
}
