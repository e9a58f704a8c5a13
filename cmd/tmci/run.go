package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// verb is what a run command does in every selected stack.
type verb string

const (
	verbInit    verb = "init"
	verbPlan    verb = "plan"
	verbApply   verb = "apply"
	verbDestroy verb = "destroy"
	verbRun     verb = "run" // any command: tmci run -- CMD
)

// usesTerraform reports whether the verb runs terraform itself.
func (v verb) usesTerraform() bool { return v != verbRun }

// runFlags are the flags of init, plan, apply, destroy and run.
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
}

// defaultLockTimeout is how long terraform waits for a state lock unless
// --lock-timeout says otherwise.
const defaultLockTimeout = time.Minute

func (a *app) addRunFlags(fs *pflag.FlagSet, v verb) *runFlags {
	f := &runFlags{backend: a.addBackendFlags(fs)}
	f.sel = selectionFlags(fs, false)
	f.changed = a.changedFlags(fs)
	_ = fs.MarkHidden("why") // list's explanation; a run reports no reasons
	fs.IntVar(&f.parallel, "parallel", runtime.NumCPU(), "run at most `N` stacks at once")
	fs.BoolVar(&f.failFast, "fail-fast", false, "start no new stack after the first failure")
	if v.usesTerraform() {
		fs.StringVar(&f.tfBin, "tf-bin", "", "terraform or tofu `BINARY` (default $"+tf.BinEnv+", else terraform, else tofu on PATH)")
		// Not terraform's 0s: parallel stacks contend for locks that are
		// not theirs (the pg backend numbers advisory locks per schema,
		// so stacks in one database share lock ids), and a short wait
		// beats a spurious failure.
		fs.DurationVar(&f.lockTimeout, "lock-timeout", defaultLockTimeout, "how long terraform waits for a state lock (`DURATION`; 0s fails at once)")
	}
	if v == verbPlan {
		fs.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when every stack succeeded and some plan has changes")
	}
	fs.StringVar(&f.logMode, "log-mode", "", "console output `MODE`: stream (each line prefixed with its stack), grouped (each stack whole when it ends) or quiet (default stream, grouped in CI)")
	fs.DurationVar(&f.grace, "grace", tf.DefaultGrace, "after an interrupt, how long a command may take to stop (and release its lock) before it is killed")
	fs.StringVar(&f.workDir, "work-dir", "", "`DIR` for data directories, plans, logs and reports (default <root>/.tmci)")
	if v == verbApply || v == verbDestroy {
		fs.BoolVar(&f.yes, "yes", false, "confirm: apply to a protected environment, or destroy")
	}
	if v == verbApply {
		fs.BoolVar(&f.fromPlans, "from-plans", false, "apply each stack's plan saved by tmci plan, when there is one")
	}
	return f
}

func (a *app) cmdInit(args []string) int    { return a.runStacks(verbInit, args) }
func (a *app) cmdPlan(args []string) int    { return a.runStacks(verbPlan, args) }
func (a *app) cmdApply(args []string) int   { return a.runStacks(verbApply, args) }
func (a *app) cmdDestroy(args []string) int { return a.runStacks(verbDestroy, args) }
func (a *app) cmdRun(args []string) int     { return a.runStacks(verbRun, args) }

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

// runEnvironment is the environment a run targets, checked.
type runEnvironment struct {
	// name is the --env value; "" when a project without environments
	// runs without --env.
	name string
	// decl is the matching environment block, or nil.
	decl *project.Environment
}

// dirName is the name of the environment's directory under the work
// directory.
func (e runEnvironment) dirName() string {
	if e.name == "" {
		return "default"
	}
	return e.name
}

// environment checks --env against the project. A project that declares
// environments or backends needs it; one without tmci.hcl runs without.
func (a *app) environment(p *project.Project, name string) (runEnvironment, error) {
	needed := len(p.TMCI.Environments) > 0 || len(p.TMCI.Backends) > 0
	if name == "" {
		if needed {
			return runEnvironment{}, fmt.Errorf("--env is required: name the environment to run in (%s)", knownEnvs(p))
		}
		return runEnvironment{}, nil
	}
	if len(p.TMCI.Environments) == 0 {
		return runEnvironment{name: name}, project.ValidateEnvName(name)
	}
	e, err := p.TMCI.Match(name)
	if err != nil {
		return runEnvironment{}, err
	}
	return runEnvironment{name: name, decl: e}, nil
}

