package dag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/tmci/tmci/internal/projectpath"
)

// Stack is what ordering needs to know about one stack.
type Stack struct {
	// Path is the project path of the stack directory ("/stacks/app").
	Path string
	// Tags are the stack's tags, sorted.
	Tags []string
	// Decl is the range of the stack block, named by parent edges.
	Decl hcl.Range

	After, Before, Wants, WantedBy Refs
	// Inputs are the stacks this one reads outputs from (Terramate's
	// input blocks): each runs before it.
	Inputs []InputRef
}

// InputRef is one input block: it reads the outputs of the stack at
// Source (a project path, resolved from the block's from_stack_id).
type InputRef struct {
	Source string
	Name   string    // the input's name
	Range  hcl.Range // the input block
}

// Refs is one reference attribute of a stack: its entries as written and
// the range of the attribute that declared them.
type Refs struct {
	List  []string
	Range hcl.Range
}

// refKind names the four reference attributes.
type refKind uint8

const (
	refAfter refKind = iota
	refBefore
	refWants
	refWantedBy
	numRefKinds
)

var refNames = [numRefKinds]string{"after", "before", "wants", "wanted_by"}

func (s *Stack) refs(k refKind) *Refs {
	switch k {
	case refAfter:
		return &s.After
	case refBefore:
		return &s.Before
	case refWants:
		return &s.Wants
	default:
		return &s.WantedBy
	}
}

// target is one stack a reference resolved to: the stack's index and the
// index of the first entry (in Refs.List) that selected it.
type target struct {
	stack int32
	entry int32
}

// Index holds every stack of a project with its references resolved. It is
// immutable after NewIndex and safe for concurrent use; building it is
// O(S log S + R + M) for S stacks, R reference entries and M stacks those
// entries match.
type Index struct {
	stacks []Stack // sorted by Path (Go string order)
	byPath map[string]int32

	// tree holds stack indices in tree order: sorted as if '/' sorted
	// before every other byte, so that every subtree is one contiguous
	// run. treePos maps a stack index to its position in tree, and
	// treeEnd maps a position to the end of that stack's subtree run.
	tree    []int32
	treePos []int32
	treeEnd []int32

	tags map[string][]int32 // tag -> stacks carrying it, ascending
	refs [numRefKinds][][]target
	// inputs are the sources of each stack's input blocks; entry
	// indexes Stack.Inputs.
	inputs [][]target
}

// NewIndex indexes stacks (in any order; paths must be unique and clean)
// and resolves all their references. The diagnostics are warnings for
// entries that match no stack and for cycles among wants/wanted_by, which
// only add stacks and never order them.
func NewIndex(stacks []Stack) (*Index, hcl.Diagnostics) {
	x := &Index{
		stacks: make([]Stack, len(stacks)),
		byPath: make(map[string]int32, len(stacks)),
		tags:   map[string][]int32{},
	}
	// Sort a permutation: a Stack is too large to swap cheaply.
	perm := make([]int32, len(stacks))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int { return strings.Compare(stacks[a].Path, stacks[b].Path) })
	for i, j := range perm {
		x.stacks[i] = stacks[j]
	}
	for i := range x.stacks {
		x.byPath[x.stacks[i].Path] = int32(i)
		if t := x.stacks[i].Tags; !slices.IsSorted(t) {
			x.stacks[i].Tags = slices.Compact(slices.Sorted(slices.Values(t)))
		}
		for _, t := range x.stacks[i].Tags {
			x.tags[t] = append(x.tags[t], int32(i))
		}
	}
	x.buildTree()
	r := resolver{x: x, mark: make([]uint32, len(x.stacks))}
	for k := range numRefKinds {
		// All targets of one kind share one array; ends[i] marks where
		// stack i's run ends.
		var all []target
		ends := make([]int, len(x.stacks))
		for i := range x.stacks {
			all = r.resolve(all, int32(i), k)
			ends[i] = len(all)
		}
		x.refs[k] = make([][]target, len(x.stacks))
		start := 0
		for i, end := range ends {
			x.refs[k][i] = all[start:end:end]
			start = end
		}
	}
	diags := x.resolveInputs()
	return x, append(append(r.diags, diags...), x.wantsCycles()...)
}

// resolveInputs finds the source of every input block. A source that is
// no stack is an error: an input names exactly one stack.
func (x *Index) resolveInputs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	x.inputs = make([][]target, len(x.stacks))
	for i := range x.stacks {
		s := &x.stacks[i]
		for e, in := range s.Inputs {
			j, ok := x.byPath[in.Source]
			if !ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unknown source stack",
					Detail:   fmt.Sprintf("The input %s of stack %s reads the outputs of %s, which is no stack. Name an existing stack.", in.Name, s.Path, in.Source),
					Subject:  subject(in.Range),
				})
				continue
			}
			x.inputs[i] = append(x.inputs[i], target{stack: j, entry: int32(e)})
		}
	}
	return diags
}

