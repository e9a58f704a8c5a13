package backend

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Identity names the state object a Config points at, in canonical form
// (canon.go): two configs with equal identities read and write the same
// state.
type Identity struct {
	Type  string
	Parts []Part
}

// Part is one component of a canonical identity.
type Part struct {
	Name      string
	Value     string
	Sensitive bool
	// Note says what was assumed, or that the value is compared as
	// written because it cannot be canonicalised statically.
	Note string
}

// Key returns a string equal for equal identities.
func (id Identity) Key() string {
	var b strings.Builder
	b.WriteString(id.Type)
	for _, p := range id.Parts {
		b.WriteByte(0)
		b.WriteString(p.Value)
	}
	return b.String()
}

// String renders the identity for messages, sensitive values redacted.
func (id Identity) String() string {
	parts := make([]string, 0, len(id.Parts))
	for _, p := range id.Parts {
		v := fmt.Sprintf("%q", p.Value)
		if p.Sensitive {
			v = Redacted
		}
		if p.Note != "" {
			v += " (" + p.Note + ")"
		}
		parts = append(parts, p.Name+"="+v)
	}
	return id.Type + " " + strings.Join(parts, " ")
}

// Identity returns the state object c points at, canonicalised. code
// holds the literal attributes of the stack's own backend block (may be
// nil): terraform merges -backend-config over them, so they count where c
// sets nothing. Defaults apply last.
func (c *Config) Identity(code map[string]cty.Value) Identity {
	id, _ := c.identity(code)
	return id
}

// identity is Identity, and whether c sets every attribute the identity
// was computed from (fromConfig): then neither code nor defaults count,
// and the identity holds whatever the stack's code says.
func (c *Config) identity(code map[string]cty.Value) (id Identity, fromConfig bool) {
	fromConfig = true
	cn := c.canon
	if cn == nil {
		cn = &canon{}
	}
	spec := specs[c.Type]
	raw := make(map[string]Part, len(spec.identity)+4)
	get := func(name string) Part {
		if p, ok := raw[name]; ok {
			return p
		}
		p := Part{Name: name}
		v, ok := c.Attrs[name]
		fromConfig = fromConfig && ok
		if ok {
			p.Value, _ = primitiveString(v.Val)
			p.Sensitive = v.Sensitive
		} else if v, ok := code[name]; ok {
			p.Value, _ = primitiveString(v)
			p.Sensitive = SensitiveName(name)
		} else {
			p.Value = spec.defaults[name]
			p.Sensitive = SensitiveName(name)
		}
		raw[name] = p
		return p
	}
	id = Identity{Type: c.Type}
	add := func(p Part) { id.Parts = append(id.Parts, p) }
	lower := func(name string) Part {
		p := get(name)
		p.Value = strings.ToLower(p.Value)
		return p
	}
	switch c.Type {
	case "local":
		p := get("path")
		p.Value, p.Note = cn.localPath(c.stackDir, p.Value)
		add(p)
	case "pg":
		conn := get("conn_str")
		t := pgConn(conn.Value)
		if t.note != "" && strings.HasPrefix(t.note, "compared as written") {
			add(Part{Name: "conn_str", Value: conn.Value, Sensitive: true, Note: t.note})
		} else {
			add(Part{Name: "host", Value: t.host})
			add(Part{Name: "port", Value: t.port})
			add(Part{Name: "dbname", Value: t.dbname, Note: t.note})
		}
		p := get("schema_name")
		if len(p.Value) > pgMaxIdent {
			p.Value = p.Value[:pgMaxIdent]
			p.Note = "cut at 63 bytes as PostgreSQL does"
		}
		add(p)
	case "s3":
		ep := get("endpoint")
		if ep.Value == "" {
			ep = get("endpoints.s3")
			ep.Name = "endpoint"
		}
		if ep.Value != "" {
			ep.Value, ep.Note = httpAddress(ep.Value)
		} else {
			ep.Value = "aws"
		}
		add(ep)
		add(lower("bucket"))
		add(get("key"))
	case "gcs":
		add(lower("bucket"))
		p := get("prefix")
		p.Name = "object"
		p.Value = strings.TrimLeft(p.Value, "/")
		if p.Value != "" && !strings.HasSuffix(p.Value, "/") {
			p.Value += "/"
		}
		p.Value += "default.tfstate"
		add(p)
	case "azurerm":
		add(lower("storage_account_name"))
		add(lower("container_name"))
		add(get("key"))
	case "http":
		p := get("address")
		p.Value, p.Note = httpAddress(p.Value)
		add(p)
	case "consul":
		p := get("address")
		p.Value, p.Note = consulAddress(p.Value)
		add(p)
		add(get("path"))
	case "kubernetes":
		cl := get("host")
		cl.Name = "cluster"
		if cl.Value != "" {
			cl.Value, cl.Note = httpAddress(cl.Value)
		} else if ctx := get("config_context"); ctx.Value != "" {
			cl.Value, cl.Note = "context "+ctx.Value, "compared as written: a kubeconfig context"
		} else {
			cl.Note = "the kubeconfig's current context assumed"
		}
		add(cl)
		add(lower("namespace"))
		p := lower("secret_suffix")
		p.Name, p.Value = "secret", "tfstate-default-"+p.Value
		add(p)
	case "oss", "cos":
		add(lower("bucket"))
		pr, k := get("prefix"), get("key")
		add(Part{Name: "object", Value: path.Join(pr.Value, k.Value), Sensitive: pr.Sensitive || k.Sensitive})
	case "remote":
		add(lower("hostname"))
		add(lower("organization"))
		if n := lower("workspaces.name"); n.Value != "" {
			n.Name = "workspace"
			add(n)
		} else {
			p := lower("workspaces.prefix")
			p.Name, p.Value, p.Note = "workspace", p.Value+"*", "a prefix, compared as written"
			add(p)
		}
	default:
		for _, name := range spec.identity {
			add(get(name))
		}
	}
	return id, fromConfig
}

