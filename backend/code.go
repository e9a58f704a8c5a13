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

// ReadCode parses the top-level *.tf and *.tofu files of the stack
// directory dir (a filesystem path) and returns its backend block. name
// turns a file's filesystem path into the name diagnostics use. Files
// that mention "terraform" and do not parse yield diagnostics: terraform
// would reject them too.
// The Code is never nil.
func ReadCode(dir string, name func(fsPath string) string) (*Code, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &Code{Attrs: map[string]cty.Value{}}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unreadable stack directory",
			Detail: fmt.Sprintf("Cannot read %s: %v.", dir, err)}}
	}
	files := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tofu")) {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	code := &Code{Attrs: map[string]cty.Value{}}
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
		f, d := hclsyntax.ParseConfig(src, name(fsPath), hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		for _, tb := range f.Body.(*hclsyntax.Body).Blocks {
			if tb.Type != "terraform" {
				continue
			}
			for _, b := range tb.Body.Blocks {
				switch {
				case b.Type == "backend" && len(b.Labels) == 1 && code.Type == "" && !code.Cloud:
					code.Type, code.Range = b.Labels[0], b.LabelRanges[0]
					for an, a := range b.Body.Attributes {
						if v, d := a.Expr.Value(nil); !d.HasErrors() && v.IsWhollyKnown() {
							code.Attrs[an] = v
						}
					}
				case b.Type == "cloud" && code.Type == "" && !code.Cloud:
					code.Cloud, code.Range = true, b.TypeRange
				}
			}
		}
	}
	return code, diags
}
