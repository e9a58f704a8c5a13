package main

import (
	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/sharing"
)

// mockOnFailUsage is the help of tmci run's and exec's --mock-on-fail,
// named after terramate run's: the command is the user's, so tmci cannot
// tell a plan from an apply and passes no mock unless told.
const mockOnFailUsage = "pass an input block's mock when its source has no outputs in the environment yet (as a plan does); without it the stack fails"

// sharingOf resolves the outputs sharing of p once per command (its
// input blocks: sources, backends), printing its problems; nil after an
// error.
func (a *app) sharingOf(p *project.Project) (*sharing.Plan, bool) {
	if pl, ok := a.sharingPlans[p]; ok {
		return pl, true
	}
	pl, diags := sharing.Resolve(p)
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, false
	}
	if a.sharingPlans == nil {
		a.sharingPlans = map[*project.Project]*sharing.Plan{}
	}
	a.sharingPlans[p] = pl
	return pl, true
}

// inputRefs are the ordering edges of the input blocks of the stack at
// path: each source runs before it.
func inputRefs(pl *sharing.Plan, path string) []dag.InputRef {
	if pl == nil {
		return nil
	}
	var out []dag.InputRef
	for _, in := range pl.Inputs[path] {
		out = append(out, dag.InputRef{Source: in.Source, Name: in.Name, Range: in.Decl.DeclRange})
	}
	return out
}

// withSources returns stacks followed by the sources their inputs read
// that are not among them: those need a backend too, to be read.
func withSources(p *project.Project, pl *sharing.Plan, stacks []*project.Stack) []*project.Stack {
	if pl == nil || len(pl.Inputs) == 0 {
		return stacks
	}
	in := make(map[string]bool, len(stacks))
	paths := make([]string, len(stacks))
	for i, s := range stacks {
		in[s.Path] = true
		paths[i] = s.Path
	}
	out := stacks
	for _, src := range pl.Sources(paths) {
		if !in[src] {
			out = append(out[:len(out):len(out)], p.Stack(src))
		}
	}
	return out
}
