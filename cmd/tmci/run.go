package main

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// runFlags are the flags of init, plan, apply, destroy, drift and run.
type runFlags struct {
	backend          backendFlags
	sel              *selection
	changed          *changedFlags
	parallel         int
	failFast         bool
	tfBin            string
	lockTimeout      time.Duration
	detailedExitcode bool
	logMode          string
	grace            time.Duration
	workDir          string
	yes              bool
	fromPlans        bool
	deleted          bool
	mockOnFail       bool
	// ask is set by prepareRun when apply or destroy runs in a terminal
	// without --yes: the user confirms after seeing what will change.
	ask bool
}

func (a *app) addRunFlags(fs *pflag.FlagSet, v engine.Verb) *runFlags {
	f := &runFlags{backend: a.addBackendFlags(fs)}
	f.sel = selectionFlags(fs, false)
	f.changed = a.changedFlags(fs)
	_ = fs.MarkHidden("why") // list's explanation; a run reports no reasons
	fs.IntVar(&f.parallel, "parallel", runtime.NumCPU(), "run at most `N` stacks at once")
	fs.BoolVar(&f.failFast, "fail-fast", false, "start no new stack after the first failure")
	if v.UsesTerraform() {
		fs.StringVar(&f.tfBin, "tf-bin", "", "terraform or tofu `BINARY` (default $"+tf.BinEnv+", else terraform, else tofu on PATH)")
		// Not terraform's 0s: parallel stacks contend for locks that are
		// not theirs (the pg backend numbers advisory locks per schema,
		// so stacks in one database share lock ids), and a short wait
		// beats a spurious failure.
		fs.DurationVar(&f.lockTimeout, "lock-timeout", engine.DefaultLockTimeout, "how long terraform waits for a state lock (`DURATION`; 0s fails at once)")
	}
	if v == engine.Plan {
		fs.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when every stack succeeded and some plan has changes")
	}
	fs.StringVar(&f.logMode, "log-mode", "", "console output `MODE`: stream (each line prefixed with its stack), grouped (each stack whole when it ends) or quiet (default stream, grouped in CI)")
	fs.DurationVar(&f.grace, "grace", tf.DefaultGrace, "after an interrupt, how long a command may take to stop (and release its lock) before it is killed")
	fs.StringVar(&f.workDir, "work-dir", "", "`DIR` for data directories, plans, logs and reports (default <root>/.tmci)")
	if v == engine.Apply || v == engine.Destroy || v == engine.Exec {
		fs.BoolVar(&f.yes, "yes", false, "confirm: apply or run a command in a protected environment, or destroy")
	}
	if v == engine.Destroy {
		fs.BoolVar(&f.deleted, "deleted", false, "destroy the stacks deleted from the code whose resources the ledger records, each from the last revision that had it")
	}
	if v == engine.Exec {
		fs.BoolVar(&f.mockOnFail, "mock-on-fail", false, mockOnFailUsage)
	}
	if v == engine.Apply {
		fs.BoolVar(&f.fromPlans, "from-plans", false, "apply each stack's plan saved by tmci plan, when there is one")
	}
	return f
}

func (a *app) cmdInit(args []string) int    { return a.runStacks(engine.Init, args) }
func (a *app) cmdPlan(args []string) int    { return a.runStacks(engine.Plan, args) }
func (a *app) cmdApply(args []string) int   { return a.runStacks(engine.Apply, args) }
func (a *app) cmdDestroy(args []string) int { return a.runStacks(engine.Destroy, args) }
func (a *app) cmdRun(args []string) int     { return a.runStacks(engine.Exec, args) }

// cmdDrift is tmci drift: a plan run (refresh on, as plan does by default)
// whose report is read as drift. It exits 2 when a stack drifted and
// writes drift.md, an issue body, next to the other reports.
func (a *app) cmdDrift(args []string) int { return a.runStacks(engine.Drift, args) }

// afterDash returns the arguments after "--" and fails on any positional
// argument before it.
func afterDash(fs *pflag.FlagSet) ([]string, error) {
	dash := fs.ArgsLenAtDash()
	switch {
	case dash < 0 && fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q: put arguments for the command after --", fs.Arg(0))
	case dash > 0:
		return nil, fmt.Errorf("unexpected argument %q before --", fs.Arg(0))
	case dash < 0:
		return nil, nil
	}
	return fs.Args(), nil
}