// primarySubject is where isolation diagnostics point: the definition of
// the type's primary identity attribute, else the template's header; nil
// when a key=value flag set it. where adds that fact to a message.
func (c *Config) primarySubject() (subj *hcl.Range, where string) {
	v, ok := c.Attrs[specs[c.Type].primary]
	switch {
	case !ok:
		return c.Template.DeclRange.Ptr(), ""
	case v.Range.Filename == "":
		return nil, " (set by --backend-config)"
	}
	return v.Range.Ptr(), ""
}

// Limits checks every value of c against its backend type's limits and
// required attributes. code is as for Identity.
func (c *Config) Limits(code map[string]cty.Value) hcl.Diagnostics {
	return append(c.missingAttrs(code), c.valueLimits()...)
}

// missingAttrs reports the required attributes that neither c nor the
// stack's code sets.
func (c *Config) missingAttrs(code map[string]cty.Value) hcl.Diagnostics {
	spec := specs[c.Type]
	var diags hcl.Diagnostics
	for _, group := range spec.required {
		found := false
		for _, n := range group {
			if _, ok := c.Attrs[n]; ok {
				found = true
			} else if _, ok := code[n]; ok {
				found = true
			}
		}
		if !found {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing backend attribute",
				Detail: fmt.Sprintf("The %s backend of stack %s in environment %s needs %s, and neither the template nor the stack's backend block sets it. Add it to the template.",
					c.Type, c.Stack.Path, c.Env, strings.Join(group, " or ")),
				Subject: c.Template.DeclRange.Ptr(),
				Extra:   fold{"missing " + strings.Join(group, ","), c.Stack.Path},
			})
		}
	}
	return diags
}

// valueLimits checks every value of c against its backend type's limits.
func (c *Config) valueLimits() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, l := range specs[c.Type].limits {
		v, ok := c.Attrs[l.attr]
		if !ok {
			continue
		}
		s, ok := primitiveString(v.Val)
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid backend value",
				Detail:   fmt.Sprintf("Backend attribute %s of stack %s must be a string.", l.attr, c.Stack.Path),
				Subject:  subject(v.Range),
			})
			continue
		}
		if err := l.check(s); err != nil {
			shown := fmt.Sprintf("%q", s)
			if v.Sensitive {
				shown = Redacted
			}
			where := ""
			if v.Range.Filename == "" {
				where = " (set by --backend-config)"
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Backend value out of limits",
				Detail: fmt.Sprintf("For stack %s in environment %s, %s %s%s = %s: %v.",
					c.Stack.Path, c.Env, c.Type, l.attr, where, shown, err),
				Subject: subject(v.Range),
			})
		}
	}
	return diags
}
