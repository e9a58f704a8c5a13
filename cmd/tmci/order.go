package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/dag"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/sharing"
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
	// noWants leaves the wants closure out of grow: list prints what
	// terramate list prints, which never adds wanted stacks.
	noWants bool
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

// load loads the project and picks the selection's starting stacks.
func (s *selection) load(a *app) (*project.Project, []*project.Stack, error) {
	p, err := a.loadProject()
	if err != nil {
		return nil, nil, err
	}
	stacks, err := s.pick(a, p)
	return p, stacks, err
}

// pick returns the stacks the selection starts from that pass the tag
// filters, in path order.
func (s *selection) pick(a *app, p *project.Project) ([]*project.Stack, error) {
	filter, err := project.ParseTagFilter(s.tags, s.noTags)
	if err != nil {
		return nil, shared(err)
	}
	base, err := s.base(a, p)
	if err != nil {
		return nil, err
	}
	var stacks []*project.Stack
	for _, st := range base {
		if filter.Match(st) {
			stacks = append(stacks, st)
		}
	}
	return stacks, nil
}

// base returns the stacks the selection starts from, in path order: the
// ones --stack and --stacks-from name, or else every stack at or below
// the working directory. Every bad path is an error (joined).
func (s *selection) base(a *app, p *project.Project) ([]*project.Stack, error) {
	if len(s.stacks) == 0 && s.stacksFrom == "" {
		return p.StacksBelow(a.wdPath(p)), nil
	}
	picked := map[string]*project.Stack{}
	var errs []error
	pick := func(where, ref string) {
		st := a.stackAt(p, ref)
		if st == nil {
			errs = append(errs, a.noStack(p, where, ref))
			return
		}
		picked[st.Path] = st
	}
	for _, ref := range s.stacks {
		pick("--stack", ref)
	}
	if s.stacksFrom != "" {
		data, err := s.readStacksFrom(a, p)
		if err != nil {
			errs = append(errs, shared(fmt.Errorf("--stacks-from: %w", err)))
			return nil, errors.Join(errs...)
		}
		if err := s.pickStacksFrom(a, p, data, picked); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]*project.Stack, 0, len(picked))
	for _, st := range picked {
		out = append(out, st)
	}
	slices.SortFunc(out, func(x, y *project.Stack) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

// readStacksFrom reads the --stacks-from file. Like every relative path
// on the command line, it is relative to the working directory, which -C
// sets. A relative path is the repository's and must stay in it,
// symbolic links resolved; an absolute one is the pipeline's choice.
func (s *selection) readStacksFrom(a *app, p *project.Project) ([]byte, error) {
	from := s.stacksFrom
	var err error
	if !filepath.IsAbs(from) {
		from = filepath.Join(a.wd, from)
		if _, inside := p.ProjectPath(from); !inside {
			err = &fs.PathError{Op: "read", Path: from, Err: repofile.ErrOutside}
		} else if _, err = repofile.Inside(p.Root, from); errors.Is(err, fs.ErrNotExist) {
			err = nil // the read says so
		}
	}
	var data []byte
	if err == nil {
		data, err = repofile.Read(from, project.MaxConfigSize)
	}
	if pe, ok := err.(*fs.PathError); ok {
		pe.Path = s.stacksFrom // name the file as the user did
	}
	return data, err
}

// pickStacksFrom adds the stacks the lines of data name to picked. Not a
// bufio.Scanner: it stops silently at a line over 64 KiB, which would
// drop the rest of the list. A line that names no stack is reported by
// line number only: the file may be anything (a secrets file,
// /proc/self/environ), and its content must not reach a CI log.
func (s *selection) pickStacksFrom(a *app, p *project.Project, data []byte, picked map[string]*project.Stack) error {
	bad, firstBad := 0, 0
	for i, text := range strings.Split(string(data), "\n") {
		ref, _, _ := strings.Cut(text, "#")
		if ref = strings.TrimSpace(ref); ref == "" {
			continue
		}
		if st := a.stackAt(p, ref); st != nil {
			picked[st.Path] = st
		} else if bad++; bad == 1 {
			firstBad = i + 1
		}
	}
	if bad == 0 {
		return nil
	}
	more := ""
	if bad > 1 {
		more = fmt.Sprintf(" (and %d more lines)", bad-1)
	}
	return shared(fmt.Errorf("%s:%d%s: names no stack; list one stack path per line, as 'tmci list' prints them", s.stacksFrom, firstBad, more))
}

// stackRef resolves a --stack value, the one way every command does: a
// project path ("/a/b") or a path relative to the working directory,
// with or without a trailing slash. ok is false when it leaves the
// project.
func (a *app) stackRef(p *project.Project, ref string) (pp string, ok bool) {
	if ref != "/" {
		ref = strings.TrimSuffix(ref, "/")
	}
	return projectpath.Join(a.wdPath(p), ref)
}

// stackAt returns the stack at ref (see stackRef), or nil.
// noStack is the error of a stack reference (--stack, a --stacks-from
// line at where) that names no stack, worded the same by every command:
// a directory of the project without a stack block is said to be one.
func (a *app) noStack(p *project.Project, where, ref string) error {
	if pp, ok := a.stackRef(p, ref); ok {
		if fi, err := os.Stat(p.FSPath(pp)); err == nil && fi.IsDir() {
			return shared(fmt.Errorf("%s %s: %s is not a stack (no stack {} block); run 'tmci list' to see the stacks", where, ref, pp))
		}
	}
	return shared(fmt.Errorf("%s: no stack at %q; run 'tmci list' to see the stacks", where, ref))
}

func (a *app) stackAt(p *project.Project, ref string) *project.Stack {
	pp, ok := a.stackRef(p, ref)
	if !ok {
		return nil
	}
	return p.Stack(pp)
}

// grow indexes the project's stack references (printing their warnings)
// and adds to stacks what they imply; it fails on a reference that
// leaves the root: their wants closure (unless noWants) and, with
// --with-dependents, their dependents. The result is in path order.
func (s *selection) grow(a *app, p *project.Project, stacks []*project.Stack) (*dag.Index, []*project.Stack, error) {
	pl, ok := a.sharingOf(p)
	if !ok {
		return nil, nil, errPrinted
	}
	x, diags := dag.NewIndex(dagStacks(p, pl))
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, nil, errPrinted
	}
	base := make([]string, len(stacks))
	for i, st := range stacks {
		base[i] = st.Path
	}
	grown, err := x.Select(base, dag.SelectOptions{WithDependents: s.withDependents, NoWants: s.noWants})
	if err != nil {
		return nil, nil, shared(fmt.Errorf("selecting stacks: %w", err))
	}
	out := make([]*project.Stack, len(grown))
	for i, path := range grown {
		out[i] = p.Stack(path)
	}
	return x, out, nil
}

// dagStacks describes the project's stacks for package dag, with the
// edges of their input blocks (pl, which may be nil).
func dagStacks(p *project.Project, pl *sharing.Plan) []dag.Stack {
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
			Inputs:   inputRefs(pl, s.Path),
		}
	}
	return out
}

// orderedStacks is the selection step of tmci list that follows the
// filters: it grows the filtered stacks by their dependents (with
// --with-dependents; never by wants, as terramate list), and with --run-order or --reverse puts them in run order.
// waves is nil unless ordered; then waves[i] is the 1-based wave of
// stacks[i] (teardown waves with --reverse). A cycle is printed and
// returned as errPrinted.
func (a *app) orderedStacks(p *project.Project, sel *selection, stacks []*project.Stack) (out []*project.Stack, waves []int, err error) {
	x, stacks, err := sel.grow(a, p, stacks)
	if err != nil {
		return nil, nil, err
	}
	if !sel.runOrder && !sel.reverse {
		return stacks, nil, nil
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return nil, nil, errPrinted
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
	return out, waves, nil
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