// runStacks is tmci init|plan|apply|destroy|drift|run: turn the flags
// into a run description, execute it with the engine and render the
// report.
func (a *app) runStacks(v engine.Verb, args []string) int {
	fs := a.flags(string(v))
	f := a.addRunFlags(fs, v)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if f.deleted {
		return a.destroyDeleted(f, fs)
	}
	r, err := a.prepareRun(v, f, fs)
	if err != nil {
		return a.fail("tmci "+string(v), err)
	}
	if f.ask {
		if code, ok := a.confirmRun(r); !ok {
			return code
		}
	}
	rep, err := engine.Execute(a.ctx, r)
	return a.renderRun(r, rep, err)
}

// runOptions checks the flags that need no project and returns the
// arguments after -- and the console mode.
func (a *app) runOptions(v engine.Verb, f *runFlags, fs *pflag.FlagSet) (extra []string, mode scheduler.Mode, cictx *ci.Context, err error) {
	if extra, err = a.runArgs(v, fs); err != nil {
		return nil, 0, nil, err
	}
	if err := f.check(); err != nil {
		return nil, 0, nil, err
	}
	if cictx, err = ci.Detect(a.getenv); err != nil {
		return nil, 0, nil, err
	}
	mode = scheduler.Stream
	if cictx.InCI() {
		mode = scheduler.Grouped
	}
	if f.logMode != "" {
		if mode, err = scheduler.ParseMode(f.logMode); err != nil {
			return nil, 0, nil, fmt.Errorf("--log-mode: %w", err)
		}
	}
	return extra, mode, cictx, nil
}

// runArgs returns the arguments after --, checked for the verb, and
// checks the TF_CLI_ARGS variables terraform would add to them.
func (a *app) runArgs(v engine.Verb, fs *pflag.FlagSet) ([]string, error) {
	extra, err := afterDash(fs)
	if err != nil {
		return nil, err
	}
	if v == engine.Exec && len(extra) == 0 {
		return nil, errors.New("no command to run: tmci run --env=E -- CMD [ARGS...]")
	}
	if err := engine.CheckExtra(v, extra); err != nil {
		return nil, err
	}
	if v.UsesTerraform() {
		for _, kv := range a.environ() {
			if k, val, ok := strings.Cut(kv, "="); ok {
				if err := engine.CheckCLIArgsEnv(k, val); err != nil {
					return nil, err
				}
			}
		}
	}
	return extra, nil
}

// check checks the values of the run flags that need no project.
func (f *runFlags) check() error {
	if err := f.changed.check(); err != nil {
		return err
	}
	switch {
	case f.parallel < 1:
		return fmt.Errorf("--parallel must be at least 1, not %d", f.parallel)
	case f.lockTimeout < 0:
		return fmt.Errorf("--lock-timeout must not be negative, not %s", f.lockTimeout)
	case f.grace <= 0:
		return fmt.Errorf("--grace must be positive, not %s", f.grace)
	}
	return nil
}

// confirmEnv refuses what the environment does not allow the verb
// without --yes, or at all. ask means the user will be asked (a
// terminal): it stands in for --yes except in a protected environment.
func confirmEnv(v engine.Verb, env engine.Environment, yes, ask bool) error {
	if env.Decl != nil && env.Decl.Protected {
		switch {
		case v == engine.Destroy:
			return fmt.Errorf("environment %s is protected (tmci.hcl): destroy is refused; remove protected = true first if you really mean it", env.Name)
		case v == engine.Apply && !yes:
			return fmt.Errorf("environment %s is protected (tmci.hcl): pass --yes to apply", env.Name)
		case v == engine.Exec && !yes:
			return fmt.Errorf("environment %s is protected (tmci.hcl): a command may change it, so pass --yes to run one", env.Name)
		}
	}
	if v == engine.Destroy && !yes && !ask {
		return fmt.Errorf("destroy deletes every resource of the selected stacks in %s: pass --yes to confirm", env.DirName())
	}
	return nil
}