func knownEnvs(p *project.Project) string {
	if len(p.TMCI.Environments) == 0 {
		return "tmci.hcl declares none"
	}
	names := make([]string, len(p.TMCI.Environments))
	for i, e := range p.TMCI.Environments {
		names[i] = e.Name
	}
	return "known: " + strings.Join(names, ", ")
}

// plannedRun is everything a run needs, prepared before any stack starts.
type plannedRun struct {
	verb    verb
	flags   *runFlags
	p       *project.Project
	env     runEnvironment
	lay     layout
	stacks  []*project.Stack // in start priority order
	deps    scheduler.Deps
	configs map[string]*backend.Config // by stack path; absent: no backend
	// backends identifies each stack's state object for the report.
	backends map[string]*ci.BackendReport
	runEnv   map[string][]string // terramate run env, by stack path
	runner   *tf.Runner
	extra    []string // after --
	mode     scheduler.Mode
	ci       *ci.Context
}

// runStacks is tmci init|plan|apply|destroy|run: select and order the
// stacks, check their backends, run the verb in each with the scheduler,
// and report.
func (a *app) runStacks(v verb, args []string) int {
	fs := a.flags(string(v))
	f := a.addRunFlags(fs, v)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	r, code := a.prepareRun(v, f, fs)
	if r == nil {
		return code
	}
	return a.execute(r)
}

// prepareRun validates flags, selects and orders the stacks, runs the
// backend isolation checks and evaluates the run environment. It returns
// nil and the exit code after printing why when tmci must not start.
func (a *app) prepareRun(v verb, f *runFlags, fs *pflag.FlagSet) (*plannedRun, int) {
	fail := func(format string, args ...any) (*plannedRun, int) {
		fmt.Fprintf(a.stderr, "tmci %s: %s\n", v, fmt.Sprintf(format, args...))
		return nil, exitFailure
	}
	extra, err := afterDash(fs)
	if err != nil {
		return fail("%v", err)
	}
	if v == verbRun && len(extra) == 0 {
		return fail("no command to run: tmci run --env=E -- CMD [ARGS...]")
	}
	if err := f.changed.check(); err != nil {
		return fail("%v", err)
	}
	if f.parallel < 1 {
		return fail("--parallel must be at least 1, not %d", f.parallel)
	}
	if f.grace <= 0 {
		return fail("--grace must be positive, not %s", f.grace)
	}
	cictx, err := ci.Detect(a.getenv)
	if err != nil {
		return fail("%v", err)
	}
	mode := scheduler.Stream
	if cictx.InCI() {
		mode = scheduler.Grouped
	}
	if f.logMode != "" {
		if mode, err = scheduler.ParseMode(f.logMode); err != nil {
			return fail("--log-mode: %v", err)
		}
	}

	p, stacks, code := a.loadSelected(f.sel, f.changed)
	if code != exitOK {
		return nil, code
	}
	env, err := a.environment(p, *f.backend.env)
	if err != nil {
		return fail("%v", err)
	}
	if env.decl != nil && env.decl.Protected {
		switch {
		case v == verbDestroy:
			return fail("environment %s is protected (tmci.hcl): destroy is refused; remove protected = true first if you really mean it", env.name)
		case v == verbApply && !f.yes:
			return fail("environment %s is protected (tmci.hcl): pass --yes to apply", env.name)
		}
	}
	if v == verbDestroy && !f.yes {
		return fail("destroy deletes every resource of the selected stacks in %s: pass --yes to confirm", env.dirName())
	}
	if len(p.TMCI.Backends) == 0 && len(*f.backend.backendConfig) > 0 {
		return fail("--backend-config overrides a tmci.hcl backend template, and no tmci.hcl declares a backend block")
	}
	x, stacks, ok := f.sel.grow(a, p, stacks)
	if !ok {
		return nil, exitFailure
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return nil, exitFailure
	}
	r := &plannedRun{verb: v, flags: f, p: p, env: env, extra: extra, mode: mode, ci: cictx}
	r.deps = runDeps(g, v == verbDestroy)
	for _, path := range r.deps.Order {
		r.stacks = append(r.stacks, p.Stack(path))
	}
	r.lay = a.layout(p, f.workDir, env)

	if r.configs, r.backends, ok = a.checkBackends(r); !ok {
		return nil, exitFailure
	}
	a.maskSecrets(r)
	if r.runEnv, ok = a.evalRunEnv(p, r.stacks); !ok {
		return nil, exitFailure
	}
	r.runner = &tf.Runner{Env: os.Environ(), LockTimeout: f.lockTimeout, Grace: f.grace, NoColor: true, Logger: a.log}
	if v.usesTerraform() {
		if r.runner.Bin, err = tf.FindBinary(f.tfBin, a.getenv); err != nil {
			return fail("%v", err)
		}
	}
	return r, exitOK
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

// checkBackends runs the isolation checks of DESIGN.md §2 for the selected
// stacks in the run's environment and returns each stack's backend and the
// state object it identifies (secrets redacted). ok is false after
// printing the problems.
func (a *app) checkBackends(r *plannedRun) (map[string]*backend.Config, map[string]*ci.BackendReport, bool) {
	configs := map[string]*backend.Config{}
	ids := map[string]*ci.BackendReport{}
	if len(r.p.TMCI.Backends) == 0 || len(r.stacks) == 0 {
		return configs, ids, true
	}
	res := a.resolver(r.p, r.flags.backend)
	if res == nil {
		return nil, nil, false
	}
	rep, err := res.Check(a.ctx, backend.CheckOptions{Envs: []string{r.env.name}, Stacks: r.stacks, Parallel: r.flags.parallel})
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci %s: %v\n", r.verb, err)
		return nil, nil, false
	}
	a.printDiags(r.p, rep.Diags)
	if n := errorCount(rep.Diags); n > 0 {
		fmt.Fprintf(a.stderr, "tmci %s: refusing to run: %d %s in the backend configuration (see above; 'tmci check --env=%s' repeats them)\n",
			r.verb, n, plural(n, "error", "errors"), r.env.name)
		return nil, nil, false
	}
	for _, c := range rep.Configs(r.env.name) {
		configs[c.Stack.Path] = c
		code, _ := res.StackCode(c.Stack) // Check reported its problems
		id := c.Identity(code.Attrs)
		b := &ci.BackendReport{Type: id.Type, Identity: map[string]string{}}
		for _, part := range id.Parts {
			b.Identity[part.Name] = part.Value
			if part.Sensitive {
				b.Identity[part.Name] = backend.Redacted
			}
		}
		ids[c.Stack.Path] = b
	}
	return configs, ids, true
}

