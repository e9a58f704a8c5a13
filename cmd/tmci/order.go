package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/project"
)

// selection holds the stack selection and ordering flags shared by the
// commands that act on a set of stacks.
type selection struct {
	tags, noTags   []string
	stacks         []string
	stacksFrom     string
	withDependents bool
	runOrder       bool
	reverse        bool
}

// selectionFlags adds --tags, --no-tags, --stack, --stacks-from and
// --with-dependents to fs, and --run-order and --reverse when ordered is
// true.
func selectionFlags(fs *pflag.FlagSet, ordered bool) *selection {
	s := &selection{}
	fs.StringArrayVar(&s.tags, "tags", nil, "select stacks by tags: `EXPR` with ':' for AND and ',' for OR (repeatable, ORed)")
	fs.StringArrayVar(&s.noTags, "no-tags", nil, "drop stacks that have any of these `TAGS` (comma-separated, repeatable)")
	fs.StringArrayVar(&s.stacks, "stack", nil, "select the stack at `PATH`, relative or /from-the-root, instead of all below the working directory (repeatable)")
	fs.StringVar(&s.stacksFrom, "stacks-from", "", "select the stacks listed in `FILE`, one path per line like --stack ('#' starts a comment)")
	fs.BoolVar(&s.withDependents, "with-dependents", false, "also select every stack that must run after a selected one")
	if ordered {
		fs.BoolVar(&s.runOrder, "run-order", false, "print the stacks in run order (with --json: each with its wave, the stacks that can run together)")
		fs.BoolVar(&s.reverse, "reverse", false, "print the stacks in reverse run order, the order destroy uses")
	}
	return s
}

// load loads the project and picks the selection's starting stacks; it
// returns ok false after printing why.
func (s *selection) load(a *app) (p *project.Project, stacks []*project.Stack, ok bool) {
	if p = a.loadProject(); p == nil {
		return nil, nil, false
	}
	stacks, ok = s.pick(a, p)
	return p, stacks, ok
}

// pick returns the stacks the selection starts from that pass the tag
// filters, in path order. It prints why and returns false on a bad flag.
func (s *selection) pick(a *app, p *project.Project) ([]*project.Stack, bool) {
	filter, err := project.ParseTagFilter(s.tags, s.noTags)
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci: %v\n", err)
		return nil, false
	}
	base, ok := s.base(a, p)
	if !ok {
		return nil, false
	}
	var stacks []*project.Stack
	for _, st := range base {
		if filter.Match(st) {
			stacks = append(stacks, st)
		}
	}
	return stacks, true
}

// base returns the stacks the selection starts from, in path order: the
// ones --stack and --stacks-from name, or else every stack at or below
// the working directory. It prints why and returns false on a bad path.
func (s *selection) base(a *app, p *project.Project) ([]*project.Stack, bool) {
	if len(s.stacks) == 0 && s.stacksFrom == "" {
		return p.StacksBelow(a.wdPath(p)), true
	}
	picked := map[string]*project.Stack{}
	ok := true
	pick := func(where, ref string) {
		st := a.stackAt(p, ref)
		if st == nil {
			fmt.Fprintf(a.stderr, "tmci: %s: no stack at %q; run 'tmci list' to see the stacks\n", where, ref)
			ok = false
			return
		}
		picked[st.Path] = st
	}
	for _, ref := range s.stacks {
		pick("--stack", ref)
	}
	if s.stacksFrom != "" {
		// Like every relative path on the command line, the file is
		// relative to the working directory, which -C sets.
		from := s.stacksFrom
		if !filepath.IsAbs(from) {
			from = filepath.Join(a.wd, from)
		}
		data, err := os.ReadFile(from)
		if pe, ok := err.(*fs.PathError); ok {
			pe.Path = s.stacksFrom // name the file as the user did
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "tmci: --stacks-from: %v\n", err)
			return nil, false
		}
		// Not a bufio.Scanner: it stops silently at a line over 64 KiB,
		// which would drop the rest of the list.
		for i, text := range strings.Split(string(data), "\n") {
			ref, _, _ := strings.Cut(text, "#")
			if ref = strings.TrimSpace(ref); ref != "" {
				pick(fmt.Sprintf("%s:%d", s.stacksFrom, i+1), ref)
			}
		}
	}
	if !ok {
		return nil, false
	}
	out := make([]*project.Stack, 0, len(picked))
	for _, st := range picked {
		out = append(out, st)
	}
	slices.SortFunc(out, func(x, y *project.Stack) int { return strings.Compare(x.Path, y.Path) })
	return out, true
}

