package ledger

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/project"
)

// StackPath is the project path the backend template is evaluated for to
// place the ledger. Its name starts with a dot, so no stack can have it:
// Terramate (and tmci) skip such directories. Nothing is ever written
// there; a relative local path resolves against it.
const StackPath = "/.tmci-ledger"

// stackID is the ledger's terramate.stack.id and name.
const stackID = "tmci-ledger"

// Resolve returns the ledger's backend in environment env: the template
// evaluated for StackPath, with a relative local path made absolute
// (terraform runs the ledger in tmci's work directory, not there). It
// then proves that the ledger's state object is none of the project's
// stacks' in env; a template whose result does not depend on the stack
// path (one keyed on terramate.stack.id alone, say, with a stack whose
// id is tmci-ledger) fails here rather than letting the ledger overwrite
// a stack's state. It returns ErrNoTemplate when no template covers the
// ledger.
func Resolve(res *backend.Resolver, env string) (*backend.Config, hcl.Diagnostics, error) {
	p := res.Project()
	s := &project.Stack{Path: StackPath, ID: stackID, Name: stackID}
	c, diags := res.Resolve(p.Scope(s), env)
	if diags.HasErrors() {
		return nil, diags, fmt.Errorf("the ledger's backend (the template evaluated for %s) does not resolve in %s: see above", StackPath, env)
	}
	if c == nil {
		return nil, diags, ErrNoTemplate
	}
	diags = append(diags, c.Limits(nil)...)
	if diags.HasErrors() {
		return nil, diags, fmt.Errorf("the ledger's backend (the template evaluated for %s) breaks the backend's limits in %s: see above", StackPath, env)
	}
	own := c.Identity(nil)
	for _, st := range p.Stacks {
		sc, d := res.Resolve(p.Scope(st), env)
		if d.HasErrors() || sc == nil {
			continue // the run's own isolation check reports it
		}
		code, _ := res.StackCode(st)
		var attrs map[string]cty.Value
		if code != nil {
			attrs = code.Attrs
		}
		if sc.Identity(attrs).Key() == own.Key() {
			return nil, diags, fmt.Errorf("the ledger of %s would share stack %s's state object (%s): make the backend template depend on terramate.stack.path.relative, which is %q for the ledger", env, st.Path, own, StackPath[1:])
		}
	}
	if c.Type == "local" {
		path := "terraform.tfstate"
		if v, ok := c.Attrs["path"]; ok && v.Val.Type() == cty.String && !v.Val.IsNull() {
			path = v.Val.AsString()
		}
		if !filepath.IsAbs(path) {
			v := c.Attrs["path"]
			v.Val = cty.StringVal(filepath.Join(p.FSPath(StackPath), path))
			c.Attrs["path"] = v
		}
	}
	return c, diags, nil
}
