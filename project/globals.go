package project

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// globalDef is one global definition: an attribute of a globals block,
// possibly below the block's labels (globals "a" "b" { c = 1 } defines
// global.a.b.c). An empty labelled block defines an empty object and has a
// nil expr.
type globalDef struct {
	path []string
	expr hcl.Expression
	rng  hcl.Range
	dir  string // project path of the directory the definition applies to
}

func (g *globalDef) key() string { return strings.Join(g.path, ".") }

// globalsBlock turns a globals block into definitions for directory dir.
func (l *loader) globalsBlock(block *hclsyntax.Block, dir string) []*globalDef {
	var defs []*globalDef
	for _, b := range block.Body.Blocks {
		if b.Type == "map" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Unsupported globals map block",
				Detail:   "tmci does not evaluate map blocks inside globals yet; the global it defines stays undefined for tmci.",
				Subject:  b.TypeRange.Ptr(),
			})
			continue
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   "A globals block holds attributes (and map blocks); remove the " + b.Type + " block.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	attrs := sortedAttrs(block.Body.Attributes)
	if len(block.Labels) > 0 && len(attrs) == 0 {
		return []*globalDef{{path: block.Labels, rng: block.DefRange(), dir: dir}}
	}
	for _, attr := range attrs {
		p := make([]string, 0, len(block.Labels)+1)
		p = append(append(p, block.Labels...), attr.Name)
		defs = append(defs, &globalDef{path: p, expr: attr.Expr, rng: attr.SrcRange, dir: dir})
	}
	return defs
}

// Scope evaluates expressions in the context of one stack: the merged
// globals of its directory and every parent (the deeper definition wins),
// the terramate.* metadata and the function library. Globals are evaluated
// lazily, each at most once. A Scope is not safe for concurrent use.
type Scope struct {
	p     *Project
	stack *Stack
	defs  map[string][]*globalDef // by root name; a plain definition first
	names []string                // sorted root names
	tm    cty.Value

	values  map[string]cty.Value
	diags   map[string]hcl.Diagnostics
	pending []string // globals being evaluated, innermost last
}

// Scope returns a new evaluation scope for stack s.
func (p *Project) Scope(s *Stack) *Scope {
	merged := map[string]*globalDef{}
	for _, d := range ancestors(s.Path) {
		dc := p.dirs[d]
		if dc == nil {
			continue
		}
		for _, g := range dc.globals {
			merged[g.key()] = g
		}
	}
	byRoot := map[string][]*globalDef{}
	for _, g := range merged {
		byRoot[g.path[0]] = append(byRoot[g.path[0]], g)
	}
	sc := &Scope{
		p:      p,
		stack:  s,
		defs:   map[string][]*globalDef{},
		tm:     p.terramateValue(s),
		values: map[string]cty.Value{},
		diags:  map[string]hcl.Diagnostics{},
	}
	for name, defs := range byRoot {
		// A plain definition replaces labelled extensions made in
		// shallower directories.
		var plain *globalDef
		for _, g := range defs {
			if len(g.path) == 1 {
				plain = g
			}
		}
		kept := defs[:0]
		for _, g := range defs {
			if g == plain || plain == nil || len(g.dir) >= len(plain.dir) {
				if g != plain {
					kept = append(kept, g)
				}
			}
		}
		sort.Slice(kept, func(i, j int) bool {
			if len(kept[i].path) != len(kept[j].path) {
				return len(kept[i].path) < len(kept[j].path)
			}
			return kept[i].key() < kept[j].key()
		})
		if plain != nil {
			kept = append([]*globalDef{plain}, kept...)
		}
		sc.defs[name] = kept
		sc.names = append(sc.names, name)
	}
	sort.Strings(sc.names)
	return sc
}

// ancestors returns "/", then each directory down to and including p.
func ancestors(p string) []string {
	out := []string{"/"}
	if p == "/" {
		return out
	}
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return append(out, p)
}

// Stack returns the stack the scope evaluates for.
func (sc *Scope) Stack() *Stack { return sc.stack }

// Globals evaluates every global of the stack and returns them as an object.
func (sc *Scope) Globals() (cty.Value, hcl.Diagnostics) {
	vals := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, name := range sc.names {
		v, d := sc.global(name, nil)
		diags = appendNew(diags, d)
		if !d.HasErrors() {
			vals[name] = v
		}
	}
	return cty.ObjectVal(vals), diags
}

