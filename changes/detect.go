// Package changes finds what a git change touches: the base commit to
// compare with, the changed files, and the stacks they change, each with
// its reasons.
//
// Start opens the repository and reads what needs no project (the work tree
// status, the Terraform files in the index) while the caller loads the
// project; Finish chooses the base and diffs; Map puts the files onto the
// project's stacks. Detect is Start plus Finish.
//
// Repository access goes through go-git (HEAD, refs, blobs of the base, and
// everything when no git binary is given). With a git binary the steps
// go-git is slow at on large repositories run as git commands: merge-base
// and work tree status (as the issue expected), and also the diff, parent
// and object checks, because go-git's first object read in a large pack
// builds an index of the whole pack.
package changes

import (
	"context"
	"log/slog"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/project"
)

// Options tunes Detect.
type Options struct {
	// Base is the --base revision; empty chooses one (see docs/architecture.md).
	Base string
	// CI is the CI context; the zero value means tmci runs outside CI.
	CI ci.Context
	// NoUncommitted leaves staged, unstaged and untracked files out. They
	// are always left out in CI, where the checkout is the commit.
	NoUncommitted bool
	// DefaultBranch and DefaultRemote come from terramate.config.git
	// (Detect only; Start leaves them to Finish).
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
	// indexTF is `git ls-files -z '*.tf' '*.tofu'`, or nil.
	indexTF []byte
}

// terraformFiles lists the Terraform files directly in each stack
// directory, from the git index plus the untracked files Detect saw, keyed
// by stack path. It returns nil when the index was not listed (no git CLI,
// or listing failed): the caller then reads the directories. One `git
// ls-files` costs less than a directory read per stack.
func (d *Diff) terraformFiles(p *project.Project) map[string][]string {
	if d.indexTF == nil {
		return nil
	}
	known := map[string][]string{}
	addFile := func(file string) {
		dir, name := path.Split(file)
		dir = path.Clean(dir)
		if isTerraformFile(name) && p.Stack(dir) != nil {
			known[dir] = append(known[dir], name)
		}
	}
	for _, rel := range strings.Split(strings.TrimSuffix(string(d.indexTF), "\x00"), "\x00") {
		if file, ok := d.repo.projectPath(rel); ok {
			addFile(file)
		}
	}
	for _, f := range d.Files {
		if f.Origin&Untracked != 0 {
			addFile(f.Path)
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
	f, err := t.File(d.repo.prefix + strings.TrimPrefix(p, "/"))
	if err != nil || f.Size > project.MaxConfigSize {
		return nil, false // a config file that large did not load either
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

// Detect chooses the base and lists the files changed since in the
// project at root, which is the top level of a git work tree or lies
// below it: Start then Finish. The error says
// what to do next when the history needed is missing (a shallow clone, an
// unknown ref, a single commit, a detached HEAD in CI). The caller closes
// the Diff.
func Detect(ctx context.Context, root string, opts Options) (*Diff, error) {
	return Start(ctx, root, opts).Finish(ctx, opts.DefaultBranch, opts.DefaultRemote)
}

// Pending is change detection under way; see Start.
type Pending struct {
	opts Options
	root string // the project root
	g    *repo
	err  error
	head plumbing.Hash
	// branch is the branch HEAD points to, "" when detached.
	branch string
	d      *Diff
	// done is closed when status and indexTF are read.
	done      chan struct{}
	status    []statusEntry
	statusErr error
}

// Start opens the repository and begins what does not need the project:
// the work tree status and the list of Terraform files in the index, which
// on a large work tree take longer than everything else. It returns at
// once, so the caller can load the project meanwhile and then call Finish
// with the project's default branch. opts.DefaultBranch and DefaultRemote
// are not read.
func Start(ctx context.Context, root string, opts Options) *Pending {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pending{opts: opts, root: root, done: make(chan struct{})}
	if p.g, p.err = openRepo(root, opts.Git); p.err != nil {
		close(p.done)
		return p
	}
	if p.head, p.branch, p.err = p.g.head(); p.err != nil {
		p.g.close()
		close(p.done)
		return p
	}
	p.d = &Diff{Head: p.head.String(), Uncommitted: !opts.NoUncommitted && !opts.CI.InCI(), repo: p.g}
	if p.g.git == "" {
		// go-git is not safe for concurrent use: Finish does it all.
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		var eg errgroup.Group
		if p.d.Uncommitted {
			eg.Go(func() error {
				var err error
				p.status, err = p.g.status(ctx)
				return err
			})
		}
		eg.Go(func() error {
			if out, err := p.g.run(ctx, "ls-files", "-z", "--", "*.tf", "*.tofu"); err == nil {
				p.d.indexTF = out
			}
			return nil // without the listing, Map reads the directories
		})
		p.statusErr = eg.Wait()
	}()
	return p
}

// Finish chooses the base with the default branch and remote (empty means
// main and origin), diffs it against HEAD, and adds the work tree changes.
func (p *Pending) Finish(ctx context.Context, defaultBranch, defaultRemote string) (*Diff, error) {
	if p.err != nil { // set before Start returned
		return nil, p.err
	}
	g, d, opts := p.g, p.d, p.opts
	opts.DefaultBranch, opts.DefaultRemote = defaultBranch, defaultRemote
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.DefaultRemote == "" {
		opts.DefaultRemote = "origin"
	}
	fail := func(err error) (*Diff, error) {
		g.close()
		return nil, err
	}
	base, err := selectBase(ctx, g, p.head, p.branch, opts)
	if err != nil {
		<-p.done
		return fail(err)
	}
	d.Base = base
	opts.Logger.Debug("change base", "commit", base.Commit, "rev", base.Rev, "reason", base.Reason)
	var committed []diffEntry
	if base.Commit != d.Head {
		if committed, err = g.diff(ctx, plumbing.NewHash(base.Commit), p.head); err != nil {
			<-p.done // status writes nothing after this; let it finish
			return fail(err)
		}
	}
	<-p.done
	if p.statusErr != nil {
		return fail(p.statusErr)
	}
	status := p.status
	if d.Uncommitted && g.git == "" {
		if status, err = g.status(ctx); err != nil {
			return fail(err)
		}
	}
	// Files outside a project below the top level change nothing, as in
	// Terramate: its diff is relative to the project root.
	files := fileSet{}
	for _, e := range committed {
		if p, ok := g.projectPath(e.path); ok {
			files.add(p, Committed, e.deleted)
		}
	}
	for _, e := range status {
		if p, ok := g.projectPath(e.path); ok {
			files.add(p, e.origin, false)
		}
	}
	d.Files = files.sorted(p.root, d.Uncommitted)
	opts.Logger.Debug("changed files", "count", len(d.Files), "uncommitted", d.Uncommitted)
	return d, nil
}
