package dag

import (
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// naiveOrder is a slow, literal rendering of Terramate's run order, written
// from the algorithm's description rather than from this package: it
// resolves every reference by scanning all stacks, appends each selected
// nested stack's path to its selected parents' before lists, builds the
// graph by recursion from the selected stacks, and runs Kahn's algorithm
// on maps, sorting each step's ready stacks. ok is false on a cycle.
func naiveOrder(stacks []Stack, selected []string) (order []string, ok bool) {
	byPath := map[string]Stack{}
	for _, s := range stacks {
		byPath[s.Path] = s
	}
	isSel := map[string]bool{}
	for _, p := range selected {
		isSel[p] = true
	}
	under := func(dir string) []string {
		var out []string
		for _, s := range stacks {
			if dir == "/" || s.Path == dir || strings.HasPrefix(s.Path, dir+"/") {
				out = append(out, s.Path)
			}
		}
		return out
	}
	resolve := func(s Stack, refs []string) []string {
		seen := map[string]bool{}
		for _, ref := range refs {
			if q, isTag := strings.CutPrefix(ref, "tag:"); isTag {
				for _, m := range stacks {
					match := false
					for clause := range strings.SplitSeq(q, ",") {
						all := true
						for t := range strings.SplitSeq(clause, ":") {
							all = all && slices.Contains(m.Tags, t)
						}
						match = match || all
					}
					if match {
						for _, p := range under(m.Path) {
							seen[p] = true
						}
					}
				}
				continue
			}
			dir := ref
			if !strings.HasPrefix(ref, "/") {
				dir = path.Join(s.Path, ref)
			}
			for _, p := range under(path.Clean(dir)) {
				seen[p] = true
			}
		}
		return slices.Sorted(func(yield func(string) bool) {
			for p := range seen {
				if !yield(p) {
					return
				}
			}
		})
	}
	before := map[string][]string{}
	for _, s := range stacks {
		before[s.Path] = slices.Clone(s.Before.List)
	}
	for _, a := range selected {
		for _, b := range selected {
			if a != b && strings.HasPrefix(b, a+"/") || a == "/" && b != "/" {
				before[a] = append(before[a], b)
			}
		}
	}
	preds := map[string]map[string]bool{}
	node := func(p string) {
		if preds[p] == nil {
			preds[p] = map[string]bool{}
		}
	}
	visited := map[string]bool{}
	var build func(p string)
	build = func(p string) {
		if visited[p] {
			return
		}
		visited[p] = true
		node(p)
		s := byPath[p]
		afters := resolve(s, s.After.List)
		befores := resolve(s, before[p])
		for _, t := range afters {
			node(t)
			preds[p][t] = true
		}
		for _, t := range befores {
			node(t)
			preds[t][p] = true
		}
		for _, t := range append(afters, befores...) {
			build(t)
		}
	}
	for _, p := range slices.Sorted(slices.Values(selected)) {
		build(p)
	}
	var queue []string
	for p, ps := range preds {
		if len(ps) == 0 {
			queue = append(queue, p)
		}
	}
	slices.Sort(queue)
	var all []string
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		all = append(all, n)
		var next []string
		for p, ps := range preds {
			if ps[n] {
				delete(ps, n)
				if len(ps) == 0 {
					next = append(next, p)
				}
			}
		}
		slices.Sort(next)
		queue = append(queue, next...)
	}
	if len(all) != len(preds) {
		return nil, false
	}
	for _, p := range all {
		if isSel[p] {
			order = append(order, p)
		}
	}
	return order, true
}

// randomProject makes up to 14 stacks in a small tree with names chosen to
// stress path order ("a", "a-b", "a/b"), random tags, and after/before
// entries of every kind.
func randomProject(rng *rand.Rand) []Stack {
	names := []string{"a", "b", "a-b", "a.b", "c"}
	var dirs []string
	var grow func(prefix string, depth int)
	grow = func(prefix string, depth int) {
		for _, n := range names {
			p := prefix + "/" + n
			dirs = append(dirs, p)
			if depth < 2 && rng.IntN(3) == 0 {
				grow(p, depth+1)
			}
		}
	}
	grow("", 0)
	rng.Shuffle(len(dirs), func(i, j int) { dirs[i], dirs[j] = dirs[j], dirs[i] })
	dirs = dirs[:min(len(dirs), 2+rng.IntN(13))]
	if rng.IntN(8) == 0 {
		dirs = append(dirs, "/")
	}
	ref := func(self string) string {
		switch rng.IntN(6) {
		case 0:
			return "tag:" + []string{"x", "y", "x:y", "x,y", "z"}[rng.IntN(5)]
		case 1:
			return "/" + names[rng.IntN(len(names))] // maybe no stack: a directory
		case 2:
			if self != "/" {
				return "../" + names[rng.IntN(len(names))]
			}
		}
		return dirs[rng.IntN(len(dirs))]
	}
	stacks := make([]Stack, len(dirs))
	for i, d := range dirs {
		stacks[i] = Stack{Path: d}
		for _, t := range []string{"x", "y", "z"} {
			if rng.IntN(3) == 0 {
				stacks[i].Tags = append(stacks[i].Tags, t)
			}
		}
		for range rng.IntN(3) / 2 {
			stacks[i].After.List = append(stacks[i].After.List, ref(d))
		}
		for range rng.IntN(3) / 2 {
			stacks[i].Before.List = append(stacks[i].Before.List, ref(d))
		}
		stacks[i].After.List = slices.Compact(stacks[i].After.List)
		stacks[i].Before.List = slices.Compact(stacks[i].Before.List)
	}
	return stacks
}

// TestOrderMatchesNaive compares Build's order with naiveOrder on random
// projects and selections.
func TestOrderMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ordered, cycles := 0, 0
	for iter := range 3000 {
		stacks := randomProject(rng)
		var selected []string
		for _, s := range stacks {
			if rng.IntN(3) > 0 {
				selected = append(selected, s.Path)
			}
		}
		x, _ := NewIndex(stacks)
		g, diags := x.Build(selected)
		want, ok := naiveOrder(stacks, selected)
		if !ok {
			cycles++
			if g != nil || !diags.HasErrors() {
				t.Fatalf("iteration %d: naive order finds a cycle, Build orders %v\nstacks: %+v\nselected: %v", iter, g.Order(), stacks, selected)
			}
			continue
		}
		ordered++
		if g == nil {
			t.Fatalf("iteration %d: Build: %v; naive order %v\nstacks: %+v\nselected: %v", iter, diags, want, stacks, selected)
		}
		if diff := cmp.Diff(want, g.Order(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("iteration %d: order (-naive +Build):\n%s\nstacks: %+v\nselected: %v", iter, diff, stacks, selected)
		}
	}
	t.Logf("%d ordered, %d with cycles", ordered, cycles)
	if ordered < 1000 || cycles < 100 {
		t.Errorf("%d ordered and %d cyclic cases: the generator no longer covers both", ordered, cycles)
	}
}
