package dag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// findCycles returns one shortest cycle through the smallest node of every
// strongly connected component that holds a cycle (a self-loop included),
// considering only the nodes in keep (all when keep is nil). Each cycle
// lists its nodes from the smallest on; the edge back to the first node is
// implied. The cycles come sorted by their first node. O(V+E).
func findCycles(succ *csr, n int, keep []bool) [][]int32 {
	t := tarjan{succ: succ, keep: keep, index: make([]int32, n), low: make([]int32, n), comp: make([]int32, n)}
	for i := range t.index {
		t.index[i] = -1
		t.comp[i] = -1
	}
	for i := range int32(n) {
		if t.index[i] < 0 && (keep == nil || keep[i]) {
			t.visit(i)
		}
	}
	var cycles [][]int32
	for c, members := range t.comps {
		m := slices.Min(members)
		if len(members) == 1 && !slices.Contains(succ.of(m), m) {
			continue
		}
		cycles = append(cycles, shortestCycle(succ, t.comp, int32(c), m))
	}
	slices.SortFunc(cycles, func(a, b []int32) int { return int(a[0] - b[0]) })
	return cycles
}

// tarjan finds strongly connected components.
type tarjan struct {
	succ             *csr
	keep             []bool
	index, low, comp []int32
	stack            []int32
	onStack          []bool
	next             int32
	comps            [][]int32
}

func (t *tarjan) visit(v int32) {
	if t.onStack == nil {
		t.onStack = make([]bool, len(t.index))
	}
	t.index[v], t.low[v] = t.next, t.next
	t.next++
	t.stack = append(t.stack, v)
	t.onStack[v] = true
	for _, w := range t.succ.of(v) {
		if t.keep != nil && !t.keep[w] {
			continue
		}
		if t.index[w] < 0 {
			t.visit(w)
			t.low[v] = min(t.low[v], t.low[w])
		} else if t.onStack[w] {
			t.low[v] = min(t.low[v], t.index[w])
		}
	}
	if t.low[v] != t.index[v] {
		return
	}
	c := int32(len(t.comps))
	var members []int32
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.onStack[w] = false
		t.comp[w] = c
		members = append(members, w)
		if w == v {
			break
		}
	}
	t.comps = append(t.comps, members)
}

// shortestCycle returns a shortest cycle from m back to m inside
// component c, by breadth-first search in ascending neighbour order.
func shortestCycle(succ *csr, comp []int32, c, m int32) []int32 {
	parent := map[int32]int32{m: -1}
	queue := []int32{m}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range succ.of(v) {
			if comp[w] != c {
				continue
			}
			if w == m {
				var cycle []int32
				for u := v; u != -1; u = parent[u] {
					cycle = append(cycle, u)
				}
				slices.Reverse(cycle)
				return cycle
			}
			if _, seen := parent[w]; !seen {
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int32{m} // unreachable: m lies on a cycle of c
}

// edgeNote explains one edge of a cycle: who declared it and where.
type edgeNote struct {
	why string // e.g. `/b has after = "/a"`
	at  hcl.Range
}

// cycleDiag renders a cycle as one diagnostic naming every edge with the
// file:line that declared it. The subject is the first edge's declaration.
func cycleDiag(sev hcl.DiagnosticSeverity, summary, intro, outro string, paths []string, notes []edgeNote) *hcl.Diagnostic {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %s\n", intro, strings.Join(paths, " -> "), paths[0])
	for i, n := range notes {
		fmt.Fprintf(&b, "  %s -> %s: %s", paths[i], paths[(i+1)%len(paths)], n.why)
		if n.at.Filename != "" {
			fmt.Fprintf(&b, " (%s)", where(n.at))
		}
		b.WriteByte('\n')
	}
	b.WriteString(outro)
	d := &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: b.String()}
	for _, n := range notes {
		if d.Subject = subject(n.at); d.Subject != nil {
			break
		}
	}
	return d
}

// where renders a range as "file:line", the file as a project path
// ("/stacks/a/stack.tm") like the stack paths around it; diagnostics
// carry file names relative to the project root.
func where(r hcl.Range) string {
	name := r.Filename
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return fmt.Sprintf("%s:%d", name, r.Start.Line)
}

// wantsCycles warns about cycles among wants and wanted_by: harmless for
// selection, but a sign of a mistake. An edge X -> Y means selecting X
// selects Y.
func (x *Index) wantsCycles() hcl.Diagnostics {
	n := len(x.stacks)
	var edges []int32Pair
	for i := range int32(n) {
		for _, t := range x.refs[refWants][i] {
			edges = append(edges, int32Pair{i, t.stack})
		}
		for _, t := range x.refs[refWantedBy][i] {
			edges = append(edges, int32Pair{t.stack, i})
		}
	}
	if len(edges) == 0 {
		return nil
	}
	succ := newCSR(n, edges)
	var diags hcl.Diagnostics
	for _, cycle := range findCycles(&succ, n, nil) {
		paths := make([]string, len(cycle))
		notes := make([]edgeNote, len(cycle))
		for i, from := range cycle {
			to := cycle[(i+1)%len(cycle)]
			paths[i] = x.stacks[from].Path
			notes[i] = x.wantsNote(from, to)
		}
		diags = append(diags, cycleDiag(hcl.DiagWarning, "Cycle in wants",
			"Selecting any of these stacks selects all of them:", "wants and wanted_by only select stacks and never order them, so this is a warning; remove an entry if the cycle is a mistake.",
			paths, notes))
	}
	return diags
}

// wantsNote explains why selecting from selects to.
func (x *Index) wantsNote(from, to int32) edgeNote {
	if e, ok := x.entryFor(refWants, from, to); ok {
		return edgeNote{fmt.Sprintf("%s has wants = %q", x.stacks[from].Path, e), x.stacks[from].Wants.Range}
	}
	e, _ := x.entryFor(refWantedBy, to, from)
	return edgeNote{fmt.Sprintf("%s has wanted_by = %q", x.stacks[to].Path, e), x.stacks[to].WantedBy.Range}
}

// entryFor returns the k entry of stack i that selected stack t.
func (x *Index) entryFor(k refKind, i, t int32) (string, bool) {
	ts := x.refs[k][i]
	j, ok := slices.BinarySearchFunc(ts, t, func(a target, t int32) int { return int(a.stack - t) })
	if !ok {
		return "", false
	}
	return x.stacks[i].refs(k).List[ts[j].entry], true
}
