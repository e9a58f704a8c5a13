package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/changes"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/project"
)

// changedFlags are the change-detection flags a command shares:
// --changed, --base (-B, --git-change-base), --why, --no-uncommitted.
type changedFlags struct {
	changed       bool
	base          string
	why           bool
	noUncommitted bool

	// Set by startChanged for selectChanged.
	pending  *changes.Pending
	startErr error
	// Set by selectChanged for printChanged, and for the ledger's
	// per-stack bases (ledgerChanged): the stacks before the change
	// narrowed them.
	diff       *changes.Diff
	result     *changes.Result
	candidates []*project.Stack
}

func (a *app) changedFlags(fs *pflag.FlagSet) *changedFlags {
	c := &changedFlags{}
	usage := "select only the stacks the change since the base commit touches"
	if fs.Lookup("json") != nil { // registered first by the commands that have it
		usage += " (--json then prints {base, head, changed, deleted, ignored})"
	}
	fs.BoolVar(&c.changed, "changed", false, usage)
	fs.StringVarP(&c.base, "base", "B", "", "compare with `REF` (any git revision) instead of the automatic base")
	fs.StringVar(&c.base, "git-change-base", "", "same as --base `REF` (Terramate's name)")
	fs.BoolVar(&c.why, "why", false, "with --changed: print why each stack changed")
	fs.BoolVar(&c.noUncommitted, "no-uncommitted", false, "with --changed: ignore staged, unstaged and untracked files (always ignored in CI)")
	return c
}

// check rejects flags that need --changed without it.
func (c *changedFlags) check() error {
	if c.changed {
		return nil
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{c.base != "", "--base"}, {c.why, "--why"}, {c.noUncommitted, "--no-uncommitted"}} {
		if f.set {
			return fmt.Errorf("%s needs --changed", f.name)
		}
	}
	return nil
}

// startChanged begins change detection when --changed is set, so the
// work tree status runs while the project loads; selectChanged finishes it.
func (a *app) startChanged(c *changedFlags) {
	if !c.changed {
		return
	}
	root, err := project.FindRoot(a.wd)
	if err != nil {
		c.startErr = err
		return
	}
	ctx, err := ci.Detect(a.getenv)
	if err != nil {
		c.startErr = err
		return
	}
	c.pending = changes.Start(a.ctx, root, changes.Options{
		Base:          c.base,
		CI:            *ctx,
		NoUncommitted: c.noUncommitted,
		Git:           a.lookPath("git"),
		Logger:        a.log,
	})
}

// loadSelected loads the project and the stacks the selection flags pick,
// narrowed to the changed ones with --changed. Change detection starts
// before the project loads, so git works while the files parse.
func (a *app) loadSelected(sel *selection, c *changedFlags) (*project.Project, []*project.Stack, error) {
	a.startChanged(c)
	p, stacks, err := sel.load(a)
	if err != nil {
		return nil, nil, err
	}
	if c.changed {
		if stacks, err = a.selectChanged(c, p, stacks); err != nil {
			return nil, nil, err
		}
	}
	return p, stacks, nil
}

// selectChanged keeps the stacks of candidates the change touches, in
// their order.
func (a *app) selectChanged(c *changedFlags, p *project.Project, candidates []*project.Stack) ([]*project.Stack, error) {
	if c.pending == nil && c.startErr == nil {
		a.startChanged(c)
	}
	if c.startErr != nil {
		return nil, shared(c.startErr)
	}
	d, err := c.pending.Finish(a.ctx, p.Git.DefaultBranch, p.Git.DefaultRemote)
	if err != nil {
		return nil, shared(err)
	}
	res, diags := changes.Map(a.ctx, p, d)
	d.Close()
	if err := a.ctx.Err(); err != nil { // an interrupted scan is incomplete
		return nil, shared(err)
	}
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, errPrinted
	}
	res.KeepBelow(a.wdPath(p))
	a.logChangeNotes(p, res)
	changed := make(map[string]bool, len(res.Changed))
	for _, ch := range res.Changed {
		changed[ch.Stack.Path] = true
	}
	var out []*project.Stack
	for _, s := range candidates {
		if changed[s.Path] {
			out = append(out, s)
		}
	}
	c.diff, c.result, c.candidates = d, res, candidates
	return out, nil
}

