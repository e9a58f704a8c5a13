package project

import (
	"fmt"
	"runtime"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"
)

// CheckGlobals evaluates every global of every stack, on all CPUs, and
// returns the problems found. A problem that recurs in several stacks (a
// broken global in a parent directory) is reported once, at its source
// range, saying how many more stacks share it.
func (p *Project) CheckGlobals() hcl.Diagnostics {
	perStack := make([]hcl.Diagnostics, len(p.Stacks))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, s := range p.Stacks {
		g.Go(func() error {
			_, perStack[i] = p.Scope(s).Globals()
			return nil
		})
	}
	_ = g.Wait() // evaluation reports through diagnostics only
	type key struct {
		summary string
		rng     hcl.Range
	}
	var out hcl.Diagnostics
	first := map[key]int{}
	more := map[key]int{}
	for _, diags := range perStack {
		for _, d := range diags {
			k := key{summary: d.Summary}
			if d.Subject != nil {
				k.rng = *d.Subject
			}
			if _, seen := first[k]; seen {
				more[k]++
				continue
			}
			first[k] = len(out)
			cp := *d
			out = append(out, &cp)
		}
	}
	for k, n := range more {
		d := out[first[k]]
		d.Detail += fmt.Sprintf(" The same holds for %d more %s.", n, map[bool]string{true: "stack", false: "stacks"}[n == 1])
	}
	return out
}