// layout names the files of one environment under the work directory:
//
//	<dir>/<stack path>/.terraform        TF_DATA_DIR, private
//	<dir>/<stack path>/.tmci.tfbackend   the backend file, 0600
//	<dir>/plans/<stack path>.tfplan
//	<dir>/logs/<stack path>.log
//	<dir>/report.json
//	<dir>/.lock                          held by the run (lockWorkDir)
//
// The data directory and backend file sit one level below the stack's
// directory under names starting with a dot, which no stack directory can
// have, so a stack's data never mixes with a nested stack's (terraform
// writes modules/ and providers/ into its data directory).
type layout struct{ dir string }

// layout returns the layout of env under the --work-dir value work
// (relative to the working directory; default <root>/.tmci).
func (a *app) layout(p *project.Project, work string, env runEnvironment) layout {
	if work == "" {
		work = filepath.Join(p.Root, ".tmci")
	} else if !filepath.IsAbs(work) {
		work = filepath.Join(a.wd, work)
	}
	return layout{dir: filepath.Join(work, env.dirName())}
}

// stackName is a stack's path as a relative file name; the root stack
// is ".root".
func stackName(path string) string {
	if path == "/" {
		return ".root"
	}
	return filepath.FromSlash(strings.TrimPrefix(path, "/"))
}

func (l layout) stackDir(path string) string {
	if path == "/" {
		return l.dir
	}
	return filepath.Join(l.dir, stackName(path))
}
func (l layout) dataDir(path string) string { return filepath.Join(l.stackDir(path), ".terraform") }
func (l layout) backendFile(path string) string {
	return filepath.Join(l.stackDir(path), ".tmci.tfbackend")
}
func (l layout) planFile(path string) string {
	return filepath.Join(l.dir, "plans", stackName(path)+".tfplan")
}
func (l layout) logFile(path string) string {
	return filepath.Join(l.dir, "logs", stackName(path)+".log")
}
func (l layout) report() string { return filepath.Join(l.dir, "report.json") }