// prepareRun turns the flags into a validated run description: it
// selects and orders the stacks, runs the backend isolation checks and
// evaluates the run environment. An error says why tmci must not start;
// errPrinted when the problems are already on stderr.
func (a *app) prepareRun(v engine.Verb, f *runFlags, fs *pflag.FlagSet) (*engine.Run, error) {
	extra, mode, cictx, err := a.runOptions(v, f, fs)
	if err != nil {
		return nil, err
	}
	p, stacks, err := a.loadSelected(f.sel, f.changed)
	if err != nil {
		return nil, err
	}
	env, err := engine.CheckEnvironment(p, *f.backend.env)
	if err != nil {
		return nil, err
	}
	f.ask = (v == engine.Apply || v == engine.Destroy) && !f.yes && !cictx.InCI() && a.interactive()
	if err := confirmEnv(v, env, f.yes, f.ask); err != nil {
		return nil, err
	}
	runner, err := a.runRunner(v, f, p)
	if err != nil {
		return nil, err
	}
	lg, err := a.runLedger(v, f, p, env, runner)
	if err != nil {
		return nil, err
	}
	g, err := a.orderRun(v, f, p, cictx, lg, stacks)
	if err != nil {
		return nil, err
	}
	r := a.newRun(v, f, p, env, g, extra)
	r.Console = a.console(mode, cictx)
	r.Deleted = a.deletedStacks(f.changed, p, lg.entries)
	if lg.store != nil {
		r.Deployed = func(path string) bool { return lg.entries[path].Verb == ledger.Applied }
	}
	r.Runner = runner
	r.Ledger, r.Revision = lg.store, lg.revision
	if err := a.addStackSettings(r, f, p); err != nil {
		return nil, err
	}
	return r, nil
}

// orderRun grows the selected stacks as every command does, after apply
// --changed narrowed them by the ledger, and orders them.
func (a *app) orderRun(v engine.Verb, f *runFlags, p *project.Project, cictx *ci.Context, lg runLedgerState, stacks []*project.Stack) (*dag.Graph, error) {
	var err error
	if v == engine.Apply && lg.store != nil && f.changed.changed {
		if stacks, err = a.ledgerChanged(f.changed, p, cictx, lg.entries, stacks); err != nil {
			return nil, err
		}
	}
	if len(p.TMCI.Backends) == 0 && len(*f.backend.backendConfig) > 0 {
		return nil, errNoBackendBlock
	}
	x, stacks, err := f.sel.grow(a, p, stacks)
	if err != nil {
		return nil, err
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return nil, errPrinted
	}
	return g, nil
}

// runRunner is the terraform runner of a run: the binary found and
// checked against the backend attributes it must know.
func (a *app) runRunner(v engine.Verb, f *runFlags, p *project.Project) (*tf.Runner, error) {
	runner := &tf.Runner{Env: a.environ(), LockTimeout: f.lockTimeout, Grace: f.grace, NoColor: true, Logger: a.log}
	if !v.UsesTerraform() {
		return runner, nil
	}
	var err error
	if runner.Bin, err = tf.FindBinary(f.tfBin, a.getenv); err != nil {
		return nil, err
	}
	return runner, a.checkTool(p, runner.Bin)
}

// runLedgerState is the ledger a run records into and what it holds.
type runLedgerState struct {
	store    *ledger.Store
	entries  ledger.Entries
	revision string
}

// runLedger opens and reads the environment's ledger for the verbs that
// record or consult it. Outside git there is no revision to record, and
// no ledger is opened (its init alone would create an empty state
// object).
func (a *app) runLedger(v engine.Verb, f *runFlags, p *project.Project, env engine.Environment, runner *tf.Runner) (runLedgerState, error) {
	var lg runLedgerState
	if v == engine.Apply || v == engine.Destroy || v == engine.Drift {
		lg.revision = a.headRevision(p)
	}
	if lg.revision == "" {
		return lg, nil
	}
	var err error
	if lg.store, err = a.openLedger(p, env, f.backend, runner, engine.NewLayout(p, a.wd, f.workDir, env)); err != nil || lg.store == nil {
		return lg, err
	}
	lg.entries, err = lg.store.Read(a.ctx)
	return lg, err
}

// addStackSettings adds to r what each selected stack runs with: its
// backend (isolation checked), the outputs it shares in, its run
// environment and its inputs. Secrets among them are masked from here
// on.
func (a *app) addStackSettings(r *engine.Run, f *runFlags, p *project.Project) error {
	selected := make([]*project.Stack, len(r.Deps.Order))
	for i, path := range r.Deps.Order {
		selected[i] = p.Stack(path)
	}
	pl, _ := a.sharingOf(p) // grow resolved it
	var err error
	if r.Configs, r.Backends, r.Invalid, err = a.checkBackends(r.Verb, p, r.Env, withSources(p, pl, selected), f); err != nil {
		return err
	}
	if pl != nil && len(pl.Sources(r.Deps.Order)) > 0 {
		r.Sharing = pl
		var mu sync.Mutex // stacks find secrets concurrently
		r.OnSecrets = func(values []string) {
			mu.Lock()
			defer mu.Unlock()
			a.maskValues(values)
		}
		if r.Runner.Bin == "" { // tmci run reads the sources' outputs with terraform or tofu
			if r.Runner.Bin, err = tf.FindBinary("", a.getenv); err != nil {
				return err
			}
		}
	}
	a.maskSecrets(r.Configs)
	var ok bool
	// The sources' run.env too: reading their outputs may need it.
	if r.RunEnv, ok = a.evalRunEnv(p, withSources(p, r.Sharing, selected)); !ok {
		return errPrinted
	}
	if r.Inputs, ok = a.stackInputs(p, f.backend, r.Env.Name, selected); !ok {
		return errPrinted
	}
	return nil
}

