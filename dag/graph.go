package dag

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Origin names the rule that made an ordering edge.
type Origin uint8

// The origins of an edge.
const (
	OriginAfter  Origin = iota + 1 // the later stack's after entry
	OriginBefore                   // the earlier stack's before entry
	OriginParent                   // a parent stack runs before its nested stacks
	OriginInput                    // the later stack reads the earlier one's outputs (an input block)
)

func (o Origin) String() string {
	switch o {
	case OriginAfter:
		return "after"
	case OriginBefore:
		return "before"
	case OriginParent:
		return "parent"
	case OriginInput:
		return "input"
	}
	return fmt.Sprintf("Origin(%d)", uint8(o))
}

// Edge is one ordering edge: From runs before To.
type Edge struct {
	From, To string
	Origin   Origin
	// DeclaredBy is the stack whose configuration made the edge: To for
	// after, From for before, and the nested stack for parent.
	DeclaredBy string
	// Entry is the reference entry that matched, e.g. "/a" or "tag:db";
	// empty for parent edges.
	Entry string
	// Range is the declaring attribute, or the nested stack's block for
	// parent edges.
	Range hcl.Range
}

// Node is one stack of a Graph.
type Node struct {
	Path string
	// Selected is false for a stack that was only pulled in because a
	// selected stack's after or before entries reference it: it orders
	// the others but does not run.
	Selected bool
}

// edge is an Edge between node numbers; entry indexes the declaring
// stack's reference list (-1 for parent edges).
type edge struct {
	from, to int32
	origin   Origin
	decl     int32 // stack index
	entry    int32
}

// Graph is the ordering graph of one selection: the selected stacks, the
// stacks pulled in through after and before, and the edges among them.
// Nodes are numbered in path order. A Graph is immutable after Build and
// safe for concurrent use. The scheduler walks it through Predecessors.
type Graph struct {
	x        *Index
	nodes    []int32 // stack indices, ascending
	selected []bool
	edges    []edge // sorted by (from, to), unique
	succ     csr
	order    []int32 // every node, in Kahn order
	// runPreds and runSuccs relate the selected nodes directly: an edge
	// u -> v for every path from u to v whose inner nodes are unselected.
	runPreds, runSuccs csr
	wave               []int32 // per node; -1 for unselected nodes
}

// Build makes the ordering graph of the selected stacks (project paths)
// and orders it. A cycle is an error diagnostic naming every edge with the
// file:line that declared it; the graph is nil then. For the V stacks and
// E edges pulled in, building and ordering is O(V·d + E log E) with d the
// nesting depth; re-linking through unselected stacks adds O(E·k), k the
// number of selected stacks one unselected stack's predecessors reach
// (1 or 2 in practice, S at worst).
func (x *Index) Build(selected []string) (*Graph, hcl.Diagnostics) {
	sel := make([]bool, len(x.stacks))
	for _, p := range selected {
		i, ok := x.byPath[p]
		if !ok {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown stack",
				Detail: fmt.Sprintf("There is no stack at %s.", p)}}
		}
		sel[i] = true
	}
	g := &Graph{x: x}
	local := x.pullIn(sel, &g.nodes)
	g.selected = make([]bool, len(g.nodes))
	for n, i := range g.nodes {
		g.selected[n] = sel[i]
	}
	g.edges = x.edges(g.nodes, local, sel)
	pairs := make([]int32Pair, len(g.edges))
	for i, e := range g.edges {
		pairs[i] = int32Pair{e.from, e.to}
	}
	g.succ = newCSR(len(g.nodes), pairs)
	if diags := g.kahn(); diags.HasErrors() {
		return nil, diags
	}
	g.relink()
	return g, nil
}

