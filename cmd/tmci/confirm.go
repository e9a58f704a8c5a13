package main

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/report"
)

// interactive reports whether a person can answer a question: stdin and
// stderr are terminals. CI is ruled out by the caller.
func (a *app) interactive() bool {
	return a.stdinTerminal && a.stderrTerminal
}

// confirmRun shows what r will change and asks the user to type yes, as
// terraform apply does. For apply it plans the stacks first, prints the
// plan summary, and on yes makes r apply exactly those plans (FromPlans);
// for destroy it lists the stacks in the order they will be destroyed
// and their state. It returns ok to go on, else the exit code: 0 when
// there is nothing to apply, 1 when the plan failed or the user declined.
func (a *app) confirmRun(r *engine.Run) (code int, ok bool) {
	var question string
	switch r.Verb {
	case engine.Apply:
		plan := *r
		plan.Verb = engine.Plan
		plan.FromPlans = false
		rep, err := engine.Execute(a.ctx, &plan)
		if err != nil || rep.ExitCode != exitOK {
			return a.renderRun(&plan, rep, err), false
		}
		a.printSummary(&plan, rep)
		if rep.Totals.WithChanges == 0 {
			fmt.Fprintf(a.stderr, "tmci apply: no changes in %s; nothing to apply\n", r.Env.DirName())
			return exitOK, false
		}
		r.FromPlans = true
		question = fmt.Sprintf("Apply the plans above to environment %s?", r.Env.DirName())
	case engine.Destroy:
		fmt.Fprintf(a.stderr, "tmci destroy will delete every resource of these stacks in environment %s, in this order:\n", r.Env.DirName())
		for _, path := range r.Deps.Order {
			fmt.Fprintf(a.stderr, "  %s%s\n", path, stateText(r.Backends[path]))
		}
		question = fmt.Sprintf("Destroy these %d stacks' resources in %s?", len(r.Deps.Order), r.Env.DirName())
	default:
		return exitOK, true
	}
	fmt.Fprintf(a.stderr, "%s Only 'yes' will be accepted: ", question)
	answer, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil {
		fmt.Fprintln(a.stderr) // end the question's line
	}
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintf(a.stderr, "tmci %s: cancelled; nothing was changed\n", r.Verb)
		return exitFailure, false
	}
	return exitOK, true
}

// stateText names the state object of a stack's backend, "" without one:
// "  (local path=/x/terraform.tfstate)".
func stateText(b *report.BackendReport) string {
	if b == nil || len(b.Identity) == 0 {
		return ""
	}
	keys := make([]string, 0, len(b.Identity))
	for k := range b.Identity {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{b.Type}
	for _, k := range keys {
		parts = append(parts, k+"="+b.Identity[k])
	}
	return "  (" + strings.Join(parts, " ") + ")"
}
