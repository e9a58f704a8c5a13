package dag

import (
	"fmt"
	"slices"
)

// SelectOptions tunes Select. The zero value adds the wants closure only.
type SelectOptions struct {
	// NoWants leaves out the wants closure, as terramate list does (only
	// the commands that run stacks add it).
	NoWants bool
	// WithDependents adds every stack that must run after a selected one:
	// the stacks its before entries name, the stacks whose after entries
	// name it, and the stacks nested below it, transitively.
	WithDependents bool
}

// Select grows the selection base (project paths of stacks) by what it
// implies and returns the result sorted by path. A selected stack selects
// the stacks its wants entries name and the stacks whose wanted_by entries
// name it, transitively and regardless of any other filter, as terramate
// run does (unless opts.NoWants). O(S + R) for S stacks and R resolved references.
func (x *Index) Select(base []string, opts SelectOptions) ([]string, error) {
	in := make([]bool, len(x.stacks))
	var queue []int32
	add := func(i int32) {
		if !in[i] {
			in[i] = true
			queue = append(queue, i)
		}
	}
	for _, p := range base {
		i, ok := x.byPath[p]
		if !ok {
			return nil, fmt.Errorf("no stack at %s", p)
		}
		add(i)
	}
	wantedBy := x.reverse(refWantedBy)
	var after, consumers csr
	if opts.WithDependents {
		after = x.reverse(refAfter)
		consumers = reverseTargets(len(x.stacks), x.inputs)
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if !opts.NoWants {
			for _, t := range x.refs[refWants][i] {
				add(t.stack)
			}
			for _, j := range wantedBy.of(i) {
				add(j)
			}
		}
		if !opts.WithDependents {
			continue
		}
		for _, t := range x.refs[refBefore][i] {
			add(t.stack)
		}
		for _, j := range after.of(i) {
			add(j)
		}
		for _, j := range consumers.of(i) {
			add(j)
		}
		pos := x.treePos[i]
		for _, j := range x.tree[pos+1 : x.treeEnd[pos]] {
			add(j)
		}
	}
	out := make([]string, 0, len(x.stacks))
	for i, ok := range in {
		if ok {
			out = append(out, x.stacks[i].Path)
		}
	}
	return slices.Clip(out), nil
}

// reverse returns, for every stack t, the stacks whose k references
// select t.
func (x *Index) reverse(k refKind) csr {
	return reverseTargets(len(x.stacks), x.refs[k])
}

// reverseTargets returns, for every stack t, the stacks i with t among
// targets[i].
func reverseTargets(n int, targets [][]target) csr {
	var edges []int32Pair
	for i, ts := range targets {
		for _, t := range ts {
			edges = append(edges, int32Pair{t.stack, int32(i)})
		}
	}
	return newCSR(n, edges)
}
