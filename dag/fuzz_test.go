package dag

import (
	"slices"
	"testing"
)

// FuzzBuild feeds arbitrary reference entries through NewIndex and Build:
// neither may panic, every selected stack is ordered exactly once unless
// there is a cycle, and each stack comes after the stacks its resolved
// after entries name.
func FuzzBuild(f *testing.F) {
	for _, seed := range [][2]string{
		{"/a", "tag:x"}, {"..", "../../.."}, {"tag:", "tag:x:y,,z"}, {"./b/../c", "//a//"},
		{"/a-b", "a/b/."}, {"tag:x,y:z", "/"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, after, before string) {
		stacks := []Stack{
			{Path: "/a", Tags: []string{"x"}},
			{Path: "/a/b", After: Refs{List: []string{after}}},
			{Path: "/a-b", Tags: []string{"y", "z"}, Before: Refs{List: []string{before}}},
			{Path: "/c", After: Refs{List: []string{after, before}}},
		}
		x, _ := NewIndex(stacks)
		sel, err := x.Select([]string{"/a/b", "/c"}, SelectOptions{WithDependents: true})
		if err != nil {
			t.Fatal(err)
		}
		g, diags := x.Build(sel)
		if g == nil {
			if !diags.HasErrors() {
				t.Fatal("no graph and no error")
			}
			return
		}
		order := g.Order()
		if !slices.Equal(slices.Sorted(slices.Values(order)), sel) {
			t.Fatalf("order %v is not a permutation of %v", order, sel)
		}
		pos := map[string]int{}
		for i, p := range order {
			pos[p] = i
		}
		for _, e := range g.Edges() {
			fp, fok := pos[e.From]
			tp, tok := pos[e.To]
			if fok && tok && fp >= tp {
				t.Fatalf("edge %s -> %s violated by order %v", e.From, e.To, order)
			}
		}
	})
}
