package changes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// repo is one git repository, read through go-git, with the git CLI for
// the steps go-git is slow at on large histories (merge-base, worktree
// status) and for full revision syntax, when a git binary is available.
type repo struct {
	// root is the top level of the work tree; git runs there.
	root string
	// prefix is the project root's path below root, slash-separated
	// with a trailing "/" ("infra/"), or "" when the project is the top
	// level. Terramate accepts a project below the git top level, where
	// only the files below prefix belong to the project.
	prefix string
	git    string // git binary, or "" to use go-git only
	r      *git.Repository
	st     *filesystem.Storage // nil when go-git chose another storage
}

// openRepo opens the repository whose work tree holds the project root:
// root itself or a directory above it.
func openRepo(root, gitBin string) (*repo, error) {
	r, err := git.PlainOpenWithOptions(root, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s is not a git repository: change detection compares git commits; run tmci inside a git checkout, or leave out --changed", root)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the git repository at %s: %w", root, err)
	}
	wt, err := r.Worktree()
	if err != nil {
		return nil, fmt.Errorf("opening the work tree of the git repository at %s: %w", root, err)
	}
	top := wt.Filesystem.Root()
	prefix, err := projectPrefix(top, root)
	if err != nil {
		return nil, err
	}
	// Reopen the same .git with descriptors kept open: by default go-git
	// reopens the packfile for every object it reads, which dominates a
	// tree diff on a large repository.
	fsStorage, ok := r.Storer.(*filesystem.Storage)
	if !ok {
		return &repo{root: top, prefix: prefix, git: gitBin, r: r}, nil
	}
	st := filesystem.NewStorageWithOptions(fsStorage.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{MaxOpenDescriptors: 16})
	r2, err := git.Open(st, wt.Filesystem)
	if err != nil {
		return nil, fmt.Errorf("opening the git repository at %s: %w", root, err)
	}
	return &repo{root: top, prefix: prefix, git: gitBin, r: r2, st: st}, nil
}

// projectPrefix returns the path of the project root below the work
// tree's top level, as repo.prefix holds it. Both are compared with
// symbolic links resolved, so a checkout reached through a link maps too.
func projectPrefix(top, root string) (string, error) {
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return "", fmt.Errorf("resolving the git work tree %s: %w", top, err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("resolving the project root %s: %w", root, err)
	}
	rel, err := filepath.Rel(realTop, realRoot)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("the project root %s lies outside the git work tree %s", root, top)
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel) + "/", nil
}

// projectPath maps a slash-separated path relative to the top level of
// the work tree to a project path ("/stacks/app/main.tf"); ok is false for
// a path outside the project root, which changes nothing in the project.
func (g *repo) projectPath(rel string) (string, bool) {
	rest, ok := strings.CutPrefix(rel, g.prefix)
	if !ok || rest == "" {
		return "", false
	}
	return "/" + strings.TrimSuffix(rest, "/"), true
}

// close releases the packfile descriptors.
func (g *repo) close() error {
	if g.st == nil {
		return nil
	}
	return g.st.Close()
}

// run runs the git CLI in the work tree and returns its standard output.
func (g *repo) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.git, args...)
	cmd.Dir = g.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return out, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return out, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// shallow reports whether the repository is a shallow clone, whose history
// stops at some commits.
func (g *repo) shallow() bool {
	hs, err := g.r.Storer.Shallow()
	return err == nil && len(hs) > 0
}

// head returns HEAD's commit and the branch HEAD points to ("" when HEAD is
// detached).
func (g *repo) head() (plumbing.Hash, string, error) {
	ref, err := g.r.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, "", errors.New("the repository has no commits yet: commit something first, or leave out --changed")
	}
	if err != nil {
		return plumbing.ZeroHash, "", fmt.Errorf("reading HEAD: %w", err)
	}
	branch := ""
	if sym, err := g.r.Storer.Reference(plumbing.HEAD); err == nil && sym.Type() == plumbing.SymbolicReference && sym.Target().IsBranch() {
		branch = sym.Target().Short()
	}
	return ref.Hash(), branch, nil
}

// ref returns the commit a full reference name (refs/remotes/origin/main)
// points to, and false when it does not exist.
func (g *repo) ref(name string) (plumbing.Hash, bool) {
	ref, err := g.r.Reference(plumbing.ReferenceName(name), true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return ref.Hash(), true
}

// resolve turns a revision into a commit hash. With the git CLI every
// revision syntax works; go-git knows names, hashes, ^ and ~.
func (g *repo) resolve(ctx context.Context, rev string) (plumbing.Hash, bool) {
	if g.git != "" {
		out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
		if err != nil {
			return plumbing.ZeroHash, false
		}
		return plumbing.NewHash(strings.TrimSpace(string(out))), true
	}
	h, err := g.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, false
	}
	if _, err := g.r.CommitObject(*h); err != nil {
		return plumbing.ZeroHash, false
	}
	return *h, true
}

// hasCommit reports whether the commit h is in the repository.
func (g *repo) hasCommit(ctx context.Context, h plumbing.Hash) bool {
	if g.git != "" {
		_, err := g.run(ctx, "cat-file", "-e", h.String()+"^{commit}")
		return err == nil
	}
	_, err := g.r.CommitObject(h)
	return err == nil
}

// parents returns the parent hashes commit h names (present or not: a
// shallow clone may lack them).
func (g *repo) parents(ctx context.Context, h plumbing.Hash) ([]plumbing.Hash, error) {
	if g.git != "" {
		// The raw commit object: rev-list would hide the parents a shallow
		// clone cut off.
		out, err := g.run(ctx, "cat-file", "commit", h.String())
		if err != nil {
			return nil, err
		}
		header, _, _ := bytes.Cut(out, []byte("\n\n"))
		var ps []plumbing.Hash
		for _, line := range strings.Split(string(header), "\n") {
			if p, ok := strings.CutPrefix(line, "parent "); ok {
				ps = append(ps, plumbing.NewHash(p))
			}
		}
		return ps, nil
	}
	c, err := g.r.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", h, err)
	}
	return c.ParentHashes, nil
}

// mergeBase returns a best common ancestor of a and b, and false when they
// have none in this repository.
func (g *repo) mergeBase(ctx context.Context, a, b plumbing.Hash) (plumbing.Hash, bool, error) {
	if g.git != "" {
		out, err := g.run(ctx, "merge-base", a.String(), b.String())
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 && len(bytes.TrimSpace(out)) == 0 {
			return plumbing.ZeroHash, false, nil
		}
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		return plumbing.NewHash(strings.TrimSpace(string(out))), true, nil
	}
	ca, err := g.r.CommitObject(a)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("reading commit %s: %w", a, err)
	}
	cb, err := g.r.CommitObject(b)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("reading commit %s: %w", b, err)
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("computing the merge-base of %s and %s: %w", a, b, err)
	}
	if len(bases) == 0 {
		return plumbing.ZeroHash, false, nil
	}
	return bases[0].Hash, true, nil
}

// tree returns the root tree of commit h.
func (g *repo) tree(h plumbing.Hash) (*object.Tree, error) {
	c, err := g.r.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", h, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of commit %s: %w", h, err)
	}
	return t, nil
}
