// Package engine runs one verb (init, plan, apply, destroy, drift or any
// command) in a set of stacks and returns what happened as a report.Report.
//
// It takes a validated run description (Run): the stacks in order, their
// backends and run environments, the terraform runner and the work
// directory. Building that description from flags, and rendering the
// report, is the caller's job (cmd/tmci); the engine prints nothing
// except the per-stack output the scheduler's console shows and, while
// it waits for the work directory's lock, one note. docs/architecture.md
// places it among the other packages.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/atomicfile"
	"github.com/tmci/tmci/internal/redact"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/sharing"
	"github.com/tmci/tmci/statestore"
	"github.com/tmci/tmci/tf"
)

// Verb is what a run does in every selected stack.
type Verb string

// The verbs of tmci init, plan, apply, destroy, run and drift.
const (
	Init    Verb = "init"
	Plan    Verb = "plan"
	Apply   Verb = "apply"
	Destroy Verb = "destroy"
	Exec    Verb = "run" // any command: tmci run -- CMD
	// Drift plans every selected stack with refresh and reports the
	// stacks whose infrastructure no longer matches their code.
	Drift Verb = "drift"
)

// UsesTerraform reports whether the verb runs terraform itself.
func (v Verb) UsesTerraform() bool { return v != Exec }

// Exit codes of a run, as docs/architecture.md lists them: 1 beats 2
// beats 0.
const (
	ExitOK      = 0
	ExitFailure = 1 // a stack failed, or a config or usage error
	ExitChanges = 2 // success with changes or drift
)

// DefaultLockTimeout is how long terraform waits for a state lock, and a
// run for the work directory's lock, unless told otherwise.
const DefaultLockTimeout = time.Minute

// Run describes one run, validated: every field is set by the caller
// before Execute and read-only afterwards.
type Run struct {
	Verb    Verb
	Project *project.Project
	Env     Environment
	Layout  Layout
	// Deps is the run order (start priority) and each stack's
	// predecessors among the selected stacks.
	Deps scheduler.Deps
	// Configs is each stack's backend by stack path; a stack without
	// one is absent.
	Configs map[string]*backend.Config
	// Backends identifies each stack's state object for the report,
	// secrets redacted (see BackendReports).
	Backends map[string]*report.BackendReport
	// Invalid holds, by stack path, the problems of the stacks whose own
	// configuration is invalid (InvalidStacks): each fails with them
	// without running anything, and its dependents are skipped.
	Invalid map[string][]report.Diagnostic
	// RunEnv is each stack's terramate.config.run.env, "NAME=value".
	RunEnv map[string][]string
	// Inputs is each stack's tmci.hcl inputs, "TF_VAR_name=value"; they
	// come after RunEnv, so an input wins over a run.env TF_VAR_.
	Inputs map[string][]string
	// Sharing is the project's outputs sharing (Terramate's input
	// blocks), nil without any: before a stack runs, the inputs it
	// declares are read from their sources' outputs in the environment
	// (sharedVars). Configs then holds the sources' backends too.
	Sharing *sharing.Plan
	// Runner runs terraform; its Bin is empty for Exec.
	Runner *tf.Runner
	// Extra are the arguments after --: the command of Exec, extra
	// terraform arguments otherwise.
	Extra []string

	Parallel         int
	FailFast         bool
	DetailedExitcode bool
	// FromPlans applies each stack's plan saved by a plan run, when
	// there is one.
	FromPlans bool
	// MockOnFail lets tmci run and exec pass an input's mock (plan and
	// drift always may; apply and destroy never do).
	MockOnFail bool
	// LockWait is how long to wait for another run's work-directory lock.
	LockWait time.Duration
	// Base is the change base commit when the stacks were selected by
	// change, for the report.
	Base string
	// Version is tmci's version, for the report.
	Version string
	// Ledger, when set, receives for apply and destroy the succeeded
	// stacks at Revision (see recordLedger); Revision is HEAD's full
	// commit hash.
	Ledger   *ledger.Store
	Revision string
	// Deployed says, for a drift run, whether a stack was ever applied in
	// the environment (from the ledger); nil means unknown. See
	// report.ClassifyDrift.
	Deployed func(path string) bool
	// Deleted lists the stacks gone from the code, for the report; with
	// DetailedExitcode a plan exits 2 when there is one.
	Deleted []report.DeletedStack
	// Forget lists stacks the ledger forgets once they succeeded
	// (destroy --deleted), rather than recording them.
	Forget []string

	// Console shows the stacks' output; Note receives the one line said
	// while waiting for the work directory's lock. Getenv is read for
	// the CI report destinations (GITHUB_STEP_SUMMARY).
	Console *scheduler.Console
	Note    io.Writer
	Getenv  func(string) string
	// Secrets are masked in every log and report the run writes; the
	// caller masks the console and Note itself.
	Secrets *redact.Set
	// OnSecrets, when set, receives the secrets found while the run
	// runs (sensitive outputs and the inputs made from them), after
	// they joined Secrets; the caller may mask them in its CI.
	OnSecrets func([]string)

	shared *sharedState
}

