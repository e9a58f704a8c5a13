package project

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
)

// MaxTerraformFileSize is the largest Terraform file tmci reads (for the
// backend block and local module sources). Generated Terraform can be
// larger than hand-written config, so the cap is above MaxConfigSize.
const MaxTerraformFileSize = 16 << 20

// checkValueSize returns an error when v, the value of expr, is larger
// than boundedhcl.MaxValueSize. name is the global expr defines, if any.
// Checking every value bounds chains of globals that each double the last.
func checkValueSize(v cty.Value, expr hcl.Expression, name string) *hcl.Diagnostic {
	if boundedhcl.ValueSize(v, boundedhcl.MaxValueSize) <= boundedhcl.MaxValueSize {
		return nil
	}
	return tooLarge(expr, name, "evaluates to")
}

// checkInputSize returns an error when the globals expr refers to, counted
// once per reference, add up to over boundedhcl.MaxValueSize: a template
// naming a large global a thousand times would need gigabytes before
// checkValueSize could see its result.
func checkInputSize(expr hcl.Expression, globals map[string]cty.Value, name string) *hcl.Diagnostic {
	total := 0
	for _, tr := range expr.Variables() {
		if tr.RootName() != "global" {
			continue
		}
		ref, ok := TraversalStep(tr)
		if !ok {
			// The whole global object: every global.
			for _, v := range globals {
				total += boundedhcl.ValueSize(v, boundedhcl.MaxValueSize)
			}
		} else if v, ok := globals[ref]; ok {
			total += boundedhcl.ValueSize(v, boundedhcl.MaxValueSize)
		}
		if total > boundedhcl.MaxValueSize {
			return tooLarge(expr, name, "would combine")
		}
	}
	return nil
}

func tooLarge(expr hcl.Expression, name, verb string) *hcl.Diagnostic {
	what := "This expression"
	if name != "" {
		what = "global." + name
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value too large",
		Detail: fmt.Sprintf("%s %s over %s of data, tmci's limit for one value; a value this large is a mistake or an attack (a chain of globals that each double the last). Make it smaller.",
			what, verb, repofile.Size(boundedhcl.MaxValueSize)),
		Subject: expr.Range().Ptr(),
	}
}
