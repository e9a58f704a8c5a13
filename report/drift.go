package report

import (
	"fmt"
	"strings"

	"github.com/tmci/tmci/tf"
)

// Drifted reports whether a planned stack's real infrastructure no longer
// matches its code: resources changed outside terraform (the plan's
// resource_drift), or a plan that would change something. A stack whose
// drift run classified it as not deployed has not drifted.
func Drifted(s *StackReport) bool {
	if s.Drift != "" {
		return s.Drift == DriftDrifted
	}
	return s.Plan != nil && (s.Plan.Summary.Drift > 0 || s.Plan.Changes)
}

// ClassifyDrift sets the Drift of every stack of a drift run. deployed
// says whether a stack was ever applied in the environment (the ledger);
// nil means unknown, and then no stack counts as not deployed.
func ClassifyDrift(r *Report, deployed func(path string) bool) {
	for i := range r.Stacks {
		s := &r.Stacks[i]
		s.Drift = ""
		switch {
		case s.Status != StatusSucceeded:
			s.Drift = DriftFailed
		case !Drifted(s):
			s.Drift = DriftClean
		case deployed != nil && !deployed(s.Path) && createOnly(s.Plan.Summary):
			s.Drift = DriftNotDeployed
		default:
			s.Drift = DriftDrifted
		}
	}
}

// createOnly reports whether a plan only creates: what a stack never
// applied plans.
func createOnly(sum tf.Summary) bool {
	return sum.Create > 0 && sum.Update == 0 && sum.Delete == 0 && sum.Replace == 0 && sum.Drift == 0
}

// DriftCounts counts a classified drift run's stacks by Drift value.
func DriftCounts(r *Report) map[string]int {
	out := map[string]int{}
	for i := range r.Stacks {
		out[r.Stacks[i].Drift]++
	}
	return out
}

// DriftIssue renders a drift run as the body of an issue: which stacks
// drifted, the resources changed outside terraform and the changes a plan
// would make to reconcile them, and the stacks that could not be checked.
// It starts with a marker naming the environment, so a workflow can find
// an open drift issue and update it, and stays under CommentLimit.
func DriftIssue(r *Report) []byte {
	d := &doc{limit: CommentLimit}
	d.add(fmt.Sprintf("<!-- tmci drift %s -->\n", r.Environment))
	var drifted, failed, undeployed []*StackReport
	for i := range r.Stacks {
		s := &r.Stacks[i]
		switch {
		case s.Status != StatusSucceeded:
			failed = append(failed, s)
		case s.Drift == DriftNotDeployed:
			undeployed = append(undeployed, s)
		case Drifted(s):
			drifted = append(drifted, s)
		}
	}
	d.add(fmt.Sprintf("## Drift in `%s`\n\n", r.Environment))
	when := r.StartedAt.UTC().Format("2006-01-02 15:04 UTC")
	switch {
	case len(drifted) == 0 && len(failed) == 0:
		d.add(fmt.Sprintf("tmci drift checked %s on %s: no drift.\n\n", plural(len(r.Stacks), "stack"), when))
	case len(drifted) == 0:
		d.add(fmt.Sprintf("tmci drift found no drift in the %d of %s it could check on %s; **%d not checked** (below), so drift there is unknown.\n\n",
			len(r.Stacks)-len(failed), plural(len(r.Stacks), "stack"), when, len(failed)))
	default:
		d.add(fmt.Sprintf("tmci drift found **%d of %s** out of step with their code on %s.\n\n",
			len(drifted), plural(len(r.Stacks), "stack"), when))
		rows := "| Stack | Changed outside terraform | Changes to reconcile |\n|---|--:|--:|\n"
		for _, s := range drifted {
			sum := s.Plan.Summary
			rows += fmt.Sprintf("| %s | %d | %d |\n", code(s.Path), sum.Drift, len(sum.Changes))
		}
		if !d.add(rows + "\n") {
			d.cut = append(d.cut, "the table left out")
		}
	}
	if len(failed) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "**Not checked** (%s):\n\n", plural(len(failed), "stack"))
		for _, s := range failed {
			why := strings.ReplaceAll(s.Status, "_", " ")
			switch {
			case len(s.FailedDependencies) > 0:
				why += ": " + strings.Join(s.FailedDependencies, ", ") + " failed"
			case s.Error != "":
				why += ": " + firstLine(s.Error)
			}
			fmt.Fprintf(&b, "- %s %s\n", code(s.Path), escapeCell(why))
		}
		if !d.add(b.String() + "\n") {
			d.cut = append(d.cut, "the list of stacks not checked left out")
		}
	}
	if len(undeployed) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "**Not deployed** (%s never applied here; the plan would create them):\n\n", plural(len(undeployed), "stack"))
		for _, s := range undeployed {
			fmt.Fprintf(&b, "- %s\n", code(s.Path))
		}
		d.add(b.String() + "\n")
	}
	left := 0
	for _, s := range drifted {
		if !d.add(driftSection(s)) {
			left++
		}
	}
	if left > 0 {
		d.cut = append(d.cut, plural(left, "drifted stack")+" not detailed")
	}
	return d.finish("GitHub's 65,536-character issue body limit")
}

// driftSection details one drifted stack: its drifted resources, the plan's
// changes, and a collapsed plan excerpt.
func driftSection(s *StackReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", code(s.Path))
	list := func(title string, cs []tf.Change) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n\n", title)
		for _, c := range cs {
			fmt.Fprintf(&b, "- %s %s\n", code(c.Address), c.Action)
		}
		b.WriteString("\n")
	}
	list("Changed outside terraform", s.Plan.Summary.Drifted)
	list("Changes the plan would make", s.Plan.Summary.Changes)
	if s.Plan.Summary.OutputChanges && len(s.Plan.Summary.Changes) == 0 {
		b.WriteString("Output values would change.\n\n")
	}
	if s.Plan.Excerpt != "" {
		blk := detail{summary: "Plan", body: s.Plan.Excerpt, log: s.Log}
		text, _ := blk.render(CommentLimit / 4)
		b.WriteString(text)
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
