package changes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
)

// Revisions answers the questions the ledger asks of the repository that
// holds a project: which commit HEAD is, and whether a recorded revision
// lies in HEAD's history. Close it when done.
type Revisions struct {
	g *repo
}

// OpenRevisions opens the repository whose work tree holds root; gitBin
// is as in Options.Git.
func OpenRevisions(root, gitBin string) (*Revisions, error) {
	g, err := openRepo(root, gitBin)
	if err != nil {
		return nil, err
	}
	return &Revisions{g: g}, nil
}

// Head returns the full hash of HEAD.
func (r *Revisions) Head() (string, error) {
	h, _, err := r.g.head()
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// IsAncestor reports whether the commit rev is head or one of its
// ancestors. A commit the repository lacks (force-pushed away, or beyond
// a shallow clone) is not.
func (r *Revisions) IsAncestor(ctx context.Context, rev, head string) (bool, error) {
	if len(rev) != 40 || !hexPattern.MatchString(rev) {
		return false, nil
	}
	a, b := plumbing.NewHash(rev), plumbing.NewHash(head)
	if !r.g.hasCommit(ctx, a) {
		return false, nil
	}
	mb, ok, err := r.g.mergeBase(ctx, a, b)
	if err != nil || !ok {
		return false, err
	}
	return mb == a, nil
}

// Close releases the repository's files.
func (r *Revisions) Close() error { return r.g.close() }

// Worktree is a temporary git worktree checked out at one revision.
type Worktree struct {
	// Root is the project root inside the worktree: the worktree's top
	// level plus the project's prefix below the repository's.
	Root string
	dir  string
	g    *repo
}

// AddWorktree checks rev out, detached, into a new temporary directory
// with `git worktree add`; the caller removes it with Remove. It needs the
// git binary (go-git has no worktrees).
func (r *Revisions) AddWorktree(ctx context.Context, rev string) (*Worktree, error) {
	if r.g.git == "" {
		return nil, errors.New("checking out an earlier revision needs the git command on PATH")
	}
	if len(rev) != 40 || !hexPattern.MatchString(rev) {
		return nil, fmt.Errorf("%q is not a full commit hash", rev)
	}
	dir, err := os.MkdirTemp("", "tmci-worktree-")
	if err != nil {
		return nil, err
	}
	if _, err := r.g.run(ctx, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--quiet", "--detach", dir, rev); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("checking out %s in a temporary worktree: %w", rev[:12], err)
	}
	return &Worktree{Root: filepath.Join(dir, filepath.FromSlash(r.g.prefix)), dir: dir, g: r.g}, nil
}

// Remove deletes the worktree and its administrative files.
func (w *Worktree) Remove(ctx context.Context) error {
	_, err := w.g.run(context.WithoutCancel(ctx), "worktree", "remove", "--force", w.dir)
	if err != nil {
		os.RemoveAll(w.dir)
		_, err = w.g.run(context.WithoutCancel(ctx), "worktree", "prune")
	}
	return err
}
