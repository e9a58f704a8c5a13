package project

import (
	"fmt"
	"path"
	"slices"
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
	attrs := sortedAttrs(block.Body.Attributes)
	if len(block.Labels) > 0 && len(attrs) == 0 {
		defs = append(defs, &globalDef{path: block.Labels, rng: block.DefRange(), dir: dir})
	}
	for _, b := range block.Body.Blocks {
		if b.Type == "map" {
			if def := l.globalsMap(block, b, dir); def != nil {
				defs = append(defs, def)
			}
			continue
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   "A globals block holds attributes (and map blocks); remove the " + b.Type + " block.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	for _, attr := range attrs {
		p := make([]string, 0, len(block.Labels)+1)
		p = append(append(p, block.Labels...), attr.Name)
		defs = append(defs, &globalDef{path: p, expr: attr.Expr, rng: attr.SrcRange, dir: dir})
	}
	return defs
}

// globalsMap turns a map block of a globals block into the definition of
// global.<labels>.<map label>, or reports why it cannot.
func (l *loader) globalsMap(block, b *hclsyntax.Block, dir string) *globalDef {
	m, diags := newMapExpr(b)
	l.diags = append(l.diags, diags...)
	if m == nil {
		return nil
	}
	name := b.Labels[0]
	if _, clash := block.Body.Attributes[name]; clash {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Global defined twice",
			Detail:   fmt.Sprintf("The map block %q and an attribute of the same globals block both define it; rename one.", name),
			Subject:  b.DefRange().Ptr(),
		})
		return nil
	}
	p := append(append(make([]string, 0, len(block.Labels)+1), block.Labels...), name)
	return &globalDef{path: p, expr: m, rng: b.DefRange(), dir: dir}
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
	// building holds, for each root global under evaluation, its value
	// so far and the state of each definition, so that a labelled
	// definition may read a sibling (globals "a" "c" { y = global.a.b.x })
	// once that one is evaluated: dependencies are tracked per attribute
	// path, as Terramate does, not per root name.
	building map[string]*partialGlobal
	// pendingDefs are the definitions being evaluated, innermost last,
	// for the cycle message.
	pendingDefs []string
}

// partialGlobal is a root global being built from its definitions.
type partialGlobal struct {
	value cty.Value
	state []defState // per definition of Scope.defs[name]
	diags hcl.Diagnostics
	err   bool
}

type defState uint8

const (
	defTodo defState = iota
	defActive
	defDone
)

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
		p:        p,
		stack:    s,
		defs:     map[string][]*globalDef{},
		tm:       p.terramateValue(s),
		values:   map[string]cty.Value{},
		diags:    map[string]hcl.Diagnostics{},
		building: map[string]*partialGlobal{},
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
	return sc.eval(expr, vars, "")
}