// stackEnv returns the tf.Stack of s for the run: its directories, its
// backend file (written now, 0600) and its environment variables.
func (r *plannedRun) stackEnv(s *project.Stack, out io.Writer) (tf.Stack, error) {
	st := tf.Stack{
		Dir:     r.p.FSPath(s.Path),
		DataDir: r.lay.dataDir(s.Path),
		Out:     out,
	}
	st.Env = append(st.Env, r.runEnv[s.Path]...)
	st.Env = append(st.Env, "TMCI_ENV="+r.env.name, "TMCI_STACK_PATH="+s.Path, "TMCI_STACK_ID="+s.ID)
	backendFile := ""
	if c := r.configs[s.Path]; c != nil {
		backendFile = r.lay.backendFile(s.Path)
		header := fmt.Sprintf("Written by tmci for stack %s in environment %s.", s.Path, r.env.name)
		if err := tf.WriteBackendFile(backendFile, c.TFBackend(header, true)); err != nil {
			return tf.Stack{}, err
		}
		st.BackendFile = backendFile
		if r.verb == verbRun {
			initArgs, err := tf.InitArgsEnv(backendFile)
			if err != nil {
				return tf.Stack{}, err
			}
			st.Env = append(st.Env, initArgs)
		}
	}
	st.Env = append(st.Env, "TMCI_BACKEND_FILE="+backendFile)
	return st, nil
}

// stackTask runs the verb in one stack. The value is the stack's plan
// outcome, or nil for init and run.
func (r *plannedRun) stackTask(ctx context.Context, path string, out io.Writer) (*ci.PlanReport, error) {
	s := r.p.Stack(path)
	st, err := r.stackEnv(s, out)
	if err != nil {
		return nil, err
	}
	if r.verb == verbRun {
		return nil, r.runner.Exec(ctx, st, r.extra)
	}
	var initExtra []string
	if r.verb == verbInit {
		initExtra = r.extra
	}
	out = st.Out
	err = tf.RetryStateCreation(ctx, out, func(w io.Writer) error {
		st.Out = w
		return r.runner.Init(ctx, st, initExtra...)
	})
	st.Out = out
	if err != nil {
		return nil, err
	}
	switch r.verb {
	case verbPlan, verbDrift:
		return r.plan(ctx, st, path)
	case verbApply:
		return r.apply(ctx, st, path)
	case verbDestroy:
		counts := &applyCounts{w: out}
		start := time.Now()
		err := tf.RetryStateCreation(ctx, counts, func(w io.Writer) error {
			st.Out = w
			return r.runner.Destroy(ctx, st, r.extra...)
		})
		err = r.withErroredState(err, st.Dir, start)
		counts.flush()
		return counts.report(), err
	}
	return nil, nil
}

// maxPlanOutput bounds the plan output kept for counting; a longer one
// is counted by show -json.
const maxPlanOutput = 8 << 20

// plan runs plan -detailed-exitcode -out and counts the changes without
// a third terraform process where it can: a plan without changes counts
// zero everywhere, and one with changes is counted from its output
// (tf.SummaryFromOutput), falling back to show -json when the output
// holds anything that reader does not fully understand, such as drift.
func (r *plannedRun) plan(ctx context.Context, st tf.Stack, path string) (*ci.PlanReport, error) {
	file := r.lay.planFile(path)
	var captured *boundedBuffer
	var text *ci.PlanText
	var changes bool
	out := st.Out
	err := tf.RetryStateCreation(ctx, out, func(w io.Writer) error {
		captured, text = &boundedBuffer{max: maxPlanOutput}, &ci.PlanText{}
		st.Out = io.MultiWriter(w, captured, text)
		var err error
		changes, err = r.runner.Plan(ctx, st, file, r.extra...)
		return err
	})
	st.Out = out
	if err != nil {
		return nil, err
	}
	rep := &ci.PlanReport{File: r.rel(file), Changes: changes, Excerpt: text.Excerpt()}
	if r.verb == verbDrift {
		// Drift may show in resource_drift without a change to make, and
		// only show -json lists it.
		if rep.Summary, err = r.runner.Show(ctx, st, file); err != nil {
			return nil, err
		}
		return rep, nil
	}
	if !changes {
		return rep, nil
	}
	if sum, ok := captured.summary(); ok {
		rep.Summary = sum
		return rep, nil
	}
	if rep.Summary, err = r.runner.Show(ctx, st, file); err != nil {
		return nil, err
	}
	return rep, nil
}

// boundedBuffer keeps up to max bytes of a command's output; it is safe
// for the two goroutines copying stdout and stderr.
type boundedBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
	} else if !b.overflow {
		b.buf.Write(p)
	}
	return len(p), nil
}

// summary counts the plan from the kept output; ok is false when the
// output was cut or is not understood.
func (b *boundedBuffer) summary() (tf.Summary, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overflow {
		return tf.Summary{}, false
	}
	return tf.SummaryFromOutput(b.buf.Bytes())
}