// stackAt returns the stack at ref, a project path ("/a/b") or a path
// relative to the working directory, or nil.
func (a *app) stackAt(p *project.Project, ref string) *project.Stack {
	pp, ok := project.JoinPath(a.wdPath(p), strings.TrimSuffix(ref, "/"))
	if !ok {
		return nil
	}
	return p.Stack(pp)
}

// grow indexes the project's stack references (printing their warnings)
// and adds to stacks what they imply; it fails on a reference that
// leaves the root: their wants closure and, with
// --with-dependents, their dependents. The result is in path order.
func (s *selection) grow(a *app, p *project.Project, stacks []*project.Stack) (*dag.Index, []*project.Stack, bool) {
	x, diags := dag.NewIndex(dagStacks(p))
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, nil, false
	}
	base := make([]string, len(stacks))
	for i, st := range stacks {
		base[i] = st.Path
	}
	grown, err := x.Select(base, dag.SelectOptions{WithDependents: s.withDependents})
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci: selecting stacks: %v\n", err)
		return nil, nil, false
	}
	out := make([]*project.Stack, len(grown))
	for i, path := range grown {
		out[i] = p.Stack(path)
	}
	return x, out, true
}

// dagStacks describes the project's stacks for package dag.
func dagStacks(p *project.Project) []dag.Stack {
	out := make([]dag.Stack, len(p.Stacks))
	for i, s := range p.Stacks {
		out[i] = dag.Stack{
			Path:     s.Path,
			Tags:     s.Tags,
			Decl:     s.DeclRange,
			After:    dag.Refs{List: s.After, Range: s.AttrRange("after")},
			Before:   dag.Refs{List: s.Before, Range: s.AttrRange("before")},
			Wants:    dag.Refs{List: s.Wants, Range: s.AttrRange("wants")},
			WantedBy: dag.Refs{List: s.WantedBy, Range: s.AttrRange("wanted_by")},
		}
	}
	return out
}

// orderedStacks is the selection step of tmci list that follows the
// filters: it grows the filtered stacks by their wants closure (and
// dependents), and with --run-order or --reverse puts them in run order.
// waves is nil unless ordered; then waves[i] is the 1-based wave of
// stacks[i] (teardown waves with --reverse). ok is false after a
// cycle, which it prints.
func (a *app) orderedStacks(p *project.Project, sel *selection, stacks []*project.Stack) (out []*project.Stack, waves []int, ok bool) {
	x, stacks, ok := sel.grow(a, p, stacks)
	if !ok {
		return nil, nil, false
	}
	if !sel.runOrder && !sel.reverse {
		return stacks, nil, true
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return nil, nil, false
	}
	waveOf := map[string]int{}
	all := g.Waves()
	if sel.reverse {
		all = g.ReverseWaves()
	}
	for w, wave := range all {
		for _, path := range wave {
			waveOf[path] = w + 1
		}
	}
	order := g.Order()
	if sel.reverse {
		order = g.Reverse()
	}
	out = make([]*project.Stack, len(order))
	waves = make([]int, len(order))
	for i, path := range order {
		out[i] = p.Stack(path)
		waves[i] = waveOf[path]
	}
	return out, waves, true
}

// buildGraph builds the ordering graph of stacks and prints its
// diagnostics; it returns nil after a cycle.
func (a *app) buildGraph(p *project.Project, x *dag.Index, stacks []*project.Stack) *dag.Graph {
	paths := make([]string, len(stacks))
	for i, s := range stacks {
		paths[i] = s.Path
	}
	g, diags := x.Build(paths)
	a.printDiags(p, diags)
	return g
}

// orderedStackJSON is a stack as tmci list --run-order --json prints it.
type orderedStackJSON struct {
	stackJSON
	// Wave is 1-based: the stacks of one wave can run together once the
	// earlier waves are done.
	Wave int `json:"wave"`
}

func newOrderedJSON(stacks []*project.Stack, waves []int) []orderedStackJSON {
	out := make([]orderedStackJSON, len(stacks))
	for i, s := range stacks {
		out[i] = orderedStackJSON{newStackJSON(s), waves[i]}
	}
	return out
}
