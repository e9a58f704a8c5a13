package backend

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
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
// backend block as terraform merges the files; the Code is never nil.
// name turns a file's filesystem path into the name diagnostics use.
//
// The diagnostics are the stack's own problems, which terraform would
// reject too: files that mention "terraform" and do not parse (or cannot
// be read), and a second backend or cloud block among the primary files
// ("A module may have only one backend configuration"). An override file
// (override.tf, *_override.tf, and their .tofu and .json forms) replaces
// the primary files' block, as terraform's override merging does. When
// the diagnostics hold an error, the Code says what the readable files
// declare, which need not be what terraform would use: the caller must
// not trust it.
func ReadCode(dir string, name func(fsPath string) string) (*Code, hcl.Diagnostics) {
	code := &Code{Attrs: map[string]cty.Value{}}
	var primary []backendDecl
	var override *backendDecl
	// Only a file that mentions terraform can hold the block; skipping
	// the others spares parsing most of a large stack's code.
	diags := eachTerraformFile(dir, name, []byte("terraform"), func(n string, body hcl.Body) {
		decls := backendDecls(body)
		switch {
		case len(decls) == 0:
		case overrideFile(n):
			// Override files merge in name order: the last block wins.
			override = &decls[len(decls)-1]
		default:
			primary = append(primary, decls...)
		}
	})
	for _, dup := range primary[min(1, len(primary)):] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate backend block",
			Detail: fmt.Sprintf("This %s is a second backend configuration of the stack: its %s at %s is the first. Terraform accepts one per module and refuses to initialise. Remove one of them.",
				dup.what(), primary[0].what(), primary[0].rng),
			Subject: dup.rng.Ptr(),
		})
	}
	chosen := override
	if chosen == nil && len(primary) > 0 {
		chosen = &primary[0]
	}
	if chosen != nil {
		code.Type, code.Cloud, code.Range = chosen.typ, chosen.cloud, chosen.rng
		code.Attrs = chosen.attrs
	}
	return code, diags
}

// eachTerraformFile parses, in name order, the top-level *.tf, *.tofu,
// *.tf.json and *.tofu.json files of dir that contain mention, and
// calls fn with each file's name and body when it parses. Files that
// cannot be read or do not parse yield diagnostics: terraform would
// reject them too.
func eachTerraformFile(dir string, name func(fsPath string) string, mention []byte, fn func(file string, body hcl.Body)) hcl.Diagnostics {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unreadable stack directory",
			Detail: fmt.Sprintf("Cannot read %s: %s.", name(dir), printable.String(err.Error()))}}
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
		src, err := repofile.Read(fsPath, project.MaxTerraformFileSize)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable Terraform file",
				Detail:  fmt.Sprintf("Cannot read it: %s.", printable.String(err.Error())),
				Subject: &hcl.Range{Filename: name(fsPath), Start: hcl.InitialPos, End: hcl.InitialPos}})
			continue
		}
		if !bytes.Contains(src, mention) {
			continue
		}
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(n, ".json") {
			f, d = boundedhcl.ParseJSON(src, name(fsPath))
		} else {
			f, d = boundedhcl.ParseConfig(src, name(fsPath))
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		fn(n, f.Body)
	}
	return diags
}

func terraformFile(n string) bool {
	for _, ext := range terraformExts {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// terraformExts are the extensions of the files terraform and tofu read,
// longest first so that trimming one leaves the base name.
var terraformExts = []string{".tofu.json", ".tf.json", ".tofu", ".tf"}

// overrideFile reports whether terraform reads file n as an override
// file: override.tf or *_override.tf, in any of the extensions.
func overrideFile(n string) bool {
	for _, ext := range terraformExts {
		if base, ok := strings.CutSuffix(n, ext); ok {
			return base == "override" || strings.HasSuffix(base, "_override")
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

// backendDecl is one backend or cloud block of a file.
type backendDecl struct {
	typ   string // "" for a cloud block
	cloud bool
	rng   hcl.Range // the type label, or the cloud keyword
	attrs map[string]cty.Value
}

func (d backendDecl) what() string {
	if d.cloud {
		return "cloud block"
	}
	return fmt.Sprintf("backend %q", d.typ)
}

// backendDecls returns the backend and cloud blocks of every terraform
// block of body, in order, with the backend attributes whose values are
// literals: terraform merges -backend-config over them.
func backendDecls(body hcl.Body) []backendDecl {
	var out []backendDecl
	content, _, _ := body.PartialContent(fileSchema)
	for _, tb := range content.Blocks {
		inner, _, _ := tb.Body.PartialContent(terraformSchema)
		for _, b := range inner.Blocks {
			d := backendDecl{attrs: map[string]cty.Value{}}
			if b.Type == "cloud" {
				d.cloud, d.rng = true, b.TypeRange
				out = append(out, d)
				continue
			}
			d.typ, d.rng = b.Labels[0], b.LabelRanges[0]
			attrs, _ := b.Body.JustAttributes()
			for an, a := range attrs {
				if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.IsWhollyKnown() {
					d.attrs[an] = v
				}
			}
			out = append(out, d)
		}
	}
	return out
}