// apply applies the saved plan with --from-plans when there is one, else
// plans and applies at once. A saved plan is removed once applied: it is
// stale from then on, and terraform would refuse it.
func (r *plannedRun) apply(ctx context.Context, st tf.Stack, path string) (*ci.PlanReport, error) {
	counts := &applyCounts{w: st.Out}
	file := ""
	if r.flags.fromPlans {
		if _, err := os.Stat(r.lay.planFile(path)); err == nil {
			file = r.lay.planFile(path)
		}
	}
	start := time.Now()
	err := tf.RetryStateCreation(ctx, counts, func(w io.Writer) error {
		st.Out = w
		return r.runner.Apply(ctx, st, file, r.extra...)
	})
	err = r.withErroredState(err, st.Dir, start)
	counts.flush()
	rep := counts.report()
	if file != "" {
		if rep == nil {
			rep = &ci.PlanReport{}
		}
		rep.File = r.rel(file)
		if err == nil {
			if rmErr := os.Remove(file); rmErr != nil {
				return rep, fmt.Errorf("remove the applied plan: %w", rmErr)
			}
		}
	}
	return rep, err
}

// rel returns path relative to the project root, for reports.
func (r *plannedRun) rel(path string) string {
	if rel, err := filepath.Rel(r.p.Root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// execute runs the planned run with the scheduler and reports.
func (a *app) execute(r *plannedRun) int {
	console := scheduler.NewConsole(a.stdout, r.mode)
	framer := ci.Framer{Provider: r.ci.Provider}
	console.Frame = func(node string, st scheduler.Status) (string, string) {
		return framer.Frame(node, st.String(), st != scheduler.Succeeded)
	}
	logs := scheduler.LogFiles(func(node string) string { return r.lay.logFile(node) })
	wait := r.flags.lockTimeout
	if !r.verb.usesTerraform() {
		wait = defaultLockTimeout // tmci run has no --lock-timeout
	}
	release, err := lockWorkDir(a.ctx, r.lay.dir, "tmci "+string(r.verb), wait, a.stderr)
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci %s: %v\n", r.verb, err)
		return exitFailure
	}
	defer release()
	start := time.Now()
	results, err := scheduler.Run(a.ctx, r.deps, scheduler.Options{
		Parallel:  r.flags.parallel,
		FailFast:  r.flags.failFast,
		Logs:      logs,
		Console:   console,
		Heartbeat: time.Minute,
		OnHeartbeat: func(now time.Time, running []scheduler.Running) {
			console.Print(heartbeatLine(now, running))
		},
	}, r.stackTask)
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci %s: %v\n", r.verb, err)
		return exitFailure
	}
	rep := r.report(results, start, a.ctx.Err() != nil)
	a.printSummary(r, rep)
	a.printDrift(r, rep)
	a.explainFailures(r, rep)
	if err := writeReports(rep, r.lay.dir, a.getenv); err != nil {
		// The console is then all there is: say why stacks failed.
		for _, s := range rep.Stacks {
			if s.Status == ci.StatusFailed {
				fmt.Fprintf(a.stderr, "tmci %s: %s failed: %s\n", r.verb, s.Path, s.Error)
			}
		}
		fmt.Fprintf(a.stderr, "tmci %s: no report: %v\n", r.verb, err)
		return exitFailure
	}
	// Named only once written: a full disk leaves none.
	fmt.Fprintf(a.stderr, "tmci %s: report %s\n", r.verb, a.displayPath(r.lay.report()))
	return rep.ExitCode
}

// writeReports writes every report of a run into dir (<work>/<env>).
// It is the one place where report files are added.
func writeReports(rep *ci.Report, dir string, getenv func(string) string) error {
	files, err := rep.WriteAll(dir)
	if err != nil {
		return err
	}
	return ci.Publish(getenv, rep, files)
}

// exitCodeOf is the exit code of a run: 1 when a stack did not succeed,
// else 2 when plans have changes and detailed is set, else 0.
func exitCodeOf(rep *ci.Report, detailed bool) int {
	t := rep.Totals
	switch {
	case t.Succeeded < t.Stacks:
		return exitFailure
	case rep.Command == string(verbDrift) && driftedStacks(rep) > 0:
		return exitChanges
	case detailed && t.WithChanges > 0:
		return exitChanges
	}
	return exitOK
}

// notStartedText says why a stack did not start: fail-fast after a
// failure, or an interrupt (the context's cause).
func notStartedText(err error) string {
	switch {
	case errors.Is(err, scheduler.ErrFailFast):
		return "not started: another stack failed and --fail-fast is set"
	case err == nil, errors.Is(err, context.Canceled):
		return "not started: tmci was interrupted"
	}
	return "not started: " + err.Error()
}
