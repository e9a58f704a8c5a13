package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/tf"
)

// errPrinted is returned by a step whose problems (diagnostics) are
// already on stderr: fail adds nothing.
var errPrinted = errors.New("problems printed above")

// sharedError is an error of a step every command shares (loading the
// project, selecting stacks, detecting changes): fail renders it as
// "tmci: ...", not under the command's name.
type sharedError struct{ error }

func (e sharedError) Unwrap() error { return e.error }

// shared marks err as a sharedError.
func shared(err error) error { return sharedError{err} }

// fail is where a command's errors are rendered: "PREFIX: error" on
// stderr, one line each for joined errors (errors.Join), "tmci: error"
// for a sharedError, nothing for errPrinted. It returns the exit code, 1.
func (a *app) fail(prefix string, err error) int {
	var se sharedError
	switch joined, ok := err.(interface{ Unwrap() []error }); {
	case ok:
		for _, e := range joined.Unwrap() {
			a.fail(prefix, e)
		}
	case errors.Is(err, errPrinted):
	case errors.As(err, &se):
		fmt.Fprintf(a.stderr, "tmci: %s\n", printable.Lines(se.Error()))
	default:
		fmt.Fprintf(a.stderr, "%s: %s\n", prefix, printable.Lines(err.Error()))
	}
	return exitFailure
}

// renderRun is the view of a run: the summary table, the drift and the
// failures (as GitHub annotations in Actions), then where the report
// is. rep and err are what engine.Execute returned. It returns the exit
// code.
func (a *app) renderRun(r *engine.Run, rep *report.Report, err error) int {
	name := "tmci " + string(r.Verb)
	if rep == nil {
		return a.fail(name, err)
	}
	a.printSummary(r, rep)
	a.printInvalid(r, rep)
	a.warnDeleted(r)
	a.printDrift(r, rep)
	mocked := a.printMocked(r, rep)
	a.annotateFailures(r, rep)
	if err != nil {
		// The console is then all there is: say why stacks failed.
		for _, s := range rep.Stacks {
			if s.Status == report.StatusFailed {
				fmt.Fprintf(a.stderr, "%s: %s failed: %s\n", name, s.Path, s.Error)
			}
		}
		return a.fail(name, fmt.Errorf("no report: %w", err))
	}
	// Named only once written: a full disk leaves none.
	fmt.Fprintf(a.stderr, "%s: report %s\n", name, a.displayPath(r.Layout.Report()))
	if !mocked {
		a.printNext(r, rep)
	}
	return rep.ExitCode
}

// printMocked names, per stack, the inputs that passed their mock (its
// sources had no outputs in the environment yet), and says that such a
// plan is not applied; it reports whether there was one.
func (a *app) printMocked(r *engine.Run, rep *report.Report) bool {
	var sources []string
	seen := map[string]bool{}
	for _, s := range rep.Stacks {
		if len(s.MockedInputs) == 0 {
			continue
		}
		parts := make([]string, len(s.MockedInputs))
		for i, m := range s.MockedInputs {
			parts[i] = fmt.Sprintf("%s (%s: %s)", m.Name, m.Defined, m.Reason)
			if !seen[m.Source] {
				seen[m.Source] = true
				sources = append(sources, m.Source)
			}
		}
		fmt.Fprintf(a.stderr, "tmci %s: %s used mock values for %s\n", r.Verb, printable.String(s.Path), printable.String(strings.Join(parts, ", ")))
	}
	if len(sources) == 0 {
		return false
	}
	if r.Verb == engine.Plan {
		fmt.Fprintf(a.stderr, "tmci plan: plans made with mock values are never applied: apply %s in %s first (one tmci apply runs sources before their consumers)\n",
			printable.String(strings.Join(sources, ", ")), r.Env.Name)
	}
	return true
}

// printNext ends a plan that fully succeeded with what to run next.
func (a *app) printNext(r *engine.Run, rep *report.Report) {
	t := rep.Totals
	if r.Verb != engine.Plan || len(rep.Stacks) == 0 || t.Succeeded != t.Stacks {
		return
	}
	if t.WithChanges == 0 {
		fmt.Fprintln(a.stderr, "tmci plan: no changes: nothing to apply")
		return
	}
	env := ""
	if r.Env.Name != "" {
		env = " --env=" + r.Env.Name
	}
	fmt.Fprintf(a.stderr, "tmci plan: next, to apply these plans: tmci apply%s --from-plans (with the same stack selection)\n", env)
}

