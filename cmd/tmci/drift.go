package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tmci/tmci/ci"
)

// verbDrift plans every selected stack with refresh and reports the
// stacks whose infrastructure no longer matches their code.
const verbDrift verb = "drift"

// cmdDrift is tmci drift: a plan run (refresh on, as plan does by default)
// whose report is read as drift. It exits 2 when a stack drifted and
// writes drift.md, an issue body, next to the other reports.
func (a *app) cmdDrift(args []string) int { return a.runStacks(verbDrift, args) }

// driftedStacks counts the stacks of a drift run that drifted.
func driftedStacks(rep *ci.Report) int {
	n := 0
	for i := range rep.Stacks {
		if rep.Stacks[i].Status == ci.StatusSucceeded && ci.Drifted(&rep.Stacks[i]) {
			n++
		}
	}
	return n
}

// printDrift names the drifted stacks of a drift run on stderr, after
// the summary table, with the issue body's path.
func (a *app) printDrift(r *plannedRun, rep *ci.Report) {
	if r.verb != verbDrift {
		return
	}
	var names []string
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		if s.Status == ci.StatusSucceeded && ci.Drifted(s) {
			sum := s.Plan.Summary
			names = append(names, fmt.Sprintf("%s (%d changed outside terraform, %d to reconcile)", s.Path, sum.Drift, len(sum.Changes)))
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(a.stderr, "tmci drift: no drift in %d stacks\n", len(rep.Stacks))
		return
	}
	fmt.Fprintf(a.stderr, "tmci drift: %d of %d stacks drifted: %s\ntmci drift: issue body %s\n", len(names), len(rep.Stacks),
		strings.Join(names, ", "), a.displayPath(filepath.Join(r.lay.dir, "drift.md")))
}