// newRun is the run description of the flags, before the backends and
// run environment are added.
func (a *app) newRun(v engine.Verb, f *runFlags, p *project.Project, env engine.Environment, g *dag.Graph, extra []string) *engine.Run {
	r := &engine.Run{
		Verb: v, Project: p, Env: env, Extra: extra,
		Deps:             runDeps(g, v == engine.Destroy),
		Layout:           engine.NewLayout(p, a.wd, f.workDir, env),
		Parallel:         f.parallel,
		FailFast:         f.failFast,
		DetailedExitcode: f.detailedExitcode,
		FromPlans:        f.fromPlans,
		MockOnFail:       f.mockOnFail,
		LockWait:         f.lockTimeout,
		Version:          tmciVersion(),
		Note:             a.stderr,
		Getenv:           a.getenv,
		Secrets:          a.secrets,
	}
	if !v.UsesTerraform() {
		r.LockWait = engine.DefaultLockTimeout // tmci run has no --lock-timeout
	}
	if d := f.changed.diff; d != nil {
		r.Base = d.Base.Commit
	}
	return r
}

// errNoBackendBlock refuses --backend-config without a template to
// override.
var errNoBackendBlock = errors.New("--backend-config overrides a tmci.hcl backend template, and no tmci.hcl declares a backend block")

// console is the scheduler's console for mode, framing each stack's
// output for the CI provider.
func (a *app) console(mode scheduler.Mode, cictx *ci.Context) *scheduler.Console {
	console := scheduler.NewConsole(a.stdout, mode)
	console.Prefix = func(node string) string { return "[" + printable.String(node) + "] " }
	framer := ci.Framer{Provider: cictx.Provider}
	console.Span = func(node string, st scheduler.Status, start, end time.Time) (string, string) {
		return framer.FrameSpan(node, st.String(), st != scheduler.Succeeded, start, end)
	}
	return console
}

// runDeps turns the ordering graph into the scheduler's: run order and
// predecessors, or, for destroy, the reverse order with every edge
// turned around so that dependents go first.
func runDeps(g *dag.Graph, reverse bool) scheduler.Deps {
	d := scheduler.Deps{Order: g.Order(), After: map[string][]string{}}
	if reverse {
		d.Order = g.Reverse()
	}
	for _, path := range d.Order {
		if reverse {
			d.After[path] = g.Successors(path)
		} else {
			d.After[path] = g.Predecessors(path)
		}
	}
	return d
}

// checkBackends runs the isolation checks (docs/architecture.md) for the
// selected stacks in the run's environment and returns each stack's
// backend, the state object it identifies (secrets redacted) and the
// problems of the stacks whose own Terraform code is invalid, which the
// run fails alone (backend.Report.StackDiags). The run-wide problems are
// printed; the error is errPrinted or a system failure.
func (a *app) checkBackends(v engine.Verb, p *project.Project, env engine.Environment, stacks []*project.Stack, f *runFlags) (map[string]*backend.Config, map[string]*report.BackendReport, map[string][]report.Diagnostic, error) {
	if len(p.TMCI.Backends) == 0 || len(stacks) == 0 {
		return map[string]*backend.Config{}, map[string]*report.BackendReport{}, nil, nil
	}
	res := a.resolver(p, f.backend)
	if res == nil {
		return nil, nil, nil, errPrinted
	}
	rep, err := res.Check(a.ctx, backend.CheckOptions{Envs: []string{env.Name}, Stacks: stacks, Parallel: f.parallel})
	if err != nil {
		return nil, nil, nil, err
	}
	a.printDiags(p, rep.RunDiags)
	if n := errorCount(rep.RunDiags); n > 0 {
		return nil, nil, nil, fmt.Errorf("refusing to run: %d %s in the backend configuration (see above; 'tmci check --env=%s' repeats them)",
			n, plural(n, "error", "errors"), env.Name)
	}
	configs, ids := engine.Backends(res, rep, env.Name)
	return configs, ids, engine.InvalidStacks(rep), nil
}