// logChangeNotes says what a change did besides changing stacks: moves,
// deletions and ignore-change triggers.
func (a *app) logChangeNotes(p *project.Project, res *changes.Result) {
	for _, m := range res.Moved {
		a.log.Warn("stack moved since the base commit, keeping its id: "+moveSummary(a.moveEffects(p, m)), "from", m.From, "to", m.To, "id", m.ID)
	}
	for _, del := range res.Deleted {
		a.log.Warn("stack deleted since the base commit: its state is orphaned in every environment", "stack", del.Path, "id", del.ID)
	}
	for _, ig := range res.Ignored {
		a.log.Info("stack changed but an ignore-change trigger excludes it", "stack", ig.Stack.Path)
	}
}

// changedJSON is tmci list --changed --json.
type changedJSON struct {
	Base    changes.Base       `json:"base"`
	Head    headJSON           `json:"head"`
	Changed []changedStackJSON `json:"changed"`
	Deleted []changes.Deleted  `json:"deleted"`
	Moved   []changes.Moved    `json:"moved"`
	Ignored []changedStackJSON `json:"ignored"`
}

type headJSON struct {
	Commit      string `json:"commit"`
	Uncommitted bool   `json:"uncommitted"`
}

type changedStackJSON struct {
	Path    string       `json:"path"`
	ID      string       `json:"id"`
	Reasons []reasonJSON `json:"reasons"`
}

type reasonJSON struct {
	changes.Reason
	Text string `json:"text"`
}

func newChangedStackJSON(ch *changes.Changed) changedStackJSON {
	out := changedStackJSON{Path: ch.Stack.Path, ID: ch.Stack.ID, Reasons: make([]reasonJSON, len(ch.Reasons))} // [] when selected without a change
	for i, r := range ch.Reasons {
		out.Reasons[i] = reasonJSON{r, r.String()}
	}
	return out
}

// changedOrSelected returns the change of s, or, for a stack the
// selection added (wants, dependents) without a change, one with no
// reasons.
func changedOrSelected(byPath map[string]*changes.Changed, s *project.Stack) *changes.Changed {
	if ch := byPath[s.Path]; ch != nil {
		return ch
	}
	return &changes.Changed{Stack: s}
}

// printChanged prints the selected stacks with their reasons, as JSON or
// as --why text; stacks are the ones selectChanged returned, in order.
func (a *app) printChanged(c *changedFlags, p *project.Project, stacks []*project.Stack, asJSON bool) int {
	byPath := make(map[string]*changes.Changed, len(c.result.Changed))
	for _, ch := range c.result.Changed {
		byPath[ch.Stack.Path] = ch
	}
	if asJSON {
		out := changedJSON{
			Base:    c.diff.Base,
			Head:    headJSON{Commit: c.diff.Head, Uncommitted: c.diff.Uncommitted},
			Changed: make([]changedStackJSON, 0, len(stacks)),
			Deleted: c.result.Deleted,
			Moved:   c.result.Moved,
			Ignored: make([]changedStackJSON, 0, len(c.result.Ignored)),
		}
		if out.Deleted == nil {
			out.Deleted = []changes.Deleted{}
		}
		if out.Moved == nil {
			out.Moved = []changes.Moved{}
		}
		for _, s := range stacks {
			out.Changed = append(out.Changed, newChangedStackJSON(changedOrSelected(byPath, s)))
		}
		for _, ig := range c.result.Ignored {
			out.Ignored = append(out.Ignored, newChangedStackJSON(ig))
		}
		return a.printJSON(out)
	}
	for _, s := range stacks {
		fmt.Fprintln(a.stdout, a.relPath(p, s.Path))
		ch := byPath[s.Path]
		if ch == nil {
			fmt.Fprintln(a.stdout, "    not changed: selected along with a changed stack")
			continue
		}
		for _, r := range ch.Reasons {
			fmt.Fprintf(a.stdout, "    %s\n", r)
		}
	}
	for _, d := range c.result.Deleted {
		fmt.Fprintf(a.stdout, "%s (deleted)\n    stack %s was deleted since %s: its state is orphaned\n", a.relPath(p, d.Path), d.Path, c.diff.Base.Commit[:12])
	}
	for _, m := range c.result.Moved {
		a.printMove(a.stdout, p, m, c.diff.Base.Commit)
	}
	return exitOK
}

// lookPath finds an executable on the PATH tmci was given, or returns "".
func (a *app) lookPath(name string) string {
	for _, dir := range filepath.SplitList(a.getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
