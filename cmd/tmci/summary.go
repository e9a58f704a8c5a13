package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// applyCounts passes output through to w and reads the resource counts
// of terraform's (or tofu's) closing line, "Apply complete! Resources: 1
// added, 0 changed, 0 destroyed." or "Destroy complete! Resources: 2
// destroyed.", so apply and destroy report counts without a saved plan
// to show. terraform counts a replacement as added and destroyed.
type applyCounts struct {
	w    io.Writer
	mu   sync.Mutex // stdout and stderr are copied by two goroutines
	line []byte
	sum  tf.Summary
	seen bool
}

var (
	applyLine   = regexp.MustCompile(`(?:Apply|Destroy) complete! Resources: (?:\d+ imported, )?(\d+) added, (\d+) changed, (\d+) destroyed`)
	destroyLine = regexp.MustCompile(`Destroy complete! Resources: (\d+) destroyed`)
)

func (c *applyCounts) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.line = append(c.line, p...)
	for {
		i := bytes.IndexByte(c.line, '\n')
		if i < 0 {
			break
		}
		c.scan(c.line[:i])
		c.line = c.line[i+1:]
	}
	if len(c.line) > 4096 { // no count line is this long
		c.line = c.line[:0]
	}
	c.mu.Unlock()
	return c.w.Write(p)
}

func (c *applyCounts) scan(line []byte) {
	num := func(b []byte) int { n, _ := strconv.Atoi(string(b)); return n }
	if m := applyLine.FindSubmatch(line); m != nil {
		c.sum = tf.Summary{Create: num(m[1]), Update: num(m[2]), Delete: num(m[3])}
		c.seen = true
	} else if m := destroyLine.FindSubmatch(line); m != nil {
		c.sum = tf.Summary{Delete: num(m[1])}
		c.seen = true
	}
}

// flush reads a last line that has no newline.
func (c *applyCounts) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scan(c.line)
	c.line = nil
}

// report returns the counts as a plan report; Changes is true when
// something was created, changed or destroyed.
func (c *applyCounts) report() *ci.PlanReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.seen {
		return nil
	}
	return &ci.PlanReport{Changes: c.sum.HasChanges(), Summary: c.sum}
}

// report builds the run report from the scheduler's results.
func (r *plannedRun) report(results []scheduler.Result[*ci.PlanReport], start time.Time, interrupted bool) *ci.Report {
	rep := &ci.Report{
		TmciVersion: tmciVersion(),
		Command:     string(r.verb),
		Environment: r.env.name,
		StartedAt:   start,
		Interrupted: interrupted,
		Stacks:      make([]ci.StackReport, 0, len(results)),
	}
	if r.runner.Bin != "" {
		rep.Binary = &ci.Binary{Name: filepath.Base(r.runner.Bin)}
	}
	if d := r.flags.changed.diff; d != nil {
		rep.Base = d.Base.Commit
	}
	for _, res := range results {
		s := r.p.Stack(res.Node)
		sr := ci.StackReport{
			Path:               s.Path,
			ID:                 s.ID,
			Name:               s.Name,
			DependsOn:          r.deps.After[s.Path],
			Status:             statusText(res.Status),
			FailedDependencies: res.FailedDeps,
			Plan:               res.Value,
			Backend:            r.backends[s.Path],
		}
		switch res.Status {
		case scheduler.Skipped:
			sr.Error = "skipped: " + strings.Join(res.FailedDeps, ", ") + " failed"
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
			sr.Log = r.rel(r.lay.logFile(s.Path))
		}
		rep.Stacks = append(rep.Stacks, sr)
	}
	rep.Finish(time.Now())
	rep.ExitCode = exitCodeOf(rep, r.flags.detailedExitcode)
	return rep
}

func statusText(s scheduler.Status) string {
	b, err := s.MarshalText()
	if err != nil {
		return s.String()
	}
	return string(b)
}

// printSummary writes the final table and totals to stderr.
func (a *app) printSummary(r *plannedRun, rep *ci.Report) {
	if len(rep.Stacks) == 0 {
		fmt.Fprintf(a.stderr, "tmci %s: no stacks selected\n", r.verb)
	}
	tw := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	if len(rep.Stacks) > 0 {
		fmt.Fprintln(tw, "STACK\tSTATUS\tCHANGES\tDURATION\tLOG")
	}
	for _, s := range rep.Stacks {
		status := s.Status
		if s.Status == ci.StatusSkipped {
			status += " (" + strings.Join(s.FailedDependencies, ", ") + " failed)"
		}
		dur := ""
		if s.StartedAt != nil {
			dur = (time.Duration(s.DurationMS) * time.Millisecond).Round(100 * time.Millisecond).String()
		}
		log := s.Log
		if log != "" {
			log = a.displayPath(filepath.Join(r.p.Root, filepath.FromSlash(log)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Path, status, changesText(s.Plan), dur, log)
	}
	tw.Flush()
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
	if r.env.name != "" {
		env = " --env=" + r.env.name
	}
	line := fmt.Sprintf("tmci %s%s: %d %s: %s", r.verb, env, t.Stacks, plural(t.Stacks, "stack", "stacks"), strings.Join(parts, ", "))
	if r.verb != verbInit && r.verb != verbRun {
		line += fmt.Sprintf("; %d with changes (%s)", t.WithChanges,
			changesText(&ci.PlanReport{Changes: true, Summary: tf.Summary{Create: t.Create, Update: t.Update, Delete: t.Delete, Replace: t.Replace}}))
	}
	fmt.Fprintln(a.stderr, line)
	if rep.Interrupted {
		var names []string
		for _, s := range rep.Stacks {
			if s.Status == ci.StatusInterrupted {
				names = append(names, s.Path)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(a.stderr, "tmci %s: interrupted while running %s\n", r.verb, strings.Join(names, ", "))
		} else {
			fmt.Fprintf(a.stderr, "tmci %s: interrupted\n", r.verb)
		}
	}
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
func changesText(p *ci.PlanReport) string {
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

// heartbeatLine names the stacks that have been running for a while.
func heartbeatLine(now time.Time, running []scheduler.Running) string {
	parts := make([]string, len(running))
	for i, r := range running {
		parts[i] = fmt.Sprintf("%s (%s)", r.Node, now.Sub(r.Since).Round(time.Second))
	}
	return "tmci: still running: " + strings.Join(parts, ", ") + "\n"
}