// Execute takes the work directory's lock, runs the verb in every stack
// with the scheduler, and writes the reports under the layout's
// directory. It returns the report and nil; or nil and why the run could
// not start; or the report and why its files could not be written (the
// report is then only in memory, and the caller must show it).
// Cancelling ctx interrupts the run: running stacks get one SIGINT, and
// the report says so.
func Execute(ctx context.Context, r *Run) (*report.Report, error) {
	if err := r.claimWorkDir(ctx); err != nil {
		return nil, err
	}
	release, err := lockWorkDir(ctx, r.Layout.Dir, "tmci "+string(r.Verb), r.LockWait, r.Note, false)
	if err != nil {
		return nil, err
	}
	defer release()
	r.shared = newSharedState()
	start := time.Now()
	results, err := scheduler.Run(ctx, r.schedule(), scheduler.Options{
		Parallel:  r.Parallel,
		FailFast:  r.FailFast,
		Logs:      redactedLogs{r.Secrets, scheduler.LogFiles(r.Layout.LogFile)},
		Console:   r.Console,
		Heartbeat: time.Minute,
		OnHeartbeat: func(now time.Time, running []scheduler.Running) {
			r.Console.Print(heartbeatLine(now, running))
		},
	}, r.stackTask)
	if err != nil {
		return nil, err
	}
	rep := r.report(results, start, ctx.Err() != nil)
	r.addLogTails(rep)
	r.recordLedger(ctx, rep)
	r.Secrets.Value(rep)
	return rep, writeReports(rep, r.Layout.Dir, r.Getenv)
}

// redactedLogs masks the run's secrets in every stack's log.
type redactedLogs struct {
	secrets *redact.Set
	sink    scheduler.LogSink
}

func (l redactedLogs) Open(node string) (io.WriteCloser, error) {
	w, err := l.sink.Open(node)
	if err != nil {
		return nil, err
	}
	return redact.NewWriter(l.secrets, w), nil
}

// LockShared takes the work directory's lock shared, for tmci exec (see
// lockWorkDir); release ends it.
func (r *Run) LockShared(ctx context.Context) (release func(), err error) {
	if err := r.claimWorkDir(ctx); err != nil {
		return nil, err
	}
	return lockWorkDir(ctx, r.Layout.Dir, "tmci exec", r.LockWait, r.Note, true)
}

func (r *Run) claimWorkDir(ctx context.Context) error {
	return ClaimWorkDir(ctx, r.Project.Root, filepath.Dir(r.Layout.Dir), r.Layout.Dir)
}

// writeReports writes every report of a run into dir (<work>/<env>).
// It is the one place where report files are added.
func writeReports(rep *report.Report, dir string, getenv func(string) string) error {
	files, err := rep.WriteAll(dir)
	if err != nil {
		return err
	}
	return report.Publish(getenv, rep, files)
}