// printSummary writes the final table and totals to stderr.
func (a *app) printSummary(r *engine.Run, rep *report.Report) {
	if len(rep.Stacks) == 0 {
		fmt.Fprintf(a.stderr, "tmci %s: no stacks selected\n", r.Verb)
	}
	tw := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	if len(rep.Stacks) > 0 {
		fmt.Fprintln(tw, "STACK\tSTATUS\tCHANGES\tDURATION\tLOG")
	}
	for _, s := range rep.Stacks {
		status := s.Status
		if s.Status == report.StatusSkipped {
			status += " (" + strings.Join(s.FailedDependencies, ", ") + " failed)"
		}
		dur := ""
		if s.StartedAt != nil {
			dur = (time.Duration(s.DurationMS) * time.Millisecond).Round(100 * time.Millisecond).String()
		}
		log := s.Log
		if log != "" {
			log = a.displayPath(filepath.Join(r.Project.Root, filepath.FromSlash(log)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Path, status, changesText(s.Plan), dur, log)
	}
	tw.Flush()
	fmt.Fprintln(a.stderr, totalsLine(r, rep))
	if rep.Interrupted {
		var names []string
		for _, s := range rep.Stacks {
			if s.Status == report.StatusInterrupted {
				names = append(names, s.Path)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(a.stderr, "tmci %s: interrupted while running %s\n", r.Verb, strings.Join(names, ", "))
		} else {
			fmt.Fprintf(a.stderr, "tmci %s: interrupted\n", r.Verb)
		}
	}
}

// totalsLine is the summary's last line: stacks by status and, for the
// verbs that change things, the changes.
func totalsLine(r *engine.Run, rep *report.Report) string {
	t := rep.Totals
	parts := []string{fmt.Sprintf("%d succeeded", t.Succeeded)}
	for _, c := range []struct {
		n    int
		name string
	}{{t.Failed, "failed"}, {t.Skipped, "skipped"}, {t.Interrupted, "interrupted"}, {t.NotStarted, "not started"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	env := ""
	if r.Env.Name != "" {
		env = " --env=" + r.Env.Name
	}
	line := fmt.Sprintf("tmci %s%s: %d %s: %s", r.Verb, env, t.Stacks, plural(t.Stacks, "stack", "stacks"), strings.Join(parts, ", "))
	if r.Verb != engine.Init && r.Verb != engine.Exec {
		line += fmt.Sprintf("; %d with changes (%s)", t.WithChanges,
			changesText(&report.PlanReport{Changes: true, Summary: tf.Summary{Create: t.Create, Update: t.Update, Delete: t.Delete, Replace: t.Replace}}))
	}
	return line
}

// printInvalid says, after the summary table, why each stack whose own
// configuration is invalid failed: one line per problem, its place
// relative to the working directory.
func (a *app) printInvalid(r *engine.Run, rep *report.Report) {
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		for _, d := range s.Diagnostics {
			if d.File != "" && !filepath.IsAbs(d.File) {
				d.File = filepath.ToSlash(a.displayPath(filepath.Join(r.Project.Root, filepath.FromSlash(d.File))))
			}
			d.Detail = ""
			fmt.Fprintf(a.stderr, "tmci %s: %s failed: %s\n", r.Verb, s.Path, d)
		}
	}
}

// printDrift names the drifted stacks of a drift run on stderr, after
// the summary table, with the issue body's path.
func (a *app) printDrift(r *engine.Run, rep *report.Report) {
	if r.Verb != engine.Drift {
		return
	}
	var names []string
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		if s.Status == report.StatusSucceeded && report.Drifted(s) {
			sum := s.Plan.Summary
			names = append(names, fmt.Sprintf("%s (%d changed outside terraform, %d to reconcile)", s.Path, sum.Drift, len(sum.Changes)))
		}
	}
	n := report.DriftCounts(rep)
	counts := fmt.Sprintf("%d drifted, %d clean, %d failed, %d not deployed", n[report.DriftDrifted], n[report.DriftClean], n[report.DriftFailed], n[report.DriftNotDeployed])
	switch {
	case len(names) == 0 && n[report.DriftFailed] == 0:
		fmt.Fprintf(a.stderr, "tmci drift: no drift in %d stacks\n", len(rep.Stacks))
	case len(names) == 0:
		fmt.Fprintf(a.stderr, "tmci drift: %d of %d stacks not checked, no drift in the others\n", n[report.DriftFailed], len(rep.Stacks))
	default:
		fmt.Fprintf(a.stderr, "tmci drift: %d of %d stacks drifted: %s\ntmci drift: issue body %s\n", len(names), len(rep.Stacks),
			strings.Join(names, ", "), a.displayPath(filepath.Join(r.Layout.Dir, "drift.md")))
	}
	fmt.Fprintf(a.stderr, "tmci drift: %s\n", counts)
}

// displayPath shows path relative to the working directory when that is
// shorter.
func (a *app) displayPath(path string) string {
	if rel, err := filepath.Rel(a.wd, path); err == nil && len(rel) < len(path) {
		return rel
	}
	return path
}

// changesText renders planned or applied counts as "+1 ~0 -0", adding
// "-/+N" for replacements; "no changes" for an empty plan, "" for none.
func changesText(p *report.PlanReport) string {
	if p == nil {
		return ""
	}
	s := p.Summary
	if !p.Changes {
		return "no changes"
	}
	text := fmt.Sprintf("+%d ~%d -%d", s.Create, s.Update, s.Delete)
	if s.Replace > 0 {
		text += fmt.Sprintf(" -/+%d", s.Replace)
	}
	return text
}
