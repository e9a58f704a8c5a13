package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/changes"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/tf"
)

// deletedStacks lists the stacks gone from the code whose resources may
// live on: those change detection found deleted since the base (with
// --changed), and those the ledger recorded as applied that are no
// stack now, below the working directory. Sorted by path.
func (a *app) deletedStacks(c *changedFlags, p *project.Project, entries ledger.Entries) []report.DeletedStack {
	seen := map[string]bool{}
	var out []report.DeletedStack
	if c.changed && c.result != nil {
		for _, d := range c.result.Deleted {
			seen[d.Path] = true
			out = append(out, report.DeletedStack{Path: d.Path, ID: d.ID, Revision: c.diff.Base.Commit, Source: "change"})
		}
	}
	wd := a.wdPath(p)
	for _, path := range entries.Paths() {
		e := entries[path]
		if seen[path] || e.Verb != ledger.Applied || p.Stack(path) != nil || !projectpath.IsBelow(path, wd) {
			continue
		}
		out = append(out, report.DeletedStack{Path: path, Revision: e.Revision, Source: "ledger"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// warnDeleted says, on stderr and as GitHub warnings, which stacks are
// gone from the code with their resources still deployed.
func (a *app) warnDeleted(r *engine.Run) {
	for _, d := range r.Deleted {
		msg := fmt.Sprintf("stack %s is deleted from the code, but its resources in %s are not destroyed (last seen in %.12s); run: tmci destroy --deleted --env=%s --yes",
			printable.String(d.Path), r.Env.Name, d.Revision, r.Env.Name)
		fmt.Fprintf(a.stderr, "tmci %s: warning: %s\n", r.Verb, msg)
		if a.onGitHub() {
			fmt.Fprint(a.stdout, ci.Annotation{Title: "tmci: deleted stack " + printable.String(d.Path), Message: msg}.Warning())
		}
	}
}

// destroyDeleted is tmci destroy --deleted: for each stack the ledger
// records as applied that is no stack any more, destroy its resources
// from the revision it was last applied from, checked out in a temporary
// git worktree with that revision's code and backend template, dependents
// first, then forget it in the ledger. It works on a protected
// environment too (with --yes): it removes only what the code no longer
// declares. It returns the exit code.
func (a *app) destroyDeleted(f *runFlags, fs *pflag.FlagSet) int {
	const name = "tmci destroy"
	extra, mode, cictx, err := a.runOptions(engine.Destroy, f, fs)
	if err != nil {
		return a.fail(name, err)
	}
	if f.changed.changed || len(f.sel.stacks) > 0 {
		return a.fail(name, errors.New("--deleted takes the deleted stacks from the ledger: leave out --changed and --stack"))
	}
	if !f.yes {
		return a.fail(name, errors.New("destroy --deleted deletes the resources of stacks deleted from the code: pass --yes to confirm"))
	}
	dl, err := a.openDeletedLedger(f)
	if err != nil {
		return a.fail(name, err)
	}
	p, env, runner, layout, store, entries := dl.p, dl.env, dl.runner, dl.layout, dl.store, dl.entries
	deleted := a.deletedStacks(f.changed, p, entries)
	if len(deleted) == 0 {
		fmt.Fprintf(a.stderr, "%s: the ledger of %s records no deleted stack: nothing to destroy\n", name, env.Name)
		return exitOK
	}
	revs, err := changes.OpenRevisions(p.Root, a.lookPath("git"))
	if err != nil {
		return a.fail(name, err)
	}
	defer revs.Close()
	// One worktree per revision, the most recently applied first.
	paths := make([]string, len(deleted))
	revision := map[string]string{}
	for i, d := range deleted {
		paths[i] = d.Path
		revision[d.Path] = d.Revision
	}
	groups := entries.ByRevision(paths, func(path string) string { return revision[path] })
	code := exitOK
	for _, g := range groups {
		r := &engine.Run{
			Verb: engine.Destroy, Env: env, Extra: extra, Layout: layout,
			Parallel: f.parallel, FailFast: f.failFast, LockWait: f.lockTimeout,
			Version: tmciVersion(), Note: a.stderr, Getenv: a.getenv,
			Runner: runner, Ledger: store, Revision: g.Revision, Forget: g.Paths,
			Console: a.console(mode, cictx),
		}
		code = worseExit(code, a.destroyAt(revs, p, r, f))
	}
	return code
}

// deletedLedger is what destroy --deleted reads before it destroys.
type deletedLedger struct {
	p       *project.Project
	env     engine.Environment
	runner  *tf.Runner
	layout  engine.Layout
	store   *ledger.Store
	entries ledger.Entries
}

// openDeletedLedger loads the project and reads the environment's ledger
// for destroy --deleted.
func (a *app) openDeletedLedger(f *runFlags) (*deletedLedger, error) {
	p, err := a.loadProject()
	if err != nil {
		return nil, err
	}
	env, err := engine.CheckEnvironment(p, *f.backend.env)
	if err != nil {
		return nil, err
	}
	runner := &tf.Runner{Env: a.environ(), LockTimeout: f.lockTimeout, Grace: f.grace, NoColor: true, Logger: a.log}
	if runner.Bin, err = tf.FindBinary(f.tfBin, a.getenv); err != nil {
		return nil, err
	}
	layout := engine.NewLayout(p, a.wd, f.workDir, env)
	store, err := a.openLedger(p, env, f.backend, runner, layout)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("--deleted needs the ledger, and the project declares no backend template")
	}
	entries, err := store.Read(a.ctx)
	if err != nil {
		return nil, err
	}
	return &deletedLedger{p: p, env: env, runner: runner, layout: layout, store: store, entries: entries}, nil
}

// destroyAt runs r, a destroy of the stacks r.Forget names, in a
// temporary worktree of r.Revision, and returns the exit code.
func (a *app) destroyAt(revs *changes.Revisions, p *project.Project, r *engine.Run, f *runFlags) int {
	const name = "tmci destroy"
	wt, err := revs.AddWorktree(a.ctx, r.Revision)
	if err != nil {
		return a.fail(name, err)
	}
	defer func() {
		if err := wt.Remove(a.ctx); err != nil {
			a.log.Warn("could not remove the temporary worktree", "dir", wt.Root, "err", err)
		}
	}()
	wp, diags := project.Load(wt.Root, project.Options{})
	a.printDiags(wp, diags)
	if diags.HasErrors() {
		return a.fail(name, fmt.Errorf("the project at %.12s, which still had %s, does not load: see above", r.Revision, strings.Join(r.Forget, ", ")))
	}
	var stacks []*project.Stack
	for _, path := range r.Forget {
		if s := wp.Stack(path); s != nil {
			stacks = append(stacks, s)
		} else {
			a.log.Warn("the ledger's revision of a deleted stack does not have it: skipped", "stack", path, "revision", r.Revision[:12])
		}
	}
	if len(stacks) == 0 {
		return a.fail(name, fmt.Errorf("no stack of %s is in %.12s, the revision the ledger recorded: nothing destroyed there", strings.Join(r.Forget, ", "), r.Revision))
	}
	x, diags := dag.NewIndex(dagStacks(wp, nil))
	a.printDiags(wp, diags)
	if diags.HasErrors() {
		return a.fail(name, errPrinted)
	}
	g := a.buildGraph(wp, x, stacks)
	if g == nil {
		return a.fail(name, errPrinted)
	}
	r.Project, r.Deps = wp, runDeps(g, true)
	if r.Configs, r.Backends, r.Invalid, err = a.checkBackends(engine.Destroy, wp, r.Env, stacks, f); err != nil {
		return a.fail(name, err)
	}
	for _, c := range r.Configs {
		c.RelocateLocal(wt.Root, p.Root)
	}
	a.maskSecrets(r.Configs)
	var ok bool
	if r.RunEnv, ok = a.evalRunEnv(wp, stacks); !ok {
		return a.fail(name, errPrinted)
	}
	// The stacks' variables as that revision declared them.
	if r.Inputs, ok = a.stackInputs(wp, f.backend, r.Env.Name, stacks); !ok {
		return a.fail(name, errPrinted)
	}
	fmt.Fprintf(a.stderr, "%s: destroying %s from %.12s, the last revision that had them\n", name, strings.Join(r.Forget, ", "), r.Revision)
	rep, err := engine.Execute(a.ctx, r)
	return a.renderRun(r, rep, err)
}

// worseExit combines two exit codes: 1 beats 2 beats 0.
func worseExit(a, b int) int {
	switch {
	case a == exitFailure || b == exitFailure:
		return exitFailure
	case a != exitOK:
		return a
	}
	return b
}