// eval is Eval for the definition of global.name, or of no global when
// name is empty; the name is for messages.
func (sc *Scope) eval(expr hcl.Expression, vars map[string]cty.Value, name string) (cty.Value, hcl.Diagnostics) {
	globals, undefined, diags := sc.deps(expr)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	if d := checkInputSize(expr, globals, name); d != nil {
		return cty.DynamicVal, append(diags, d)
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
	if !d.HasErrors() {
		if big := checkValueSize(v, expr, name); big != nil {
			return cty.DynamicVal, append(append(diags, d...), big)
		}
	}
	return v, append(diags, d...)
}

type undefinedRef struct {
	name string
	rng  hcl.Range
}

// deps evaluates the globals expr refers to. A reference into a root
// global under construction first evaluates the definitions whose paths
// overlap the referenced path, then sees the value built so far.
func (sc *Scope) deps(expr hcl.Expression) (map[string]cty.Value, []undefinedRef, hcl.Diagnostics) {
	vals := map[string]cty.Value{}
	var undefined []undefinedRef
	var diags hcl.Diagnostics
	partial := map[string]bool{}
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
			if pg := sc.building[name]; pg != nil {
				rng := tr.SourceRange()
				d := sc.buildOverlapping(name, staticPath(tr), &rng)
				diags = appendNew(diags, d)
				partial[name] = !d.HasErrors()
				continue
			}
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
	for name, ok := range partial {
		if ok {
			vals[name] = sc.building[name].value
		}
	}
	return vals, undefined, diags
}

// staticPath returns the names a global traversal takes after "global"
// while they are static: ["a", "b", "x"] for global.a.b["x"][0].
func staticPath(tr hcl.Traversal) []string {
	var out []string
	for _, step := range tr[1:] {
		switch st := step.(type) {
		case hcl.TraverseAttr:
			out = append(out, st.Name)
		case hcl.TraverseIndex:
			if st.Key.Type() != cty.String || !st.Key.IsKnown() || st.Key.IsNull() {
				return out
			}
			out = append(out, st.Key.AsString())
		default:
			return out
		}
	}
	return out
}

// overlaps reports whether one path is a prefix of the other.
func overlaps(a, b []string) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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

// build computes the value of root global name from its definitions, in
// their order unless one needs another first (see deps).
func (sc *Scope) build(name string) (cty.Value, hcl.Diagnostics) {
	pg := &partialGlobal{value: cty.EmptyObjectVal, state: make([]defState, len(sc.defs[name]))}
	sc.building[name] = pg
	defer delete(sc.building, name)
	for i := range pg.state {
		if pg.err {
			break
		}
		sc.buildDef(name, i, nil)
	}
	if pg.err {
		return cty.DynamicVal, pg.diags
	}
	return pg.value, pg.diags
}

// buildOverlapping evaluates the definitions of the root global name
// (under construction) whose paths overlap path; ref is the reference
// that needs them.
func (sc *Scope) buildOverlapping(name string, path []string, ref *hcl.Range) hcl.Diagnostics {
	pg := sc.building[name]
	var diags hcl.Diagnostics
	for i, g := range sc.defs[name] {
		if overlaps(g.path, path) {
			diags = appendNew(diags, sc.buildDef(name, i, ref))
		}
	}
	if pg.err && !diags.HasErrors() {
		diags = append(diags, pg.diags.Errs()[0].(*hcl.Diagnostic))
	}
	return diags
}

// buildDef evaluates definition i of the root global name once and sets
// it into the value built so far. A definition that needs itself, through
// others, is a cycle reported at ref (or the definition).
func (sc *Scope) buildDef(name string, i int, ref *hcl.Range) hcl.Diagnostics {
	pg := sc.building[name]
	g := sc.defs[name][i]
	switch pg.state[i] {
	case defDone:
		return nil
	case defActive:
		start := slices.Index(sc.pendingDefs, g.key())
		chain := append(slices.Clone(sc.pendingDefs[max(start, 0):]), g.key())
		for j := range chain {
			chain[j] = "global." + chain[j]
		}
		subject := ref
		if subject == nil {
			subject = g.rng.Ptr()
		}
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle between globals",
			Detail:   fmt.Sprintf("For stack %s the globals refer to each other in a loop: %s. Break the loop by defining one of them without the others.", sc.stack.Path, strings.Join(chain, " -> ")),
			Subject:  subject,
		}
		pg.err = true
		pg.diags = appendNew(pg.diags, hcl.Diagnostics{d})
		return hcl.Diagnostics{d}
	}
	pg.state[i] = defActive
	sc.pendingDefs = append(sc.pendingDefs, g.key())
	defer func() {
		sc.pendingDefs = sc.pendingDefs[:len(sc.pendingDefs)-1]
		pg.state[i] = defDone
	}()
	val := cty.EmptyObjectVal
	if g.expr != nil {
		var d hcl.Diagnostics
		val, d = sc.eval(g.expr, nil, g.key())
		pg.diags = appendNew(pg.diags, d)
		if d.HasErrors() {
			pg.err = true
			return d
		}
	}
	if len(g.path) == 1 {
		pg.value = val
		return nil
	}
	v, err := setPath(pg.value, g.path[1:], val, g.expr == nil)
	if err != nil {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid global extension",
			Detail:   fmt.Sprintf("global.%s: %s.", g.key(), err),
			Subject:  g.rng.Ptr(),
		}
		pg.err = true
		pg.diags = appendNew(pg.diags, hcl.Diagnostics{d})
		return hcl.Diagnostics{d}
	}
	pg.value = v
	return nil
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
		"tags":        stringList(s.Tags),
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
	if s.Path != "/" {
		if parent := p.StackOf(path.Dir(s.Path)); parent != nil {
			stack["parent"] = cty.ObjectVal(map[string]cty.Value{
				"id":   cty.StringVal(parent.ID),
				"tags": stringList(parent.Tags),
			})
		}
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
		"stacks": cty.ObjectVal(map[string]cty.Value{"list": p.stackList()}),
		// Deprecated names Terramate 0.17.2 still serves.
		"name":        cty.StringVal(s.Name),
		"path":        cty.StringVal(s.Path),
		"description": cty.StringVal(s.Description),
	})
}

// stackList is terramate.stacks.list: every stack's path, in path order,
// built once per project (O(stacks)) and shared by every scope.
func (p *Project) stackList() cty.Value {
	build := func() cty.Value {
		paths := make([]string, len(p.Stacks))
		for i, s := range p.Stacks {
			paths[i] = s.Path
		}
		return stringList(paths)
	}
	if p.stacks == nil { // a Project not made by Load
		return build()
	}
	p.stacks.once.Do(func() { p.stacks.v = build() })
	return p.stacks.v
}

// stringList is a cty list of strings, empty (not null) for none.
func stringList(l []string) cty.Value {
	if len(l) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(l))
	for i, v := range l {
		vals[i] = cty.StringVal(v)
	}
	return cty.ListVal(vals)
}
