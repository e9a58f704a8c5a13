package changes

import (
	"context"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/internal/projectpath"
	"github.com/tmci/tmci/project"
)

// ReasonKind says why a stack counts as changed.
type ReasonKind string

// The reasons a stack changes, in the order --why lists them.
const (
	// ReasonFile: a file the stack owns changed (the nearest enclosing
	// stack owns a file; a nested stack is not part of its parent).
	ReasonFile ReasonKind = "file"
	// ReasonWatch: a file in the stack's watch list changed.
	ReasonWatch ReasonKind = "watch"
	// ReasonModule: a local module the stack sources, directly or through
	// other modules, holds a changed file.
	ReasonModule ReasonKind = "module"
	// ReasonConfig: a tmci.hcl at or above the stack changed.
	ReasonConfig ReasonKind = "tmci.hcl"
	// ReasonTrigger: a .tmtriggers file of type changed names the stack.
	ReasonTrigger ReasonKind = "trigger"
)

var reasonOrder = map[ReasonKind]int{ReasonFile: 0, ReasonWatch: 1, ReasonModule: 2, ReasonConfig: 3, ReasonTrigger: 4}

// Reason is one cause of a stack's change.
type Reason struct {
	Kind ReasonKind `json:"kind"`
	// File is the changed file (for a trigger, the trigger file).
	File string `json:"file"`
	// Origin says where the file's change was seen.
	Origin string `json:"origin"`
	// Deleted is true when File is gone.
	Deleted bool `json:"deleted"`
	// Modules is, for ReasonModule, the chain of module directories from
	// the one the stack sources to the one holding File.
	Modules []string `json:"modules,omitempty"`
}

// String renders the reason for --why.
func (r Reason) String() string {
	verb := "changed"
	if r.Deleted {
		verb = "deleted"
	}
	var s string
	switch r.Kind {
	case ReasonFile:
		s = verb + " file " + r.File
	case ReasonWatch:
		s = "watched file " + r.File + " " + verb
	case ReasonModule:
		s = "module " + strings.Join(r.Modules, " -> ") + ": " + verb + " file " + r.File
	case ReasonConfig:
		s = "tmci.hcl " + verb + ": " + r.File
	case ReasonTrigger:
		s = "triggered by " + r.File
	}
	if r.Origin != "" && r.Origin != Committed.String() {
		s += " (" + r.Origin + ")"
	}
	return s
}

// Changed is a changed stack with every reason found.
type Changed struct {
	Stack   *project.Stack
	Reasons []Reason
}

// Deleted is a stack that existed at the base and is gone: its state is
// orphaned in every environment.
type Deleted struct {
	Path string `json:"path"`
	ID   string `json:"id"`
	// File is the config file that declared the stack at the base.
	File string `json:"file"`
}

// Moved is a stack whose directory changed since the base while its id
// stayed: Terramate's identity of the stack is the same. Whether its
// state follows depends on the backend template (a key built from the
// path does not, one built from terramate.stack.id does).
type Moved struct {
	// From is the stack's path at the base, To its path now.
	From string `json:"from"`
	To   string `json:"to"`
	ID   string `json:"id"`
	// File is the config file that declared the stack at the base.
	File string `json:"file"`
}

// Result is the change mapped onto a project.
type Result struct {
	// Changed holds the changed stacks in path order.
	Changed []*Changed
	// Deleted holds the stacks gone since the base, in path order; a
	// stack whose id lives on at another path is in Moved instead.
	Deleted []Deleted
	// Moved holds the stacks moved since the base, by their old path.
	Moved []Moved
	// Ignored holds stacks that changed but carry an ignore-change trigger,
	// with the reasons they would have had.
	Ignored []*Changed
}

// KeepBelow drops the deleted stacks that were not at or below the
// project directory dir, and the moves that neither left nor reached it,
// so that they follow a working directory as the listed stacks do.
func (r *Result) KeepBelow(dir string) {
	deleted := r.Deleted[:0]
	for _, del := range r.Deleted {
		if projectpath.IsBelow(del.Path, dir) {
			deleted = append(deleted, del)
		}
	}
	r.Deleted = deleted
	moved := r.Moved[:0]
	for _, m := range r.Moved {
		if projectpath.IsBelow(m.From, dir) || projectpath.IsBelow(m.To, dir) {
			moved = append(moved, m)
		}
	}
	r.Moved = moved
}

