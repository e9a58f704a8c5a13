package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/changes"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/tf"
)

// cmdLedger is tmci ledger --env=E [--json]: the revision each stack was
// last applied or destroyed from in E.
func (a *app) cmdLedger(args []string) int {
	fs := a.flags("ledger")
	bf := a.addBackendFlags(fs)
	asJSON := fs.Bool("json", false, "print the entries as JSON, by stack path")
	tfBin := fs.String("tf-bin", "", "terraform or tofu `BINARY` (default $"+tf.BinEnv+", else terraform, else tofu on PATH)")
	workDir := fs.String("work-dir", "", "`DIR` for the ledger's data directory (default <root>/.tmci)")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return a.fail("tmci ledger", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *bf.env == "" {
		return a.fail("tmci ledger", errors.New("--env is required: name the environment whose ledger to show, e.g. --env=prod"))
	}
	p, err := a.loadProject()
	if err != nil {
		return a.fail("tmci ledger", err)
	}
	env, err := engine.CheckEnvironment(p, *bf.env)
	if err != nil {
		return a.fail("tmci ledger", err)
	}
	runner := &tf.Runner{Env: a.environ(), LockTimeout: engine.DefaultLockTimeout, NoColor: true, Logger: a.log}
	if runner.Bin, err = tf.FindBinary(*tfBin, a.getenv); err != nil {
		return a.fail("tmci ledger", err)
	}
	store, err := a.openLedger(p, env, bf, runner, engine.NewLayout(p, a.wd, *workDir, env))
	if err != nil {
		return a.fail("tmci ledger", err)
	}
	if store == nil {
		return a.fail("tmci ledger", ledger.ErrNoTemplate)
	}
	entries, err := store.Read(a.ctx)
	if err != nil {
		return a.fail("tmci ledger", err)
	}
	if *asJSON {
		return a.printJSON(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stderr, "tmci ledger: nothing recorded in %s yet\n", env.Name)
		return exitOK
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tLAST\tREVISION\tTIME")
	for _, path := range entries.Paths() {
		e := entries[path]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", path, e.Verb, e.Revision[:12], e.Time.UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return a.fail("tmci ledger", err)
	}
	return exitOK
}

// openLedger returns the ledger store of env, or nil when the project
// declares no backend template (it keeps no ledger then).
func (a *app) openLedger(p *project.Project, env engine.Environment, bf backendFlags, runner *tf.Runner, layout engine.Layout) (*ledger.Store, error) {
	if len(p.TMCI.Backends) == 0 {
		return nil, nil
	}
	res := a.resolver(p, bf)
	if res == nil {
		return nil, errPrinted
	}
	cfg, diags, err := ledger.Resolve(res, env.Name)
	a.printDiags(p, diags)
	if errors.Is(err, ledger.ErrNoTemplate) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.maskSecrets(map[string]*backend.Config{ledger.StackPath: cfg})
	// The ledger's terraform writes below the work directory: it must be
	// tmci's own before that (engine.ClaimWorkDir), as for a run.
	if err := engine.ClaimWorkDir(a.ctx, p.Root, filepath.Dir(layout.Dir), layout.Dir); err != nil {
		return nil, err
	}
	return ledger.New(runner, layout.LedgerDir(), cfg), nil
}

// headRevision returns HEAD's commit for the ledger, or "" outside a
// git repository (or before its first commit): no ledger is kept then.
func (a *app) headRevision(p *project.Project) string {
	revs, err := changes.OpenRevisions(p.Root, a.lookPath("git"))
	if err != nil {
		a.log.Info("no ledger: the revision is unknown", "err", err)
		return ""
	}
	defer revs.Close()
	head, err := revs.Head()
	if err != nil {
		a.log.Info("no ledger: the revision is unknown", "err", err)
		return ""
	}
	return head
}

// ledgerChanged narrows apply --changed on the default branch by each
// stack's own base: the revision the ledger recorded for it when that is
// an ancestor of HEAD, else the CI base (saying why). A change that a
// cancelled, failed or skipped pipeline never applied is therefore still
// in the diff of the next run. selected are the stacks the CI base
// selected; the result keeps the candidates' order. Off the default
// branch, or with an explicit --base, the CI base stands.
func (a *app) ledgerChanged(c *changedFlags, p *project.Project, cictx *ci.Context, entries ledger.Entries, selected []*project.Stack) ([]*project.Stack, error) {
	onDefault := c.diff.Base.Rev == "HEAD^" || (cictx.Branch != "" && cictx.Branch == p.Git.DefaultBranch)
	if c.base != "" || !onDefault {
		return selected, nil
	}
	byBase, err := a.ledgerBases(c, p, entries)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, s := range selected {
		keep[s.Path] = true
	}
	ciBase := c.diff.Base.Commit
	for _, s := range byBase[ciBase] {
		a.log.Debug("starting from the CI base", "stack", s.Path)
	}
	for base, stacks := range byBase {
		if base == ciBase {
			continue
		}
		changedSince, err := a.changedSince(c, p, cictx, base)
		if err != nil {
			return nil, err
		}
		a.reselect(keep, stacks, changedSince, base)
	}
	var out []*project.Stack
	for _, s := range c.candidates {
		if keep[s.Path] {
			out = append(out, s)
		}
	}
	return out, nil
}

// reselect decides again for stacks whose diff starts at base:
// changedSince are the stacks changed since then.
func (a *app) reselect(keep map[string]bool, stacks []*project.Stack, changedSince map[string]bool, base string) {
	for _, s := range stacks {
		switch {
		case changedSince[s.Path] && !keep[s.Path]:
			a.log.Warn("applying a change an earlier pipeline did not apply", "stack", s.Path, "since", base[:12])
			keep[s.Path] = true
		case !changedSince[s.Path] && keep[s.Path]:
			a.log.Info("already applied at its recorded revision: not selected", "stack", s.Path, "recorded", base[:12])
			keep[s.Path] = false
		}
	}
}

// ledgerBases groups the candidate stacks by the revision their diff
// starts from: the ledger's applied revision when it is an ancestor of
// HEAD, else the CI base.
func (a *app) ledgerBases(c *changedFlags, p *project.Project, entries ledger.Entries) (map[string][]*project.Stack, error) {
	revs, err := changes.OpenRevisions(p.Root, a.lookPath("git"))
	if err != nil {
		return nil, err
	}
	defer revs.Close()
	ciBase, head := c.diff.Base.Commit, c.diff.Head
	byBase := map[string][]*project.Stack{}
	for _, s := range c.candidates {
		e, ok := entries[s.Path]
		base := ciBase
		switch {
		case !ok:
			a.log.Info("no ledger entry: starting from the CI base", "stack", s.Path, "base", ciBase[:12])
		case e.Verb != ledger.Applied:
			a.log.Info("last recorded as destroyed: starting from the CI base", "stack", s.Path, "base", ciBase[:12])
		default:
			anc, err := revs.IsAncestor(a.ctx, e.Revision, head)
			if err != nil {
				return nil, err
			}
			if anc {
				base = e.Revision
			} else {
				a.log.Warn("the ledger's revision is not an ancestor of HEAD (history rewritten, or applied from another branch): starting from the CI base", "stack", s.Path, "recorded", e.Revision[:12], "base", ciBase[:12])
			}
		}
		byBase[base] = append(byBase[base], s)
	}
	return byBase, nil
}

// changedSince returns the stacks changed between base and HEAD.
func (a *app) changedSince(c *changedFlags, p *project.Project, cictx *ci.Context, base string) (map[string]bool, error) {
	d, err := changes.Detect(a.ctx, p.Root, changes.Options{
		Base: base, CI: *cictx, NoUncommitted: c.noUncommitted,
		DefaultBranch: p.Git.DefaultBranch, DefaultRemote: p.Git.DefaultRemote,
		Git: a.lookPath("git"), Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	res, diags := changes.Map(a.ctx, p, d)
	if err := a.ctx.Err(); err != nil {
		return nil, err
	}
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, errPrinted
	}
	out := make(map[string]bool, len(res.Changed))
	for _, ch := range res.Changed {
		out[ch.Stack.Path] = true
	}
	return out, nil
}
