package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/atomicfile"
)

// Redacted replaces sensitive values in everything tmci prints.
const Redacted = "<redacted>"

// Sensitive reports whether c holds any sensitive value.
func (c *Config) Sensitive() bool {
	for _, v := range c.Attrs {
		if v.Sensitive {
			return true
		}
	}
	return false
}

// shown returns the value to render for attribute v.
func shown(v Value, secrets bool) cty.Value {
	if v.Sensitive && !secrets {
		return cty.StringVal(Redacted)
	}
	return v.Val
}

// TFBackend renders c as a .tfbackend file: HCL attributes in Names
// order, nested blocks after them, so the same config always gives the
// same bytes. A nested group the backend declares as an object attribute
// (s3's endpoints in terraform ≥ 1.6 and tofu) is written name = { ... }:
// terraform refuses block syntax for it. header, if any, becomes comment lines on top. Sensitive values are redacted unless secrets is true; a file
// given to terraform must be rendered with secrets.
func (c *Config) TFBackend(header string, secrets bool) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	var block *hclwrite.Body
	blockName := ""
	objects := map[string]map[string]cty.Value{}
	var objectNames []string
	for _, n := range c.Names() {
		v := c.Attrs[n]
		parent, attr, nested := strings.Cut(n, ".")
		switch {
		case !nested:
			body.SetAttributeValue(n, shown(v, secrets))
		case specs[c.Type].objectAttr(parent):
			if objects[parent] == nil {
				objects[parent] = map[string]cty.Value{}
				objectNames = append(objectNames, parent)
			}
			objects[parent][attr] = shown(v, secrets)
		default:
			if parent != blockName {
				blockName = parent
				block = body.AppendNewBlock(parent, nil).Body()
			}
			block.SetAttributeValue(attr, shown(v, secrets))
		}
	}
	for _, n := range objectNames {
		body.SetAttributeValue(n, cty.ObjectVal(objects[n]))
	}
	var out []byte
	if header != "" {
		for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
			out = append(out, "# "+line+"\n"...)
		}
	}
	return append(out, hclwrite.Format(f.Bytes())...)
}

// Args renders c as terraform -backend-config=key=value arguments. It
// fails for nested blocks, which terraform accepts only in files.
func (c *Config) Args(secrets bool) ([]string, error) {
	var out []string
	for _, n := range c.Names() {
		if strings.Contains(n, ".") {
			return nil, fmt.Errorf("backend attribute %s is in a nested block, which -backend-config=key=value cannot set: use --format tfbackend", n)
		}
		v := shown(c.Attrs[n], secrets)
		s, ok := primitiveString(v)
		if !ok {
			s = strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
		}
		out = append(out, "-backend-config="+n+"="+s)
	}
	return out, nil
}

// ShellQuote quotes s for a POSIX shell when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ConfigJSON is a resolved backend as tmci backend --format json prints it.
type ConfigJSON struct {
	Stack       string                     `json:"stack"`
	Environment string                     `json:"environment"`
	Type        string                     `json:"type"`
	Config      map[string]json.RawMessage `json:"config"`
	Sensitive   []string                   `json:"sensitive"`
	// Identity holds the attributes that name the state object, with
	// defaults applied; sensitive ones are redacted.
	Identity map[string]string `json:"identity"`
}

// JSON returns c for JSON output; nested block attributes become objects.
func (c *Config) JSON(secrets bool) (ConfigJSON, error) {
	out := ConfigJSON{
		Stack:       c.Stack.Path,
		Environment: c.Env,
		Type:        c.Type,
		Config:      map[string]json.RawMessage{},
		Sensitive:   []string{},
		Identity:    map[string]string{},
	}
	for _, p := range c.Identity(nil).Parts {
		out.Identity[p.Name] = p.Value
		if p.Sensitive && !secrets {
			out.Identity[p.Name] = Redacted
		}
	}
	blocks := map[string]map[string]json.RawMessage{}
	for _, n := range c.Names() {
		v := c.Attrs[n]
		if v.Sensitive {
			out.Sensitive = append(out.Sensitive, n)
		}
		raw, err := jsonValue(shown(v, secrets))
		if err != nil {
			return out, fmt.Errorf("encoding backend attribute %s: %w", n, err)
		}
		if parent, attr, nested := strings.Cut(n, "."); nested {
			if blocks[parent] == nil {
				blocks[parent] = map[string]json.RawMessage{}
			}
			blocks[parent][attr] = raw
			continue
		}
		out.Config[n] = raw
	}
	for name, attrs := range blocks {
		raw, err := json.Marshal(attrs)
		if err != nil {
			return out, fmt.Errorf("encoding backend block %s: %w", name, err)
		}
		out.Config[name] = raw
	}
	return out, nil
}

// jsonValue encodes a primitive or a list of primitives without escaping
// HTML characters, so "<redacted>" stays readable.
func jsonValue(v cty.Value) (json.RawMessage, error) {
	var plain any
	switch {
	case v.Type() == cty.String:
		plain = v.AsString()
	case v.Type() == cty.Bool:
		plain = v.True()
	case v.Type() == cty.Number:
		plain = json.Number(v.AsBigFloat().Text('f', -1))
	default:
		list := []json.RawMessage{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			raw, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			list = append(list, raw)
		}
		plain = list
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// WriteFile writes data to path with mode 0600, atomically: readers see
// the old content or the new, never a part.
func WriteFile(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o600)
}

// RelocateLocal moves a local backend's state path that lies under from
// to the same place under to, and leaves any other config alone. tmci
// destroy --deleted evaluates a past revision's template in a temporary
// worktree (from), whose relative or root-based paths would otherwise
// point into the worktree instead of at the checkout's state (to).
func (c *Config) RelocateLocal(from, to string) {
	if c.Type != "local" {
		return
	}
	path := "terraform.tfstate"
	if v, ok := c.Attrs["path"]; ok {
		if s, ok := primitiveString(v.Val); ok {
			path = s
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.stackDir, path)
	}
	rel, err := filepath.Rel(from, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return
	}
	v := c.Attrs["path"]
	v.Val = cty.StringVal(filepath.Join(to, rel))
	c.Attrs["path"] = v
}
