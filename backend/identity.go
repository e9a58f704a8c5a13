package backend

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Identity names the state object a Config points at: two configs with
// equal identities read and write the same state.
type Identity struct {
	Type  string
	Parts []Part
}

// Part is one identity attribute with its effective value.
type Part struct {
	Name      string
	Value     string
	Sensitive bool
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
		parts = append(parts, p.Name+"="+v)
	}
	return id.Type + " " + strings.Join(parts, " ")
}

// Identity returns the state object c points at. code holds the literal
// attributes of the stack's own backend block (may be nil): terraform
// merges -backend-config over them, so they count where c sets nothing.
// Defaults apply last, and values are normalised as the backend does: a
// local path is resolved against the stack directory, a pg schema name is
// cut at 63 bytes.
func (c *Config) Identity(code map[string]cty.Value) Identity {
	spec := specs[c.Type]
	id := Identity{Type: c.Type, Parts: make([]Part, 0, len(spec.identity))}
	for _, name := range spec.identity {
		p := Part{Name: name}
		if v, ok := c.Attrs[name]; ok {
			p.Value, _ = primitiveString(v.Val)
			p.Sensitive = v.Sensitive
		} else if v, ok := code[name]; ok {
			p.Value, _ = primitiveString(v)
			p.Sensitive = SensitiveName(name)
		} else {
			p.Value = spec.defaults[name]
			p.Sensitive = SensitiveName(name)
		}
		switch {
		case c.Type == "local" && name == "path" && !path.IsAbs(p.Value):
			p.Value = path.Join(c.Stack.Path, p.Value)
		case c.Type == "pg" && name == "schema_name" && len(p.Value) > pgMaxIdent:
			p.Value = p.Value[:pgMaxIdent]
		case c.Type == "pg" && name == "conn_str":
			p.Value = pgDatabase(p.Value)
		}
		id.Parts = append(id.Parts, p)
	}
	return id
}

// pgDatabase reduces a PostgreSQL URL to the database it names (host,
// port, database), so that two credentials for one database count as
// the same place. Other forms are returned as they are.
func pgDatabase(conn string) string {
	u, err := url.Parse(conn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return conn
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return "postgres://" + host + ":" + port + "/" + strings.TrimPrefix(u.Path, "/")
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
	for _, l := range spec.limits {
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
