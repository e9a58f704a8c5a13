package project

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// OutputsSharing is the experiment that enables Terramate's
// sharing_backend, input and output blocks.
const OutputsSharing = "outputs-sharing"

// SharingBackend is a Terramate sharing_backend "<name>" block: how the
// outputs of a stack are read (Command, run in the source stack) and
// which file `terramate generate` writes the variable and output blocks
// into (Filename). Terramate looks a name up from the stack's directory
// up to the root, the nearest winning.
type SharingBackend struct {
	Name     string
	Dir      string // project path of the declaring directory
	Filename string
	Command  []string
	// CommandRange is the command attribute's expression.
	CommandRange hcl.Range
	DeclRange    hcl.Range
}

// SharedInput is an input "<name>" block of a stack directory: the
// terraform variable Name receives Value, evaluated with the outputs of
// the stack FromStackID names (outputs.<output>.value), or Mock when
// those outputs cannot give it. The expressions are the repository's,
// evaluated by the caller in the stack's scope.
type SharedInput struct {
	Name                                    string
	Backend, FromStackID, Value, Mock, Sens hcl.Expression // Mock and Sens may be nil
	DeclRange                               hcl.Range
}

// sharingBlock is an outputs-sharing block waiting for the experiment
// check (parseSharing).
type sharingBlock struct {
	dc    *dirConfig
	block *hclsyntax.Block
}

// parseSharing reads the sharing_backend, input and output blocks once
// the experiment is known to be enabled (without it checkExperimental
// has already refused each block), checking their attributes as
// Terramate 0.17.2 does. Input blocks outside a stack directory are
// kept but never used, as in Terramate.
func (l *loader) parseSharing() {
	if !slices.Contains(l.experiments, OutputsSharing) {
		return
	}
	for _, sb := range l.sharing {
		b := sb.block
		if len(b.Labels) != 1 {
			continue // checkExperimental said so
		}
		switch b.Type {
		case "sharing_backend":
			if be := l.sharingBackend(b); be != nil {
				be.Dir = sb.dc.path
				sb.dc.sharingBackends = append(sb.dc.sharingBackends, be)
			}
		case "input":
			attrs := l.sharingAttrs(b, []string{"backend", "from_stack_id", "value"}, "sensitive", "mock")
			if attrs == nil {
				continue
			}
			in := &SharedInput{Name: b.Labels[0], Backend: attrs["backend"], FromStackID: attrs["from_stack_id"],
				Value: attrs["value"], Mock: attrs["mock"], Sens: attrs["sensitive"], DeclRange: b.DefRange()}
			if err := ValidateInputName(in.Name); err != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid input name",
					Detail: err.Error() + ".", Subject: b.LabelRanges[0].Ptr()})
				continue
			}
			for _, prev := range sb.dc.inputs {
				if prev.Name == in.Name {
					l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate input block",
						Detail:  fmt.Sprintf("The input %s is already declared at %s; declare it once per stack.", in.Name, prev.DeclRange),
						Subject: b.LabelRanges[0].Ptr()})
					in = nil
					break
				}
			}
			if in != nil {
				sb.dc.inputs = append(sb.dc.inputs, in)
			}
		case "output":
			// Only `terramate generate` reads outputs; tmci checks them.
			l.sharingAttrs(b, []string{"backend", "value"}, "sensitive", "description")
		}
	}
}

// sharingAttrs checks the attributes of an outputs-sharing block: each
// of required must be there, and nothing but required and optional.
// It returns the expressions by name, or nil after a problem.
func (l *loader) sharingAttrs(b *hclsyntax.Block, required []string, optional ...string) map[string]hcl.Expression {
	out := map[string]hcl.Expression{}
	ok := true
	for _, nb := range b.Body.Blocks {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported block type",
			Detail:  fmt.Sprintf("A %s block holds attributes only; remove the %s block.", b.Type, nb.Type),
			Subject: nb.TypeRange.Ptr()})
		ok = false
	}
	for _, attr := range sortedAttrs(b.Body.Attributes) {
		if !slices.Contains(required, attr.Name) && !slices.Contains(optional, attr.Name) {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute",
				Detail:  fmt.Sprintf("A %s block has no attribute %s; it takes %v, and optionally %v.", b.Type, attr.Name, required, optional),
				Subject: attr.NameRange.Ptr()})
			ok = false
			continue
		}
		out[attr.Name] = attr.Expr
	}
	for _, name := range required {
		if _, set := out[name]; !set {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing attribute",
				Detail:  fmt.Sprintf("The %s block %q needs a %s attribute.", b.Type, b.Labels[0], name),
				Subject: b.DefRange().Ptr()})
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return out
}

// sharingBackend reads a sharing_backend block: type = terraform, a
// non-empty filename string and a non-empty command list of strings,
// each a constant (functions only), as Terramate evaluates them.
func (l *loader) sharingBackend(b *hclsyntax.Block) *SharingBackend {
	attrs := l.sharingAttrs(b, []string{"type", "filename", "command"})
	if attrs == nil {
		return nil
	}
	bad := func(expr hcl.Expression, detail string) *SharingBackend {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid sharing_backend",
			Detail: detail, Subject: expr.Range().Ptr()})
		return nil
	}
	if kw := hcl.ExprAsKeyword(attrs["type"]); kw != "terraform" {
		return bad(attrs["type"], "The only sharing backend type is terraform: write type = terraform.")
	}
	ctx := &hcl.EvalContext{Functions: l.p.funcs}
	fv, diags := attrs["filename"].Value(ctx)
	if diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return nil
	}
	if fv.IsNull() || !fv.IsKnown() || fv.Type() != cty.String || fv.AsString() == "" {
		return bad(attrs["filename"], `filename must be a non-empty string, like "sharing_generated.tf".`)
	}
	cv, diags := attrs["command"].Value(ctx)
	if diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return nil
	}
	var command []string
	if cv.IsNull() || !cv.IsWhollyKnown() || !(cv.Type().IsListType() || cv.Type().IsTupleType()) || cv.LengthInt() == 0 {
		return bad(attrs["command"], `command must be a non-empty list of strings, like ["terraform", "output", "-json"].`)
	}
	for it := cv.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return bad(attrs["command"], `command must be a non-empty list of strings, like ["terraform", "output", "-json"].`)
		}
		command = append(command, e.AsString())
	}
	return &SharingBackend{Name: b.Labels[0], Filename: fv.AsString(), Command: command,
		CommandRange: attrs["command"].Range(), DeclRange: b.DefRange()}
}

// SharedInputs returns the input blocks of the stack at project path
// stackPath, in source order.
func (p *Project) SharedInputs(stackPath string) []*SharedInput {
	if dc := p.dirs[stackPath]; dc != nil {
		return dc.inputs
	}
	return nil
}

// SharingBackend returns the sharing_backend called name that applies
// to the directory at project path dir: the nearest declaration from dir
// up to the root.
func (p *Project) SharingBackend(dir, name string) (*SharingBackend, bool) {
	dirs := ancestors(dir)
	for i := len(dirs) - 1; i >= 0; i-- {
		if dc := p.dirs[dirs[i]]; dc != nil {
			for _, b := range dc.sharingBackends {
				if b.Name == name {
					return b, true
				}
			}
		}
	}
	return nil, false
}