// Global evaluates global.name. ok is false when no such global is defined.
func (sc *Scope) Global(name string) (v cty.Value, ok bool, diags hcl.Diagnostics) {
	if _, ok := sc.defs[name]; !ok {
		return cty.NilVal, false, nil
	}
	v, diags = sc.global(name, nil)
	return v, true, diags
}

// Eval evaluates expr in the stack's context. vars adds further root
// namespaces (for example environment and env); it must not name global or
// terramate.
func (sc *Scope) Eval(expr hcl.Expression, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	globals, undefined, diags := sc.deps(expr)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	ctx := &hcl.EvalContext{
		Variables: make(map[string]cty.Value, len(vars)+2),
		Functions: sc.p.funcs,
	}
	for k, v := range vars {
		ctx.Variables[k] = v
	}
	ctx.Variables["global"] = cty.ObjectVal(globals)
	ctx.Variables["terramate"] = sc.tm
	v, d := expr.Value(ctx)
	if d.HasErrors() && len(undefined) > 0 {
		// HCL says "Unsupported attribute"; say what it means here.
		var out hcl.Diagnostics
		for _, u := range undefined {
			out = append(out, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Undefined global",
				Detail: fmt.Sprintf("global.%s is not defined for stack %s. Define it in a globals block of the stack's directory or a parent, or write try(global.%s, <default>).",
					u.name, sc.stack.Path, u.name),
				Subject: u.rng.Ptr(),
			})
		}
		return cty.DynamicVal, append(diags, out...)
	}
	return v, append(diags, d...)
}

type undefinedRef struct {
	name string
	rng  hcl.Range
}

// deps evaluates the globals expr refers to.
func (sc *Scope) deps(expr hcl.Expression) (map[string]cty.Value, []undefinedRef, hcl.Diagnostics) {
	vals := map[string]cty.Value{}
	var undefined []undefinedRef
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if tr.RootName() != "global" {
			continue
		}
		var names []string
		if name, ok := TraversalStep(tr); ok {
			names = []string{name}
		} else {
			names = sc.names
		}
		for _, name := range names {
			if _, done := vals[name]; done {
				continue
			}
			if _, ok := sc.defs[name]; !ok {
				undefined = append(undefined, undefinedRef{name: name, rng: tr.SourceRange()})
				continue
			}
			rng := tr.SourceRange()
			v, d := sc.global(name, &rng)
			diags = appendNew(diags, d)
			if d.HasErrors() {
				continue
			}
			vals[name] = v
		}
	}
	return vals, undefined, diags
}

// TraversalStep returns the name a traversal takes from its root: "a" for
// global.a and global["a"]. ok is false for a bare root or a computed key.
func TraversalStep(tr hcl.Traversal) (string, bool) {
	if len(tr) < 2 {
		return "", false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// global evaluates the root global name once, detecting cycles. ref is the
// range of the reference that asked for it, if any.
func (sc *Scope) global(name string, ref *hcl.Range) (cty.Value, hcl.Diagnostics) {
	if v, ok := sc.values[name]; ok {
		return v, sc.diags[name]
	}
	if d, ok := sc.diags[name]; ok {
		return cty.DynamicVal, d
	}
	for i, p := range sc.pending {
		if p == name {
			chain := append(append([]string{}, sc.pending[i:]...), name)
			for j := range chain {
				chain[j] = "global." + chain[j]
			}
			subject := ref
			if subject == nil {
				subject = sc.defs[name][0].rng.Ptr()
			}
			return cty.DynamicVal, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cycle between globals",
				Detail:   fmt.Sprintf("For stack %s the globals refer to each other in a loop: %s. Break the loop by defining one of them without the others.", sc.stack.Path, strings.Join(chain, " -> ")),
				Subject:  subject,
			}}
		}
	}
	sc.pending = append(sc.pending, name)
	v, diags := sc.build(name)
	sc.pending = sc.pending[:len(sc.pending)-1]
	if diags.HasErrors() {
		sc.diags[name] = diags
		return cty.DynamicVal, diags
	}
	sc.values[name] = v
	sc.diags[name] = diags
	return v, diags
}

