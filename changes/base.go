package changes

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tmci/tmci/ci"
)

// Base is the commit a change is measured from, and why it was chosen.
type Base struct {
	// Commit is the full hash of the base commit.
	Commit string `json:"commit"`
	// Rev is what named it: the --base value, "HEAD^", "merge-base HEAD
	// origin/main", or a commit from the CI context.
	Rev string `json:"rev"`
	// Reason says, in a sentence fragment, why this base applies.
	Reason string `json:"reason"`
}

// shallowFix is what every "history is missing" error tells the user to do.
const shallowFix = "fetch more history (`fetch-depth: 0` in actions/checkout, `GIT_DEPTH: 0` in GitLab CI, or `git fetch --deepen=N` or `git fetch --unshallow` by hand)"

var hexPattern = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// selectBase chooses the base commit in the order docs/architecture.md
// (Change detection) gives: --base, the CI context, HEAD^ on the default
// branch, else the merge-base with the default branch.
func selectBase(ctx context.Context, g *repo, head plumbing.Hash, branch string, opts Options) (Base, error) {
	if opts.Base != "" {
		h, ok := g.resolve(ctx, opts.Base)
		if !ok {
			if g.shallow() && hexPattern.MatchString(opts.Base) {
				return Base{}, fmt.Errorf("base commit %s is not in this shallow clone: %s", opts.Base, shallowFix)
			}
			return Base{}, fmt.Errorf("unknown base ref %q: git knows no commit by that name; check the spelling, or fetch it first (git fetch origin %s)", opts.Base, opts.Base)
		}
		return Base{Commit: h.String(), Rev: opts.Base, Reason: "--base " + opts.Base}, nil
	}
	for _, c := range opts.CI.Base {
		b, ok, err := candidateBase(ctx, g, head, c)
		if err != nil || ok {
			return b, err
		}
	}
	if branch == "" {
		branch = opts.CI.Branch
	}
	defBranch, remote := opts.DefaultBranch, opts.DefaultRemote
	remoteName := remote + "/" + defBranch
	remoteHash, hasRemote := g.ref("refs/remotes/" + remoteName)
	if branch == defBranch || (branch == "" && hasRemote && remoteHash == head) {
		parents, err := g.parents(ctx, head)
		if err != nil {
			return Base{}, err
		}
		if len(parents) == 0 {
			return Base{}, fmt.Errorf("HEAD^ does not exist: HEAD (%s) is the only commit on the default branch %s, so there is nothing to compare it with; pass --base REF, or leave out --changed to select every stack", short(head), defBranch)
		}
		parent := parents[0]
		if !g.hasCommit(ctx, parent) {
			return Base{}, fmt.Errorf("HEAD^ (%s), the base on the default branch, is not in this shallow clone: %s", short(parent), shallowFix)
		}
		return Base{Commit: parent.String(), Rev: "HEAD^", Reason: "on the default branch " + defBranch + ": the previous commit"}, nil
	}
	if branch == "" && opts.CI.InCI() {
		event := ""
		if opts.CI.Event != "" {
			event = fmt.Sprintf(" (event %q)", opts.CI.Event)
		}
		return Base{}, fmt.Errorf("HEAD is detached and the %s CI context%s names no base commit, so tmci cannot tell which branch this is: pass --base REF (e.g. --base %s)", opts.CI.Provider, event, remoteName)
	}
	target, targetName := remoteHash, remoteName
	if !hasRemote {
		var ok bool
		if target, ok = g.ref("refs/heads/" + defBranch); !ok {
			return Base{}, fmt.Errorf("cannot find the default branch to compare with: neither %s nor a local branch %s exists; fetch it (git fetch %s %s), set terramate.config.git.default_branch, or pass --base REF", remoteName, defBranch, remote, defBranch)
		}
		targetName = defBranch
	}
	mb, ok, err := g.mergeBase(ctx, head, target)
	if err != nil {
		return Base{}, err
	}
	if !ok {
		if g.shallow() {
			return Base{}, fmt.Errorf("HEAD and %s have no common ancestor in this shallow clone: %s", targetName, shallowFix)
		}
		return Base{}, fmt.Errorf("HEAD and %s have no common ancestor: pass --base REF", targetName)
	}
	where := "branch " + branch
	if branch == "" {
		where = "detached HEAD"
	}
	return Base{Commit: mb.String(), Rev: "merge-base HEAD " + targetName, Reason: where + ": where it forked from " + targetName}, nil
}

// candidateBase applies one CI candidate; ok is false when it does not
// apply and the next one should be tried.
func candidateBase(ctx context.Context, g *repo, head plumbing.Hash, c ci.BaseCandidate) (Base, bool, error) {
	missing := func(h string) error {
		if g.shallow() {
			return fmt.Errorf("base commit %s (%s) is not in this shallow clone: %s", h, c.Source, shallowFix)
		}
		return fmt.Errorf("base commit %s (%s) is not in the repository: it may have been force-pushed away; fetch it (git fetch origin %s) or pass --base REF", h, c.Source, h)
	}
	if len(c.SHA) != 40 || !hexPattern.MatchString(c.SHA) {
		return Base{}, false, nil
	}
	h := plumbing.NewHash(c.SHA)
	switch c.Kind {
	case ci.FirstParent:
		if h != head {
			return Base{}, false, nil
		}
		parents, err := g.parents(ctx, head)
		if err != nil {
			return Base{}, false, err
		}
		if len(parents) < 2 {
			return Base{}, false, nil
		}
		first := parents[0]
		if !g.hasCommit(ctx, first) {
			if g.shallow() {
				return Base{}, false, fmt.Errorf("base commit %s, the first parent of the merge commit HEAD (%s), is not in this shallow clone: fetch one more commit (`fetch-depth: 2` in actions/checkout, or `git fetch --deepen=1`)", first, c.Source)
			}
			return Base{}, false, missing(first.String())
		}
		return Base{Commit: first.String(), Rev: "HEAD^1", Reason: c.Source + ": HEAD is the merge commit, its first parent the target branch"}, true, nil
	case ci.MergeBase:
		if !g.hasCommit(ctx, h) {
			return Base{}, false, missing(c.SHA)
		}
		mb, ok, err := g.mergeBase(ctx, head, h)
		if err != nil {
			return Base{}, false, err
		}
		if !ok {
			if g.shallow() {
				return Base{}, false, fmt.Errorf("HEAD and %s (%s) have no common ancestor in this shallow clone: %s", c.SHA, c.Source, shallowFix)
			}
			return Base{}, false, fmt.Errorf("HEAD and %s (%s) have no common ancestor: pass --base REF", c.SHA, c.Source)
		}
		return Base{Commit: mb.String(), Rev: "merge-base HEAD " + c.SHA, Reason: c.Source + ": where HEAD forked from it"}, true, nil
	case ci.Commit:
		if !g.hasCommit(ctx, h) {
			return Base{}, false, missing(c.SHA)
		}
		return Base{Commit: h.String(), Rev: c.SHA, Reason: c.Source}, true, nil
	}
	return Base{}, false, errors.New("unknown base candidate kind")
}

// short abbreviates a commit hash for messages.
func short(h plumbing.Hash) string { return h.String()[:12] }
