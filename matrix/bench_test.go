package matrix

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Grouping stacks into jobs runs once per pipeline over every selected
// stack; its floor is visiting every stack and edge once.

// randomRunGraph has n stacks in run order, each after up to 3 earlier
// ones picked near it, so that components of many sizes form.
func randomRunGraph(n int) RunGraph {
	rng := rand.New(rand.NewPCG(1, 2))
	g := RunGraph{Preds: map[string][]string{}}
	for i := range n {
		s := fmt.Sprintf("/stacks/s%06d", i)
		g.Order = append(g.Order, s)
		for range rng.IntN(4) {
			if j := i - 1 - rng.IntN(50); j >= 0 && rng.IntN(3) == 0 {
				g.Preds[s] = append(g.Preds[s], g.Order[j])
			}
		}
	}
	return g
}

func BenchmarkMatrix10k(b *testing.B) {
	g := randomRunGraph(10000)
	b.ReportAllocs()
	for b.Loop() {
		GitHubMatrix(Pack(g.Components(), g.Order, 20))
	}
}

// BenchmarkFloorMatrix10k is the least any grouping must do: visit every
// stack and edge once through the same maps.
func BenchmarkFloorMatrix10k(b *testing.B) {
	g := randomRunGraph(10000)
	b.ReportAllocs()
	for b.Loop() {
		pos := make(map[string]int, len(g.Order))
		for i, s := range g.Order {
			pos[s] = i
		}
		n := 0
		for _, s := range g.Order {
			for _, p := range g.Preds[s] {
				n += pos[p]
			}
		}
		_ = n
	}
}

func BenchmarkGitLabPipeline10k(b *testing.B) {
	g := randomRunGraph(10000)
	b.ReportAllocs()
	for b.Loop() {
		GitLabPipeline(g, ChildPipeline{Script: "tmci plan", Artifacts: []string{".tmci/prod/logs/"}})
	}
}
