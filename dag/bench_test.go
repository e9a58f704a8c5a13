package dag

import (
	"slices"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/synth"
)

// benchStacks returns synth.Graph(n, fanout) as dag stacks: n stacks in
// 100 directories, each after fanout earlier ones (n*fanout edges, no
// cycle), every tenth one tagged.
func benchStacks(n, fanout int) []Stack {
	g := synth.Graph(n, fanout)
	stacks := make([]Stack, len(g))
	for i, s := range g {
		stacks[i] = Stack{Path: s.Path, Tags: s.Tags, After: Refs{List: s.After}}
	}
	return stacks
}

func orderAll(b *testing.B, stacks []Stack, all []string) []string {
	x, diags := NewIndex(stacks)
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	g, diags := x.Build(all)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return g.Order()
}

// BenchmarkOrder measures index, build, validate and order of 10,000
// stacks and 50,000 edges, and a floor in the same run: sorting the paths,
// and Kahn's algorithm on the same edges given as integer pairs, which any
// implementation must at least do.
func BenchmarkOrder(b *testing.B) {
	const n, fanout = 10_000, 5
	stacks := benchStacks(n, fanout)
	all := paths(stacks)
	b.Run("index+build+order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got := orderAll(b, stacks, all); len(got) != n {
				b.Fatalf("ordered %d stacks", len(got))
			}
		}
	})
	x, _ := NewIndex(stacks)
	b.Run("build+order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g, _ := x.Build(all)
			g.Order()
		}
	})
	var pairs []int32Pair
	idx := map[string]int32{}
	for i, p := range all {
		idx[p] = int32(i)
	}
	for i, s := range stacks {
		for _, a := range s.After.List {
			pairs = append(pairs, int32Pair{idx[a], int32(i)})
		}
	}
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := slices.Clone(all)
			slices.SortFunc(p, strings.Compare)
			succ := newCSR(n, pairs)
			indeg := make([]int32, n)
			for _, q := range pairs {
				indeg[q.b]++
			}
			queue := make([]int32, 0, n)
			for v := range int32(n) {
				if indeg[v] == 0 {
					queue = append(queue, v)
				}
			}
			for h := 0; h < len(queue); h++ {
				for _, w := range succ.of(queue[h]) {
					if indeg[w]--; indeg[w] == 0 {
						queue = append(queue, w)
					}
				}
			}
			if len(queue) != n {
				b.Fatal("floor: cycle")
			}
		}
	})
}
