package dag

import "slices"

// csr is an adjacency list in compressed form: the neighbours of node i
// are adj[start[i]:start[i+1]], ascending and distinct.
type csr struct {
	start []int32
	adj   []int32
}

func (c *csr) of(i int32) []int32 { return c.adj[c.start[i]:c.start[i+1]] }

type int32Pair struct{ a, b int32 }

// newCSR builds the adjacency a -> b of n nodes from pairs in any order,
// dropping duplicates: a counting sort by a, then a sort of each bucket.
// O(P + sum of b log b) over the buckets b.
func newCSR(n int, pairs []int32Pair) csr {
	start := make([]int32, n+1)
	for _, p := range pairs {
		start[p.a+1]++
	}
	for i := range n {
		start[i+1] += start[i]
	}
	next := slices.Clone(start[:n])
	adj := make([]int32, len(pairs))
	for _, p := range pairs {
		adj[next[p.a]] = p.b
		next[p.a]++
	}
	// Sort and deduplicate each bucket, compacting in place.
	w := int32(0)
	for i := range n {
		bucket := adj[start[i]:start[i+1]]
		slices.Sort(bucket)
		first := w
		for _, b := range bucket {
			if w == first || adj[w-1] != b {
				adj[w] = b
				w++
			}
		}
		start[i] = first
	}
	start[n] = w
	return csr{start: start, adj: adj[:w]}
}