// treeCompare compares project paths as if '/' sorted before every other
// byte, which keeps each directory's subtree contiguous ("/a", "/a/b",
// "/a-b" rather than Go's "/a", "/a-b", "/a/b").
func treeCompare(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

func (x *Index) buildTree() {
	n := len(x.stacks)
	x.tree = make([]int32, n)
	for i := range x.tree {
		x.tree[i] = int32(i)
	}
	slices.SortFunc(x.tree, func(a, b int32) int { return treeCompare(x.stacks[a].Path, x.stacks[b].Path) })
	x.treePos = make([]int32, n)
	x.treeEnd = make([]int32, n)
	var open []int32 // positions of the enclosing stacks still open
	for pos, i := range x.tree {
		x.treePos[i] = int32(pos)
		p := x.stacks[i].Path
		for len(open) > 0 && !projectpath.IsBelow(p, x.stacks[x.tree[open[len(open)-1]]].Path) {
			x.treeEnd[open[len(open)-1]] = int32(pos)
			open = open[:len(open)-1]
		}
		open = append(open, int32(pos))
	}
	for _, pos := range open {
		x.treeEnd[pos] = int32(n)
	}
}

// subtree returns the tree positions [lo, hi) of the stacks at or below
// the project path dir. O(log S).
func (x *Index) subtree(dir string) (lo, hi int32) {
	if i, ok := x.byPath[dir]; ok {
		pos := x.treePos[i]
		return pos, x.treeEnd[pos]
	}
	i, _ := slices.BinarySearchFunc(x.tree, dir, func(s int32, d string) int { return treeCompare(x.stacks[s].Path, d) })
	lo = int32(i)
	if i == len(x.tree) || !projectpath.IsBelow(x.stacks[x.tree[i]].Path, dir) {
		return lo, lo
	}
	// dir is no stack: the run ends at the first path not below it.
	j, _ := slices.BinarySearchFunc(x.tree[i:], dir, func(s int32, d string) int {
		if projectpath.IsBelow(x.stacks[s].Path, d) {
			return -1
		}
		return 1
	})
	return lo, lo + int32(j)
}

// resolver resolves reference entries; mark deduplicates targets per call.
type resolver struct {
	x     *Index
	mark  []uint32
	gen   uint32
	diags hcl.Diagnostics
}

// resolve appends to out the stacks the k references of stack i select,
// each once, in path order.
func (r *resolver) resolve(out []target, i int32, k refKind) []target {
	s := &r.x.stacks[i]
	refs := s.refs(k)
	if len(refs.List) == 0 {
		return out
	}
	r.gen++
	first := len(out)
	add := func(lo, hi int32, entry int) int {
		for pos := lo; pos < hi; pos++ {
			t := r.x.tree[pos]
			if r.mark[t] != r.gen {
				r.mark[t] = r.gen
				out = append(out, target{stack: t, entry: int32(entry)})
			}
		}
		return int(hi - lo)
	}
	for e, ref := range refs.List {
		matched := 0
		if query, ok := strings.CutPrefix(ref, "tag:"); ok {
			for _, m := range r.x.matchTags(query) {
				pos := r.x.treePos[m]
				matched += add(pos, r.x.treeEnd[pos], e)
			}
		} else if dir, ok := projectpath.Join(s.Path, ref); ok {
			lo, hi := r.x.subtree(dir)
			matched = add(lo, hi, e)
		} else {
			// Unlike a reference that matches nothing, which a moved stack
			// can leave behind, one that climbs out of the repository is
			// always a mistake.
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference outside the project",
				Detail:   fmt.Sprintf("The %s entry %q of stack %s leaves the project root. Reference stacks inside the repository: an absolute path starts at the root, a relative one at the stack.", refNames[k], ref, s.Path),
				Subject:  subject(s.refs(k).Range),
			})
			continue
		}
		if matched == 0 {
			what := "path"
			if strings.HasPrefix(ref, "tag:") {
				what = "tag query"
			}
			r.warn(s, k, fmt.Sprintf("The %s entry %q of stack %s matches no stack, so it %s nothing. Fix the %s or remove the entry.", refNames[k], ref, s.Path, kindVerb(k), what))
		}
	}
	slices.SortFunc(out[first:], func(a, b target) int { return int(a.stack - b.stack) })
	return out
}

func kindVerb(k refKind) string {
	if k == refWants || k == refWantedBy {
		return "selects"
	}
	return "orders"
}

func (r *resolver) warn(s *Stack, k refKind, detail string) {
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Reference matches no stack",
		Detail:   detail,
		Subject:  subject(s.refs(k).Range),
	})
}

// subject returns r for a diagnostic, or nil when r is unset.
func subject(r hcl.Range) *hcl.Range {
	if r.Filename == "" {
		return nil
	}
	return &r
}

// matchTags returns the stacks matching a tag query in Terramate's
// language: "a:b" is AND, "a,b" is OR, AND binding tighter. An empty tag
// matches nothing.
func (x *Index) matchTags(query string) []int32 {
	var out []int32
	for clause := range strings.SplitSeq(query, ",") {
		tags := strings.Split(clause, ":")
		// Scan the rarest tag's stacks and check the others.
		slices.SortFunc(tags, func(a, b string) int { return len(x.tags[a]) - len(x.tags[b]) })
		for _, i := range x.tags[tags[0]] {
			if x.hasTags(i, tags[1:]) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (x *Index) hasTags(i int32, tags []string) bool {
	for _, t := range tags {
		if _, ok := slices.BinarySearch(x.stacks[i].Tags, t); !ok {
			return false
		}
	}
	return true
}