// Map puts the changed files of d onto the stacks of p. Problems in files
// the user wrote (an unparsable .tf file or trigger) are diagnostics; the
// result is still complete for everything else. When ctx is cancelled the
// module scan stops early and the result is incomplete: check ctx.Err().
func Map(ctx context.Context, p *project.Project, d *Diff) (*Result, hcl.Diagnostics) {
	m := &mapper{p: p, d: d, changed: map[string]*Changed{}, ignored: map[string]bool{}}
	if len(d.Files) == 0 {
		return &Result{}, nil
	}
	watchers := map[string][]*project.Stack{}
	for _, s := range p.Stacks {
		for _, w := range s.Watch {
			watchers[w] = append(watchers[w], s)
		}
	}
	var deletedCandidates []File
	for _, f := range d.Files {
		origin := f.Origin.String()
		if strings.HasPrefix(f.Path, triggersDir+"/") {
			m.trigger(f)
			continue
		}
		dir := path.Dir(f.Path)
		if path.Base(f.Path) == project.ConfigFileName {
			for _, s := range p.StacksBelow(dir) {
				m.add(s, Reason{Kind: ReasonConfig, File: f.Path, Origin: origin, Deleted: f.Deleted})
			}
		}
		if s := p.StackOf(dir); s != nil {
			m.add(s, Reason{Kind: ReasonFile, File: f.Path, Origin: origin, Deleted: f.Deleted})
		}
		for _, s := range watchers[f.Path] {
			m.add(s, Reason{Kind: ReasonWatch, File: f.Path, Origin: origin, Deleted: f.Deleted})
		}
		if isConfigFile(f.Path) && p.Stack(dir) == nil {
			deletedCandidates = append(deletedCandidates, f)
		}
	}
	m.modules(ctx)
	res := &Result{}
	res.Deleted, res.Moved = splitMoved(p, m.deletedStacks(deletedCandidates))
	for _, c := range m.changed {
		sort.SliceStable(c.Reasons, func(i, j int) bool {
			a, b := c.Reasons[i], c.Reasons[j]
			if a.Kind != b.Kind {
				return reasonOrder[a.Kind] < reasonOrder[b.Kind]
			}
			return a.File < b.File
		})
		if m.ignored[c.Stack.Path] {
			res.Ignored = append(res.Ignored, c)
		} else {
			res.Changed = append(res.Changed, c)
		}
	}
	byPath := func(l []*Changed) {
		sort.Slice(l, func(i, j int) bool { return l[i].Stack.Path < l[j].Stack.Path })
	}
	byPath(res.Changed)
	byPath(res.Ignored)
	return res, m.diags
}

// mapper holds the state of one Map call.
type mapper struct {
	p       *project.Project
	d       *Diff
	changed map[string]*Changed
	ignored map[string]bool
	diags   hcl.Diagnostics
}

func (m *mapper) add(s *project.Stack, r Reason) {
	c := m.changed[s.Path]
	if c == nil {
		c = &Changed{Stack: s}
		m.changed[s.Path] = c
	}
	for _, have := range c.Reasons {
		if have.Kind == r.Kind && have.File == r.File {
			return
		}
	}
	c.Reasons = append(c.Reasons, r)
}

// isConfigFile reports whether a project path names a Terramate config file.
func isConfigFile(p string) bool {
	b := path.Base(p)
	return !strings.HasPrefix(b, ".") && (strings.HasSuffix(b, ".tm") || strings.HasSuffix(b, ".tm.hcl"))
}

// changedBelow returns the first changed file at or below the project
// directory dir, in O(log n) over the sorted files.
func (d *Diff) changedBelow(dir string) (File, bool) {
	prefix := dir + "/"
	if dir == "/" {
		prefix = "/"
	}
	i := sort.Search(len(d.Files), func(i int) bool { return d.Files[i].Path >= prefix })
	if i < len(d.Files) && strings.HasPrefix(d.Files[i].Path, prefix) {
		return d.Files[i], true
	}
	return File{}, false
}

func (m *mapper) warn(summary, detail string, rng *hcl.Range) {
	m.diags = append(m.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: rng})
}

func (m *mapper) fail(summary, detail string, rng *hcl.Range) {
	m.diags = append(m.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng})
}

// fileRange is a range pointing at the start of a project file, for
// diagnostics about a whole file.
func fileRange(projectPath string) *hcl.Range {
	return &hcl.Range{Filename: strings.TrimPrefix(projectPath, "/"), Start: hcl.InitialPos, End: hcl.InitialPos}
}
