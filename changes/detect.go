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

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/sync/errgroup"
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

	repo     *repo
	baseTree *object.Tree
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
	var committed []string
	eg.Go(func() error {
		base, err := selectBase(ectx, g, head, branch, opts)
		if err != nil {
			return err
		}
		d.Base = base
		log.Debug("change base", "commit", base.Commit, "rev", base.Rev, "reason", base.Reason)
		if d.baseTree, err = g.tree(plumbing.NewHash(base.Commit)); err != nil {
			return err
		}
		if base.Commit == d.Head {
			return nil
		}
		headTree, err := g.tree(head)
		if err != nil {
			return err
		}
		committed, err = g.treeDiff(ectx, d.baseTree, headTree)
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
	for _, p := range committed {
		files.add(p, Committed)
	}
	for _, e := range status {
		files.add(e.path, e.origin)
	}
	var headTree *object.Tree
	if !d.Uncommitted {
		if headTree, err = g.tree(head); err != nil {
			g.close()
			return nil, err
		}
	}
	d.Files = files.sorted(root, headTree, d.Uncommitted)
	log.Debug("changed files", "count", len(d.Files), "uncommitted", d.Uncommitted)
	return d, nil
}
