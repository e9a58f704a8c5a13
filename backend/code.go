package backend

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// Code is what a stack's Terraform code says about its backend.
type Code struct {
	// Type is the label of the terraform { backend "TYPE" {} } block, or
	// "" when there is none.
	Type string
	// Range is the range of the backend type label, or of the cloud
	// block, for diagnostics.
	Range hcl.Range
	// Cloud is true when the code holds a terraform { cloud {} } block.
	Cloud bool
	// Attrs holds the backend block's attributes whose values are
	// literals; terraform merges -backend-config over them.
	Attrs map[string]cty.Value
}

// ReadCode parses the top-level *.tf, *.tofu, *.tf.json and *.tofu.json
// files of the stack directory dir (a filesystem path) and returns its
// backend block; the Code is never nil. name turns a file's filesystem
// path into the name diagnostics use. Files that mention "terraform" and
// do not parse yield diagnostics: terraform would reject them too.
func ReadCode(dir string, name func(fsPath string) string) (*Code, hcl.Diagnostics) {
	code := &Code{Attrs: map[string]cty.Value{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return code, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unreadable stack directory",
			Detail: fmt.Sprintf("Cannot read %s: %v.", dir, err)}}
	}
	files := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && !strings.HasPrefix(n, ".") && terraformFile(n) {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	var diags hcl.Diagnostics
	for _, n := range files {
		fsPath := filepath.Join(dir, n)
		src, err := os.ReadFile(fsPath)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable Terraform file",
				Detail: fmt.Sprintf("Cannot read %s: %v.", fsPath, err)})
			continue
		}
		// Only a file that mentions terraform can hold the block; skipping
		// the others spares parsing most of a large stack's code.
		if !bytes.Contains(src, []byte("terraform")) {
			continue
		}
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(n, ".json") {
			f, d = json.Parse(src, name(fsPath))
		} else {
			f, d = hclsyntax.ParseConfig(src, name(fsPath), hcl.InitialPos)
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		code.read(f.Body)
	}
	return code, diags
}

func terraformFile(n string) bool {
	for _, ext := range []string{".tf", ".tofu", ".tf.json", ".tofu.json"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// Schemas of the parts of a Terraform file ReadCode looks at, decoded
// through hcl's schema API so native and JSON syntax read alike.
var (
	fileSchema      = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}}}
	terraformSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "backend", LabelNames: []string{"type"}},
		{Type: "cloud"},
	}}
)

// read records the first backend or cloud block of body.
func (code *Code) read(body hcl.Body) {
	content, _, _ := body.PartialContent(fileSchema)
	for _, tb := range content.Blocks {
		inner, _, _ := tb.Body.PartialContent(terraformSchema)
		for _, b := range inner.Blocks {
			if code.Type != "" || code.Cloud {
				return
			}
			if b.Type == "cloud" {
				code.Cloud, code.Range = true, b.TypeRange
				continue
			}
			code.Type, code.Range = b.Labels[0], b.LabelRanges[0]
			attrs, _ := b.Body.JustAttributes()
			for an, a := range attrs {
				if v, d := a.Expr.Value(nil); !d.HasErrors() && v.IsWhollyKnown() {
					code.Attrs[an] = v
				}
			}
		}
	}
}