// StackEnv returns the tf.Stack of s for the run: its directories, its
// backend file (written now, 0600) and its environment variables.
func (r *Run) StackEnv(s *project.Stack, out io.Writer) (tf.Stack, error) {
	st := tf.Stack{
		Dir:     r.Project.FSPath(s.Path),
		Root:    r.Project.Root,
		DataDir: r.Layout.DataDir(s.Path),
		Out:     out,
	}
	// terraform would create it 0755; it holds the backend
	// configuration, secrets included.
	if err := os.MkdirAll(st.DataDir, 0o700); err != nil {
		return tf.Stack{}, fmt.Errorf("create the data directory: %w", err)
	}
	st.Env = append(st.Env, r.RunEnv[s.Path]...)
	st.Env = append(st.Env, r.Inputs[s.Path]...)
	st.Env = append(st.Env, "TMCI_ENV="+r.Env.Name, "TMCI_STACK_PATH="+s.Path, "TMCI_STACK_ID="+s.ID)
	backendFile := ""
	if c := r.Configs[s.Path]; c != nil {
		backendFile = r.Layout.BackendFile(s.Path)
		header := fmt.Sprintf("Written by tmci for stack %s in environment %s.", s.Path, r.Env.Name)
		if err := tf.WriteBackendFile(backendFile, c.TFBackend(header, true)); err != nil {
			return tf.Stack{}, err
		}
		st.BackendFile = backendFile
		if r.Verb == Exec {
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
func (r *Run) stackTask(ctx context.Context, path string, out io.Writer) (*report.PlanReport, error) {
	if diags := r.Invalid[path]; len(diags) > 0 {
		return nil, failInvalid(out, diags)
	}
	s := r.Project.Stack(path)
	st, err := r.StackEnv(s, out)
	if err != nil {
		return nil, err
	}
	if r.Verb == Exec {
		if r.needsSharedVars(path) {
			vars, _, err := r.sharedVars(ctx, path, out)
			if err != nil {
				return nil, err
			}
			st.Env = append(st.Env, vars...)
		}
		return nil, r.Runner.Exec(ctx, st, r.Extra)
	}
	var initExtra []string
	if r.Verb == Init {
		initExtra = r.Extra
	}
	// terraform init's chatter is routine before plan, apply and destroy:
	// it stays in the log and reaches the console only when init fails.
	release := func(bool) {}
	if h, ok := out.(scheduler.Holder); ok && r.Verb != Init {
		release = h.Hold()
	}
	if r.Verb == Init {
		// tmci init always runs init: it is how a user starts afresh.
		err = r.Runner.Init(ctx, st, initExtra...)
	} else {
		_, err = r.Runner.InitIfNeeded(ctx, st)
	}
	release(err != nil)
	if err != nil {
		return nil, err
	}
	r.shared.markInited(path)
	var mocked []string
	if r.needsSharedVars(path) {
		vars, m, err := r.sharedVars(ctx, path, out)
		if err != nil {
			return nil, err
		}
		st.Env, mocked = append(st.Env, vars...), m
	}
	switch r.Verb {
	case Plan, Drift:
		return r.plan(ctx, st, path, mocked)
	case Apply:
		return r.apply(ctx, st, path)
	case Destroy:
		start := time.Now()
		counts, err := r.Runner.Destroy(ctx, st, r.Extra...)
		if err = r.withErroredState(err, st.Dir, start); err != nil {
			return countsReport(counts), err
		}
		return countsReport(counts), r.removeEmptiedState(ctx, path, st)
	}
	return nil, nil
}

// plan runs plan -detailed-exitcode -out and counts its changes (see
// tf.Runner.PlanCounted); drift also lists what changed outside terraform.
func (r *Run) plan(ctx context.Context, st tf.Stack, path string, mocked []string) (*report.PlanReport, error) {
	file := r.Layout.PlanFile(path)
	text := &report.PlanText{}
	st.Attempt = func() io.Writer { text = &report.PlanText{}; return text }
	planFn := r.Runner.PlanCounted
	if r.Verb == Drift {
		planFn = r.Runner.PlanDrift
	}
	if err := regularOrAbsent(file); err != nil {
		return nil, err
	}
	res, err := planFn(ctx, st, file, r.Extra...)
	if err != nil {
		return nil, err
	}
	// A plan holds the backend configuration, secrets included.
	if err := os.Chmod(file, 0o600); err != nil {
		return nil, err
	}
	if err := recordPlan(file, r.Layout.PlanRecord(path), mocked); err != nil {
		return nil, err
	}
	return &report.PlanReport{File: r.rel(file), Changes: res.Changes, Excerpt: r.Secrets.String(text.Excerpt()), Summary: res.Summary}, nil
}

// apply applies the saved plan with FromPlans when there is one, else
// plans and applies at once. A saved plan is removed once applied: it is
// stale from then on, and terraform would refuse it.
func (r *Run) apply(ctx context.Context, st tf.Stack, path string) (*report.PlanReport, error) {
	file := ""
	if r.FromPlans {
		if err := regularOrAbsent(r.Layout.PlanFile(path)); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(r.Layout.PlanFile(path)); err == nil {
			file = r.Layout.PlanFile(path)
			if err := checkPlanRecord(file, r.Layout.PlanRecord(path)); err != nil {
				return nil, err
			}
		}
	}
	start := time.Now()
	counts, err := r.Runner.Apply(ctx, st, file, r.Extra...)
	err = r.withErroredState(err, st.Dir, start)
	rep := countsReport(counts)
	if file != "" {
		if rep == nil {
			rep = &report.PlanReport{}
		}
		rep.File = r.rel(file)
		if err == nil {
			if rmErr := os.Remove(file); rmErr != nil {
				return rep, fmt.Errorf("remove the applied plan: %w", rmErr)
			}
			_ = os.Remove(r.Layout.PlanRecord(path))
		}
	}
	return rep, err
}

// recordPlan writes the SHA-256 of the plan file to record, so that
// apply --from-plans applies only plans tmci plan made: tmci plan refuses
// -destroy, so a destroy plan (or any plan put in the work directory by
// something else) is never applied in its place. The inputs that passed
// their mock follow, one "mock " line each: such a plan is never applied.
func recordPlan(file, record string, mocked []string) error {
	sum, err := fileSum(file)
	if err != nil {
		return err
	}
	text := sum + "\n"
	for _, m := range mocked {
		text += "mock " + strings.ReplaceAll(m, "\n", " ") + "\n"
	}
	return atomicfile.Write(record, []byte(text), 0o600)
}

// checkPlanRecord refuses a saved plan that does not match its record,
// and one made with mock inputs.
func checkPlanRecord(file, record string) error {
	sum, err := fileSum(file)
	if err != nil {
		return err
	}
	want, err := os.ReadFile(record)
	lines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if err != nil || lines[0] != sum {
		return fmt.Errorf("the saved plan %s was not made by tmci plan, or changed since (a plan made with -destroy, say): run tmci plan again, or apply without --from-plans", file)
	}
	var mocked []string
	for _, l := range lines[1:] {
		if m, ok := strings.CutPrefix(l, "mock "); ok {
			mocked = append(mocked, m)
		}
	}
	if len(mocked) > 0 {
		return fmt.Errorf("the saved plan %s used mock values for the inputs %s, whose sources had no outputs yet: tmci never applies a mock; apply the sources first, then plan again or apply without --from-plans", file, strings.Join(mocked, ", "))
	}
	return nil
}

// needsSharedVars says whether the stack's input blocks must be read
// before its command: always, except when apply --from-plans applies a
// saved plan, which holds its variables (checkPlanRecord refuses one
// made with mocks).
func (r *Run) needsSharedVars(path string) bool {
	if r.Sharing == nil || len(r.Sharing.Inputs[path]) == 0 || r.Verb == Init {
		return false
	}
	if r.Verb == Apply && r.FromPlans {
		if _, err := os.Lstat(r.Layout.PlanFile(path)); err == nil {
			return false
		}
	}
	return true
}

func fileSum(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// regularOrAbsent refuses a path in the work directory that exists and
// is not a regular file (a symbolic link terraform would write through).
func regularOrAbsent(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s is not a regular file (%s): tmci never writes through one; remove it", path, fi.Mode().Type())
}

// countsReport turns the counts of apply or destroy into a plan report;
// Changes is true when something was created, changed or destroyed. It
// is nil when terraform printed no counts (it failed early).
func countsReport(c tf.Counts) *report.PlanReport {
	if !c.Counted {
		return nil
	}
	return &report.PlanReport{Changes: c.Summary.HasChanges(), Summary: c.Summary}
}

// rel returns path relative to the project root, for reports.
func (r *Run) rel(path string) string {
	if rel, err := filepath.Rel(r.Project.Root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// heartbeatLine names the stacks that have been running for a while.
func heartbeatLine(now time.Time, running []scheduler.Running) string {
	parts := make([]string, len(running))
	for i, r := range running {
		parts[i] = fmt.Sprintf("%s (%s)", r.Node, now.Sub(r.Since).Round(time.Second))
	}
	return "tmci: still running: " + strings.Join(parts, ", ") + "\n"
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

// Ephemeral reports whether the run's environment may be torn down
// wholesale (ephemeral = true in tmci.hcl).
func (r *Run) Ephemeral() bool { return r.Env.Decl != nil && r.Env.Decl.Ephemeral }

// removeEmptiedState removes, after a destroy in an ephemeral
// environment, the stack's state object that the destroy left empty, so
// that a torn-down preview leaves nothing behind (package statestore). A
// backend type tmci cannot reach is said in the stack's output.
func (r *Run) removeEmptiedState(ctx context.Context, path string, st tf.Stack) error {
	c := r.Configs[path]
	if !r.Ephemeral() || c == nil {
		return nil
	}
	removed, err := statestore.RemoveEmpty(ctx, c, st.Dir, r.Getenv)
	switch {
	case errors.Is(err, statestore.ErrUnsupported):
		fmt.Fprintf(st.Out, "tmci: the emptied %s state object stays: %v\n", c.Type, err)
		return nil
	case err != nil:
		return fmt.Errorf("remove the emptied state object: %w", err)
	case removed:
		fmt.Fprintf(st.Out, "tmci: removed the emptied %s state object of %s in %s\n", c.Type, path, r.Env.Name)
	}
	return nil
}
