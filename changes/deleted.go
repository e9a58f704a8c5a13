package changes

import (
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/project"
)

// deletedStacks finds the stacks that existed at the base and are gone:
// among the changed config files in directories that hold no stack now, the
// ones whose base version declares a stack block. Only changed files are
// read from the base tree, so the cost follows the change.
func (m *mapper) deletedStacks(candidates []File) []Deleted {
	var out []Deleted
	seen := map[string]bool{}
	for _, f := range candidates {
		dir := path.Dir(f.Path)
		if seen[dir] || hiddenPath(dir) {
			continue
		}
		src, ok := m.d.baseFile(f.Path)
		if !ok {
			continue // not in the base: the file is new
		}
		parsed, diags := boundedhcl.ParseConfig(src, f.Path)
		if diags.HasErrors() {
			continue // the base did not load either; nothing was deployed from it
		}
		for _, b := range parsed.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "stack" {
				continue
			}
			seen[dir] = true
			d := Deleted{Path: dir, File: f.Path}
			if attr, ok := b.Body.Attributes["id"]; ok {
				if v, diags := attr.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
					d.ID = v.AsString()
				}
			}
			out = append(out, d)
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// splitMoved separates from the stacks gone since the base those whose
// id (compared case-insensitively, as Terramate does) belongs to a stack
// of p now: they moved. A stack without an id cannot be followed and
// stays deleted. O(stacks + deleted).
func splitMoved(p *project.Project, gone []Deleted) (deleted []Deleted, moved []Moved) {
	byID := map[string]*project.Stack{}
	for _, s := range p.Stacks {
		if s.ID != "" {
			byID[strings.ToLower(s.ID)] = s
		}
	}
	for _, d := range gone {
		if s := byID[strings.ToLower(d.ID)]; d.ID != "" && s != nil {
			moved = append(moved, Moved{From: d.Path, To: s.Path, ID: d.ID, File: d.File})
			continue
		}
		deleted = append(deleted, d)
	}
	return deleted, moved
}

// hiddenPath reports whether a project path passes through a directory
// Terramate skips (a name starting with ".").
func hiddenPath(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}
