package project

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/tmci/tmci/internal/repofile"
)

// Stack is a directory whose config holds a stack {} block.
type Stack struct {
	// Path is the project path of the stack directory ("/stacks/app").
	Path        string
	ID          string
	Name        string // defaults to the directory's base name
	Description string
	Tags        []string // sorted, unique
	After       []string
	Before      []string
	Wants       []string
	WantedBy    []string
	Watch       []string

	// DeclRange is the range of the stack block's header.
	DeclRange hcl.Range
	ranges    map[string]hcl.Range
}

// AttrRange returns the range of the named stack attribute's expression, or
// the block header's range when the attribute is not set.
func (s *Stack) AttrRange(name string) hcl.Range {
	if r, ok := s.ranges[name]; ok {
		return r
	}
	return s.DeclRange
}

// HasTag reports whether the stack carries tag.
func (s *Stack) HasTag(tag string) bool {
	i := sort.SearchStrings(s.Tags, tag)
	return i < len(s.Tags) && s.Tags[i] == tag
}

var (
	stackIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	tagPattern     = regexp.MustCompile(`^[a-z0-9]([a-z0-9_./-]*[a-z0-9])?$`)
)

// ValidTag reports whether tag is a valid Terramate tag.
func ValidTag(tag string) bool { return tagPattern.MatchString(tag) }

// stackListAttrs are the stack attributes holding sets of strings.
var stackListAttrs = []string{"tags", "after", "before", "wants", "wanted_by", "watch"}

// stackBlock decodes and validates a stack block into dc.
func (l *loader) stackBlock(dc *dirConfig, block *hclsyntax.Block) {
	if dc.stack != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate stack block",
			Detail:   fmt.Sprintf("Directory %s already declares a stack at %s; a directory holds one stack block at most.", dc.path, dc.stack.DeclRange),
			Subject:  block.DefRange().Ptr(),
		})
		return
	}
	if !printable.Safe(dc.path) {
		// The path reaches CI logs, console prefixes and reports: a
		// newline in it could start a GitHub workflow command, an escape
		// sequence could rewrite the console.
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Control character in a stack path",
			Detail:   fmt.Sprintf("The stack directory %s holds a control character (or invalid UTF-8); rename it.", printable.String(dc.path)),
			Subject:  block.DefRange().Ptr(),
		})
		return
	}
	if len(block.Labels) > 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected stack label",
			Detail:   "A stack block takes no labels; write stack { ... }.",
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	s := &Stack{
		Path:      dc.path,
		Name:      path.Base(dc.path),
		DeclRange: block.DefRange(),
		ranges:    map[string]hcl.Range{},
	}
	if dc.path == "/" {
		s.Name = path.Base(l.p.Root)
	}
	for _, b := range block.Body.Blocks {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   "A stack block holds attributes only; remove the " + b.Type + " block.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	ctx := &hcl.EvalContext{Functions: l.p.funcs}
	for _, attr := range sortedAttrs(block.Body.Attributes) {
		s.ranges[attr.Name] = attr.Expr.Range()
		switch attr.Name {
		case "id", "name", "description":
			v, ok := l.stringAttr(ctx, attr)
			if !ok {
				continue
			}
			switch attr.Name {
			case "id":
				if !stackIDPattern.MatchString(v) {
					l.diags = append(l.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid stack id",
						Detail:   fmt.Sprintf("The id %q must be 1 to 64 letters, digits, '-' or '_'.", v),
						Subject:  attr.Expr.Range().Ptr(),
					})
					continue
				}
				s.ID = v
			case "name":
				s.Name = v
			case "description":
				s.Description = v
			}
		case "tags", "after", "before", "wants", "wanted_by", "watch":
			list, ok := l.stringSetAttr(ctx, attr)
			if !ok {
				continue
			}
			switch attr.Name {
			case "tags":
				for _, t := range list {
					if !ValidTag(t) {
						l.diags = append(l.diags, &hcl.Diagnostic{
							Severity: hcl.DiagError,
							Summary:  "Invalid tag",
							Detail:   fmt.Sprintf("The tag %q must start and end with a lowercase letter or digit and hold only a-z, 0-9, '-', '_', '.' and '/'.", t),
							Subject:  attr.Expr.Range().Ptr(),
						})
					}
				}
				sort.Strings(list)
				s.Tags = list
			case "after":
				s.After = list
			case "before":
				s.Before = list
			case "wants":
				s.Wants = list
			case "wanted_by":
				s.WantedBy = list
			case "watch":
				s.Watch = l.watchPaths(s, attr, list)
			}
		default:
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported stack attribute",
				Detail: fmt.Sprintf("A stack has no attribute %q; the attributes are id, name, description, %s.",
					attr.Name, strings.Join(stackListAttrs, ", ")),
				Subject: attr.NameRange.Ptr(),
			})
		}
	}
	dc.stack = s
}

// watchPaths turns watch entries into project paths and rejects entries
// that leave the project root.
func (l *loader) watchPaths(s *Stack, attr *hclsyntax.Attribute, list []string) []string {
	out := make([]string, 0, len(list))
	for _, w := range list {
		p, ok := projectpath.Join(s.Path, w)
		if !ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Watch path outside the project",
				Detail:   fmt.Sprintf("The watch entry %q of stack %s leaves the project root; watch files inside the repository only.", w, s.Path),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		if target, err := l.root.Inside(l.p.FSPath(p)); errors.Is(err, repofile.ErrOutside) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Watch path outside the project",
				Detail:   fmt.Sprintf("The watch entry %q of stack %s resolves to %s through a symbolic link; watch files inside the repository only.", w, s.Path, target),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		out = append(out, p)
	}
	return out
}

// stringAttr evaluates attr with functions only and wants a string.
func (l *loader) stringAttr(ctx *hcl.EvalContext, attr *hclsyntax.Attribute) (string, bool) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return "", false
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid stack " + attr.Name,
			Detail:   fmt.Sprintf("The stack attribute %s must be a string, not %s.", attr.Name, friendlyType(v)),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return "", false
	}
	return v.AsString(), true
}

// stringSetAttr evaluates attr with functions only and wants a list or set
// of unique strings.
func (l *loader) stringSetAttr(ctx *hcl.EvalContext, attr *hclsyntax.Attribute) ([]string, bool) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return nil, false
	}
	bad := func(detail string) ([]string, bool) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid stack " + attr.Name,
			Detail:   detail,
			Subject:  attr.Expr.Range().Ptr(),
		})
		return nil, false
	}
	ty := v.Type()
	if v.IsNull() || !v.IsKnown() || !(ty.IsListType() || ty.IsSetType() || ty.IsTupleType()) {
		return bad(fmt.Sprintf("The stack attribute %s must be a list of strings, not %s.", attr.Name, friendlyType(v)))
	}
	out := make([]string, 0, v.LengthInt())
	seen := map[string]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() || e.Type() != cty.String {
			return bad(fmt.Sprintf("Every element of %s must be a string, not %s.", attr.Name, friendlyType(e)))
		}
		str := e.AsString()
		if seen[str] {
			return bad(fmt.Sprintf("The element %q appears twice in %s; list it once.", str, attr.Name))
		}
		seen[str] = true
		out = append(out, str)
	}
	return out, true
}

func friendlyType(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Type().FriendlyName()
}

// sortedAttrs returns the attributes of a body in source order.
func sortedAttrs(attrs hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}
