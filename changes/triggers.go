package changes

import (
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
)

// triggersDir holds Terramate's trigger files: a file below
// /.tmtriggers/<stack path>/ marks that stack changed (type = changed) or
// makes change detection ignore it (type = ignore-change).
const triggersDir = "/.tmtriggers"

// Trigger types, as `terramate trigger` writes them.
const (
	triggerChanged = "changed"
	triggerIgnore  = "ignore-change"
)

// trigger applies one changed trigger file. A deleted trigger file does
// nothing, as in Terramate.
func (m *mapper) trigger(f File) {
	if f.Deleted {
		return
	}
	stackPath := path.Dir(strings.TrimPrefix(f.Path, triggersDir))
	src, err := repofile.Read(m.p.FSPath(f.Path), project.MaxConfigSize)
	if err != nil {
		m.fail("Unreadable trigger file", err.Error()+".", fileRange(f.Path))
		return
	}
	kind, ok := m.parseTrigger(f.Path, src)
	if !ok {
		return
	}
	s := m.p.Stack(stackPath)
	if s == nil {
		// Silent, as in Terramate: the trigger of a stack since deleted
		// or moved is common and harmless.
		return
	}
	switch kind {
	case triggerChanged:
		m.add(s, Reason{Kind: ReasonTrigger, File: f.Path, Origin: f.Origin.String()})
	case triggerIgnore:
		m.ignored[s.Path] = true
	}
}

// parseTrigger reads the type of a trigger file: `trigger { type = ... }`
// with type a keyword or a string; a missing type means changed.
func (m *mapper) parseTrigger(p string, src []byte) (string, bool) {
	name := strings.TrimPrefix(p, "/")
	f, diags := boundedhcl.ParseConfig(src, name)
	if diags.HasErrors() {
		m.diags = append(m.diags, diags...)
		return "", false
	}
	body := f.Body.(*hclsyntax.Body)
	var block *hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "trigger" {
			block = b
			break
		}
	}
	if block == nil {
		m.fail("Missing trigger block", "A file below "+triggersDir+" must hold a trigger { type = changed } block; delete the file if it is not a trigger.", fileRange(p))
		return "", false
	}
	attr, ok := block.Body.Attributes["type"]
	if !ok {
		return triggerChanged, true
	}
	kind := hcl.ExprAsKeyword(attr.Expr)
	if kind == "" {
		if v, diags := attr.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			kind = v.AsString()
		}
	}
	if kind != triggerChanged && kind != triggerIgnore {
		m.fail("Invalid trigger type", "The trigger type must be changed or ignore-change.", attr.Expr.Range().Ptr())
		return "", false
	}
	return kind, true
}
