package engine

import (
	"os"
	"path/filepath"
	"time"

	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/scheduler"
)

// report builds the run report from the scheduler's results.
func (r *Run) report(results []scheduler.Result[*report.PlanReport], start time.Time, interrupted bool) *report.Report {
	rep := &report.Report{
		TmciVersion: r.Version,
		Command:     string(r.Verb),
		Environment: r.Env.Name,
		StartedAt:   start,
		Interrupted: interrupted,
		Base:        r.Base,
		Deleted:     r.Deleted,
		Stacks:      make([]report.StackReport, 0, len(results)),
		RootInRepo:  rootInRepo(r.Project.Root),
	}
	if r.Runner != nil && r.Runner.Bin != "" {
		rep.Binary = &report.Binary{Name: filepath.Base(r.Runner.Bin)}
	}
	for _, res := range results {
		s := r.Project.Stack(res.Node)
		sr := report.StackReport{
			Path:               s.Path,
			ID:                 s.ID,
			Name:               s.Name,
			DependsOn:          r.Deps.After[s.Path],
			Status:             statusText(res.Status),
			FailedDependencies: res.FailedDeps,
			Plan:               res.Value,
			Backend:            r.Backends[s.Path],
			Diagnostics:        r.Invalid[s.Path],
			MockedInputs:       r.mockedInputs(s.Path),
		}
		switch res.Status {
		case scheduler.Skipped:
			sr.Error = r.skippedText(res.FailedDeps)
		case scheduler.NotStarted:
			sr.Error = notStartedText(res.Err)
		default:
			if res.Err != nil {
				sr.Error = res.Err.Error()
			}
		}
		if !res.Start.IsZero() {
			startedAt, endedAt := res.Start, res.End
			sr.StartedAt, sr.EndedAt = &startedAt, &endedAt
			sr.DurationMS = res.Duration().Milliseconds()
			sr.Log = r.rel(r.Layout.LogFile(s.Path))
		}
		rep.Stacks = append(rep.Stacks, sr)
	}
	if r.Verb == Drift {
		report.ClassifyDrift(rep, r.Deployed)
	}
	rep.Finish(time.Now())
	rep.ExitCode = exitCodeOf(rep, r.DetailedExitcode)
	return rep
}

// addLogTails adds to each failed or interrupted stack the end of its
// log, where terraform says what went wrong.
func (r *Run) addLogTails(rep *report.Report) {
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		if s.Status != report.StatusFailed && s.Status != report.StatusInterrupted || s.Log == "" || len(s.Diagnostics) > 0 {
			continue // an invalid stack's error already says it all
		}
		if data, err := os.ReadFile(filepath.Join(r.Project.Root, filepath.FromSlash(s.Log))); err == nil {
			s.LogTail = report.TailOf(data)
		}
	}
}

// statusText spells a scheduler status as the report does.
func statusText(s scheduler.Status) string {
	switch s {
	case scheduler.Succeeded:
		return report.StatusSucceeded
	case scheduler.Failed:
		return report.StatusFailed
	case scheduler.Skipped:
		return report.StatusSkipped
	case scheduler.Interrupted:
		return report.StatusInterrupted
	case scheduler.NotStarted:
		return report.StatusNotStarted
	}
	return s.String()
}

// exitCodeOf is the exit code of a run: 1 when a stack did not succeed,
// else 2 when a drift run found drift or when plans have changes (or a
// stack was deleted, whose resources destroy --deleted would remove) and
// detailed is set, else 0.
func exitCodeOf(rep *report.Report, detailed bool) int {
	t := rep.Totals
	switch {
	case t.Succeeded < t.Stacks:
		return ExitFailure
	case rep.Command == string(Drift) && DriftedStacks(rep) > 0:
		return ExitChanges
	case detailed && (t.WithChanges > 0 || len(rep.Deleted) > 0):
		return ExitChanges
	}
	return ExitOK
}

// DriftedStacks counts the stacks of a drift run that drifted.
func DriftedStacks(rep *report.Report) int {
	n := 0
	for i := range rep.Stacks {
		if rep.Stacks[i].Status == report.StatusSucceeded && report.Drifted(&rep.Stacks[i]) {
			n++
		}
	}
	return n
}
