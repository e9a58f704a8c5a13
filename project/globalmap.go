package project

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// mapExpr is a Terramate `map` block inside globals, evaluated as
// Terramate 0.17 does:
//
//	map "name" {
//	  for_each = <iterable>
//	  key      = <string, per element>
//	  value    = <any, per element>   # or a value { ... } block
//	  iterator = <identifier>         # default: element
//	}
//
// The result is an object with one attribute per distinct key. For each
// element, in for_each's order, <iterator>.new is the element and, when an
// earlier element produced the same key, <iterator>.old is the value it
// produced; the later element's value replaces it (so a value can
// accumulate, e.g. concat(try(element.old, []), [element.new])). A value
// block is an object of its attributes plus, for each nested map block, the
// object that map yields, evaluated with the outer iterator still in scope.
//
// mapExpr implements hcl.Expression, so globals treat it like an
// attribute: Variables lists what it refers to (not the iterator), which
// is how its global dependencies are found and evaluated first.
type mapExpr struct {
	block    *hclsyntax.Block
	forEach  hcl.Expression
	key      hcl.Expression
	value    hcl.Expression // nil when values is set
	values   *hclsyntax.Body
	children []mapChild
	iterator string
}

type mapChild struct {
	name string
	m    *mapExpr
}

// newMapExpr checks a map block as Terramate does: one label, for_each
// and key, exactly one of a value attribute and a value block, only map
// blocks inside the value block, an iterator that is a plain name.
func newMapExpr(b *hclsyntax.Block) (*mapExpr, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	fail := func(summary, detail string, rng hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
	}
	if len(b.Labels) != 1 {
		fail("Invalid map block", `A map block has one label, the name of the object it defines: map "name" { ... }.`, b.DefRange())
		return nil, diags
	}
	m := &mapExpr{block: b, iterator: "element"}
	attrs := b.Body.Attributes
	if a, ok := attrs["for_each"]; ok {
		m.forEach = a.Expr
	} else {
		fail("Missing map for_each", "A map block needs for_each = <list, set or object> to iterate over.", b.DefRange())
	}
	if a, ok := attrs["key"]; ok {
		m.key = a.Expr
	} else {
		fail("Missing map key", "A map block needs key = <string expression>, evaluated per element.", b.DefRange())
	}
	if a, ok := attrs["iterator"]; ok {
		tr, d := hcl.AbsTraversalForExpr(a.Expr)
		if d.HasErrors() || len(tr) != 1 {
			fail("Invalid map iterator", "The iterator of a map block is a single name, such as iterator = item.", a.Expr.Range())
		} else {
			m.iterator = tr.RootName()
		}
	}
	if a, ok := attrs["value"]; ok {
		m.value = a.Expr
	}
	for _, sub := range b.Body.Blocks {
		if sub.Type != "value" {
			fail("Unsupported block type", "A map block holds only a value block; remove the "+sub.Type+" block.", sub.TypeRange)
			continue
		}
		if m.values != nil {
			fail("Duplicate map value block", "A map block holds at most one value block.", sub.TypeRange)
			continue
		}
		m.values = sub.Body
		for _, child := range sub.Body.Blocks {
			if child.Type != "map" {
				fail("Unsupported block type", "A map value block holds attributes and map blocks; remove the "+child.Type+" block.", child.TypeRange)
				continue
			}
			cm, d := newMapExpr(child)
			diags = append(diags, d...)
			if cm != nil {
				m.children = append(m.children, mapChild{child.Labels[0], cm})
			}
		}
	}
	switch {
	case m.value != nil && m.values != nil:
		fail("Conflicting map value", "A map block has a value attribute or a value block, not both.", b.DefRange())
	case m.value == nil && m.values == nil:
		fail("Missing map value", "A map block needs value = <expression> or a value { ... } block.", b.DefRange())
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return m, nil
}

// Value evaluates the map with ctx's variables and functions. O(elements ×
// (attributes + nested maps' work)).
func (m *mapExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	coll, diags := m.forEach.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	if coll.IsNull() || !coll.IsKnown() || !coll.CanIterateElements() {
		what := coll.Type().FriendlyName()
		if coll.IsNull() {
			what = "null"
		}
		return cty.DynamicVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid map for_each",
			Detail:   fmt.Sprintf("for_each must be a list, set, tuple, map or object to iterate over, not %s.", what),
			Subject:  m.forEach.Range().Ptr(),
		})
	}
	out := map[string]cty.Value{}
	for it := coll.ElementIterator(); it.Next(); {
		_, elem := it.Element()
		iter := map[string]cty.Value{"new": elem}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{m.iterator: cty.ObjectVal(iter)}
		k, d := m.key.Value(child)
		diags = append(diags, d...)
		if d.HasErrors() {
			return cty.DynamicVal, diags
		}
		if k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
			return cty.DynamicVal, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid map key",
				Detail:   fmt.Sprintf("The key of a map block must be a known string, not %s.", k.Type().FriendlyName()),
				Subject:  m.key.Range().Ptr(),
			})
		}
		if old, ok := out[k.AsString()]; ok {
			iter["old"] = old
			child.Variables[m.iterator] = cty.ObjectVal(iter)
		}
		v, d := m.elementValue(child)
		diags = append(diags, d...)
		if d.HasErrors() {
			return cty.DynamicVal, diags
		}
		out[k.AsString()] = v
	}
	return cty.ObjectVal(out), diags
}

// elementValue evaluates the value of one element.
func (m *mapExpr) elementValue(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if m.value != nil {
		return m.value.Value(ctx)
	}
	var diags hcl.Diagnostics
	obj := map[string]cty.Value{}
	for _, a := range sortedAttrs(m.values.Attributes) {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return cty.DynamicVal, diags
		}
		obj[a.Name] = v
	}
	for _, c := range m.children {
		v, d := c.m.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return cty.DynamicVal, diags
		}
		obj[c.name] = v
	}
	return cty.ObjectVal(obj), diags
}

// Variables returns the traversals the map refers to outside itself: not
// those rooted at its iterator.
func (m *mapExpr) Variables() []hcl.Traversal {
	var out []hcl.Traversal
	add := func(trs []hcl.Traversal) {
		for _, tr := range trs {
			if tr.RootName() != m.iterator {
				out = append(out, tr)
			}
		}
	}
	add(m.forEach.Variables())
	add(m.key.Variables())
	if m.value != nil {
		add(m.value.Variables())
	}
	if m.values != nil {
		for _, a := range sortedAttrs(m.values.Attributes) {
			add(a.Expr.Variables())
		}
		for _, c := range m.children {
			add(c.m.Variables())
		}
	}
	return out
}

// Range is the whole map block.
func (m *mapExpr) Range() hcl.Range { return m.block.Range() }

// StartRange is the block's header.
func (m *mapExpr) StartRange() hcl.Range { return m.block.DefRange() }