// build computes the value of root global name from its definitions.
func (sc *Scope) build(name string) (cty.Value, hcl.Diagnostics) {
	defs := sc.defs[name]
	var diags hcl.Diagnostics
	v := cty.EmptyObjectVal
	for _, g := range defs {
		if len(g.path) == 1 {
			var d hcl.Diagnostics
			v, d = sc.Eval(g.expr, nil)
			diags = appendNew(diags, d)
			if d.HasErrors() {
				return cty.DynamicVal, diags
			}
			continue
		}
		val := cty.EmptyObjectVal
		if g.expr != nil {
			var d hcl.Diagnostics
			val, d = sc.Eval(g.expr, nil)
			diags = appendNew(diags, d)
			if d.HasErrors() {
				return cty.DynamicVal, diags
			}
		}
		var err error
		v, err = setPath(v, g.path[1:], val, g.expr == nil)
		if err != nil {
			return cty.DynamicVal, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid global extension",
				Detail:   fmt.Sprintf("global.%s: %s.", g.key(), err),
				Subject:  g.rng.Ptr(),
			})
		}
	}
	return v, diags
}

// setPath returns obj with val set at the key path p. With keep, an
// existing value at p is left as it is (an empty labelled block).
func setPath(obj cty.Value, p []string, val cty.Value, keep bool) (cty.Value, error) {
	ty := obj.Type()
	if !(ty.IsObjectType() || ty.IsMapType()) || obj.IsNull() || !obj.IsKnown() {
		return cty.NilVal, fmt.Errorf("cannot set a key in a value of type %s", ty.FriendlyName())
	}
	m := obj.AsValueMap()
	if m == nil {
		m = map[string]cty.Value{}
	}
	cur, exists := m[p[0]]
	if len(p) == 1 {
		if !(keep && exists) {
			m[p[0]] = val
		}
		return cty.ObjectVal(m), nil
	}
	if !exists {
		cur = cty.EmptyObjectVal
	}
	next, err := setPath(cur, p[1:], val, keep)
	if err != nil {
		return cty.NilVal, err
	}
	m[p[0]] = next
	return cty.ObjectVal(m), nil
}

// appendNew appends the diagnostics of add that diags does not hold yet.
func appendNew(diags, add hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range add {
		dup := false
		for _, e := range diags {
			if e.Summary == d.Summary && e.Detail == d.Detail && rangeEq(e.Subject, d.Subject) {
				dup = true
				break
			}
		}
		if !dup {
			diags = append(diags, d)
		}
	}
	return diags
}

func rangeEq(a, b *hcl.Range) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// terramateValue builds the terramate.* namespace for stack s.
func (p *Project) terramateValue(s *Stack) cty.Value {
	tags := make([]cty.Value, len(s.Tags))
	for i, t := range s.Tags {
		tags[i] = cty.StringVal(t)
	}
	tagList := cty.ListValEmpty(cty.String)
	if len(tags) > 0 {
		tagList = cty.ListVal(tags)
	}
	rel := strings.TrimPrefix(s.Path, "/")
	toRoot := "."
	if rel == "" {
		rel = "."
	} else {
		toRoot = strings.TrimSuffix(strings.Repeat("../", strings.Count(rel, "/")+1), "/")
	}
	stack := map[string]cty.Value{
		"name":        cty.StringVal(s.Name),
		"description": cty.StringVal(s.Description),
		"tags":        tagList,
		"path": cty.ObjectVal(map[string]cty.Value{
			"absolute": cty.StringVal(s.Path),
			"relative": cty.StringVal(rel),
			"basename": cty.StringVal(path.Base(s.Path)),
			"to_root":  cty.StringVal(toRoot),
		}),
	}
	if s.ID != "" {
		stack["id"] = cty.StringVal(s.ID)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"stack": cty.ObjectVal(stack),
		"root": cty.ObjectVal(map[string]cty.Value{
			"path": cty.ObjectVal(map[string]cty.Value{
				"fs": cty.ObjectVal(map[string]cty.Value{
					"absolute": cty.StringVal(p.Root),
					"basename": cty.StringVal(path.Base(p.Root)),
				}),
			}),
		}),
	})
}
