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
	start, sorted := bucketSort(n, pairs, func(p int32Pair) int32 { return p.a })
	adj := make([]int32, len(sorted))
	for i, p := range sorted {
		adj[i] = p.b
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

// bucketSort sorts items by key (in [0, n)) with a counting sort, which
// keeps the input order within each key. Bucket k of the result is
// sorted[start[k]:start[k+1]]. O(n + len(items)).
func bucketSort[T any](n int, items []T, key func(T) int32) (start []int32, sorted []T) {
	start = make([]int32, n+1)
	for _, it := range items {
		start[key(it)+1]++
	}
	for i := range n {
		start[i+1] += start[i]
	}
	next := slices.Clone(start[:n])
	sorted = make([]T, len(items))
	for _, it := range items {
		k := key(it)
		sorted[next[k]] = it
		next[k]++
	}
	return start, sorted
}