// pullIn collects the selected stacks and, recursively, the stacks their
// after, before and parent edges reach, as Terramate's graph does. It sets
// *nodes to their indices, ascending, and returns the map from stack index
// to node number (-1 for stacks left out).
func (x *Index) pullIn(sel []bool, nodes *[]int32) []int32 {
	local := make([]int32, len(x.stacks))
	for i := range local {
		local[i] = -1
	}
	var queue []int32
	visit := func(i int32) {
		if local[i] < 0 {
			local[i] = 0
			queue = append(queue, i)
		}
	}
	for i, ok := range sel {
		if ok {
			visit(int32(i))
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		*nodes = append(*nodes, i)
		for _, t := range x.refs[refAfter][i] {
			visit(t.stack)
		}
		for _, t := range x.refs[refBefore][i] {
			visit(t.stack)
		}
		for _, t := range x.inputs[i] {
			visit(t.stack)
		}
		if sel[i] {
			x.nestedOf(i, sel, func(j, _ int32) { visit(j) })
		}
	}
	slices.Sort(*nodes)
	for n, i := range *nodes {
		local[i] = int32(n)
	}
	return local
}

// nestedOf calls f(j, c) for every stack j that a selected stack i runs
// before as a parent: the subtree of every selected stack c nested below
// i, unselected stacks of that subtree included (Terramate appends the
// nested stack's path to the parent's before list, and a path selects its
// subtree).
func (x *Index) nestedOf(i int32, sel []bool, f func(j, c int32)) {
	pos := x.treePos[i]
	end := x.treeEnd[pos]
	for p := pos + 1; p < end; {
		c := x.tree[p]
		if !sel[c] {
			p++
			continue
		}
		for ; p < x.treeEnd[x.treePos[c]]; p++ {
			f(x.tree[p], c)
		}
	}
}

// edges returns the edges among nodes, sorted by (from, to), keeping the
// first declaration of an edge declared several times.
func (x *Index) edges(nodes, local []int32, sel []bool) []edge {
	size := 0
	for _, i := range nodes {
		size += len(x.refs[refAfter][i]) + len(x.refs[refBefore][i]) + len(x.inputs[i])
	}
	out := make([]edge, 0, size)
	for n, i := range nodes {
		for _, t := range x.refs[refAfter][i] {
			out = append(out, edge{local[t.stack], int32(n), OriginAfter, i, t.entry})
		}
		for _, t := range x.refs[refBefore][i] {
			out = append(out, edge{int32(n), local[t.stack], OriginBefore, i, t.entry})
		}
		for _, t := range x.inputs[i] {
			out = append(out, edge{local[t.stack], int32(n), OriginInput, i, t.entry})
		}
		if sel[i] {
			x.nestedOf(i, sel, func(j, c int32) {
				out = append(out, edge{int32(n), local[j], OriginParent, c, -1})
			})
		}
	}
	return sortEdges(len(nodes), out)
}

// sortEdges sorts edges by (from, to) and keeps the first of each run of
// equal edges: a counting sort by from, which keeps the declaration order
// within each bucket, then a stable sort of each (small) bucket by to.
// O(E + sum of b log b) over the buckets b.
func sortEdges(n int, edges []edge) []edge {
	start, sorted := bucketSort(n, edges, func(e edge) int32 { return e.from })
	out := sorted[:0]
	for v := range n {
		bucket := sorted[start[v]:start[v+1]]
		slices.SortStableFunc(bucket, func(a, b edge) int { return int(a.to - b.to) })
		for i, e := range bucket {
			if i == 0 || e.to != bucket[i-1].to {
				out = append(out, e)
			}
		}
	}
	return out
}

// kahn orders every node with Kahn's algorithm and a FIFO queue: the
// initial ready nodes in path order, then the nodes each step makes
// ready, in path order, appended to the queue. Successor lists are
// ascending, so each step's newly ready nodes already come sorted.
func (g *Graph) kahn() hcl.Diagnostics {
	n := len(g.nodes)
	indeg := make([]int32, n)
	for _, e := range g.edges {
		indeg[e.to]++
	}
	queue := make([]int32, 0, n)
	for v := range int32(n) {
		if indeg[v] == 0 {
			queue = append(queue, v)
		}
	}
	for head := 0; head < len(queue); head++ {
		for _, w := range g.succ.of(queue[head]) {
			if indeg[w]--; indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	if len(queue) == n {
		g.order = queue
		return nil
	}
	keep := make([]bool, n)
	for v, d := range indeg {
		keep[v] = d > 0
	}
	var diags hcl.Diagnostics
	for _, cycle := range findCycles(&g.succ, n, keep) {
		diags = append(diags, g.cycleDiag(cycle))
	}
	return diags
}

func (g *Graph) cycleDiag(cycle []int32) *hcl.Diagnostic {
	paths := make([]string, len(cycle))
	notes := make([]edgeNote, len(cycle))
	for k, from := range cycle {
		to := cycle[(k+1)%len(cycle)]
		paths[k] = g.path(from)
		e := g.edges[g.edgeIndex(from, to)]
		notes[k] = g.note(e)
	}
	return cycleDiag(hcl.DiagError, "Cycle in stack order", "These stacks cannot be ordered:",
		"An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.",
		paths, notes)
}

// note explains an edge for a cycle message.
func (g *Graph) note(e edge) edgeNote {
	s := &g.x.stacks[e.decl]
	switch e.origin {
	case OriginParent:
		return edgeNote{fmt.Sprintf("%s is nested in %s", g.path(e.to), g.path(e.from)), s.Decl}
	case OriginInput:
		in := s.Inputs[e.entry]
		why := fmt.Sprintf("%s reads input %s from %s", s.Path, in.Name, in.Source)
		if e.from == e.to {
			why += ", itself"
		}
		return edgeNote{why, in.Range}
	case OriginAfter:
		why := fmt.Sprintf("%s has after = %q", s.Path, s.After.List[e.entry])
		if e.from == e.to {
			why += ", which selects itself"
		}
		return edgeNote{why, s.After.Range}
	default:
		why := fmt.Sprintf("%s has before = %q", s.Path, s.Before.List[e.entry])
		if e.from == e.to {
			why += ", which selects itself"
		}
		return edgeNote{why, s.Before.Range}
	}
}

// edgeIndex returns the index in g.edges of the edge from -> to.
func (g *Graph) edgeIndex(from, to int32) int {
	i, _ := slices.BinarySearchFunc(g.edges, int32Pair{from, to}, func(e edge, p int32Pair) int {
		if e.from != p.a {
			return int(e.from - p.a)
		}
		return int(e.to - p.b)
	})
	return i
}

func (g *Graph) path(n int32) string { return g.x.stacks[g.nodes[n]].Path }

// relink relates the selected nodes directly, through any unselected ones
// (Terramate's Reduce), and computes each selected node's wave. It walks
// the nodes in run order, so every predecessor is final when it is read.
func (g *Graph) relink() {
	n := len(g.nodes)
	pred := make([][]int32, n) // nearest selected predecessors
	mark := make([]int32, n)
	for i := range mark {
		mark[i] = -1
	}
	preds := g.predecessors()
	g.wave = make([]int32, n)
	var pairs []int32Pair
	for _, v := range g.order {
		var near []int32
		for _, p := range preds.of(v) {
			if g.selected[p] {
				if mark[p] != v {
					mark[p] = v
					near = append(near, p)
				}
				continue
			}
			for _, u := range pred[p] {
				if mark[u] != v {
					mark[u] = v
					near = append(near, u)
				}
			}
		}
		slices.Sort(near)
		pred[v] = near
		g.wave[v] = -1
		if g.selected[v] {
			g.wave[v] = 0
			for _, u := range near {
				g.wave[v] = max(g.wave[v], g.wave[u]+1)
				pairs = append(pairs, int32Pair{u, v})
			}
		}
	}
	g.runSuccs = newCSR(n, pairs)
	for i := range pairs {
		pairs[i] = int32Pair{pairs[i].b, pairs[i].a}
	}
	g.runPreds = newCSR(n, pairs)
}

// predecessors returns the reverse of g.succ.
func (g *Graph) predecessors() csr {
	pairs := make([]int32Pair, len(g.edges))
	for i, e := range g.edges {
		pairs[i] = int32Pair{e.to, e.from}
	}
	return newCSR(len(g.nodes), pairs)
}

// Order returns the selected stacks in run order.
func (g *Graph) Order() []string {
	out := make([]string, 0, len(g.nodes))
	for _, v := range g.order {
		if g.selected[v] {
			out = append(out, g.path(v))
		}
	}
	return out
}

// Reverse returns the selected stacks in teardown order: the run order
// reversed, as destroy needs it.
func (g *Graph) Reverse() []string {
	out := g.Order()
	slices.Reverse(out)
	return out
}

// Waves groups the selected stacks into waves: wave 0 holds the stacks
// with no selected predecessor, and each later wave the stacks whose
// predecessors all lie in earlier waves, so the stacks of one wave can run
// together. Within a wave, stacks keep their run order.
func (g *Graph) Waves() [][]string {
	var waves [][]string
	for _, v := range g.order {
		if w := g.wave[v]; w >= 0 {
			for int(w) >= len(waves) {
				waves = append(waves, nil)
			}
			waves[w] = append(waves[w], g.path(v))
		}
	}
	return waves
}

// ReverseWaves groups the selected stacks into teardown waves, for the
// reverse order: wave 0 holds the stacks no selected stack waits for, and
// each later wave the stacks whose successors all lie in earlier waves.
// Within a wave, stacks keep their reverse run order.
func (g *Graph) ReverseWaves() [][]string {
	wave := make([]int32, len(g.nodes))
	var waves [][]string
	for i := len(g.order) - 1; i >= 0; i-- {
		v := g.order[i]
		if !g.selected[v] {
			continue
		}
		for _, s := range g.runSuccs.of(v) {
			wave[v] = max(wave[v], wave[s]+1)
		}
		for int(wave[v]) >= len(waves) {
			waves = append(waves, nil)
		}
		waves[wave[v]] = append(waves[wave[v]], g.path(v))
	}
	return waves
}

// Nodes returns every node in path order, selected or pulled in.
func (g *Graph) Nodes() []Node {
	out := make([]Node, len(g.nodes))
	for n := range g.nodes {
		out[n] = Node{Path: g.path(int32(n)), Selected: g.selected[n]}
	}
	return out
}

// Edges returns every edge of the graph as declared, sorted by From and
// then To (in path order); an edge declared several times is reported
// with its first declaration.
func (g *Graph) Edges() []Edge {
	out := make([]Edge, len(g.edges))
	for i, e := range g.edges {
		s := &g.x.stacks[e.decl]
		out[i] = Edge{From: g.path(e.from), To: g.path(e.to), Origin: e.origin, DeclaredBy: s.Path, Range: s.Decl}
		switch e.origin {
		case OriginAfter:
			out[i].Entry, out[i].Range = s.After.List[e.entry], s.After.Range
		case OriginBefore:
			out[i].Entry, out[i].Range = s.Before.List[e.entry], s.Before.Range
		case OriginInput:
			out[i].Entry, out[i].Range = s.Inputs[e.entry].Name, s.Inputs[e.entry].Range
		}
	}
	return out
}

// node returns the node number of the selected stack at path p.
func (g *Graph) node(p string) (int32, bool) {
	i, ok := g.x.byPath[p]
	if !ok {
		return 0, false
	}
	n, ok := slices.BinarySearch(g.nodes, i)
	if !ok || !g.selected[n] {
		return 0, false
	}
	return int32(n), true
}

// Predecessors returns the selected stacks that must finish before the
// selected stack p starts, transitively through unselected stacks, in
// path order. It returns nil for a path that is not selected.
func (g *Graph) Predecessors(p string) []string { return g.related(&g.runPreds, p) }

// Successors returns the selected stacks that wait for the selected stack
// p, transitively through unselected stacks, in path order.
func (g *Graph) Successors(p string) []string { return g.related(&g.runSuccs, p) }

func (g *Graph) related(c *csr, p string) []string {
	n, ok := g.node(p)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range c.of(n) {
		out = append(out, g.path(m))
	}
	return out
}
