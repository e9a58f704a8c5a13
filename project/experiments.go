package project

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// experimentalBlocks maps each block Terramate 0.17.2 knows only as an
// experiment to the name terramate.config.experiments must list to enable
// it. Without it Terramate refuses the project, and so does tmci: a
// project that Terramate will not load is not one tmci should run.
var experimentalBlocks = map[string]string{
	"script":          "scripts",
	"input":           "outputs-sharing",
	"output":          "outputs-sharing",
	"sharing_backend": "outputs-sharing",
}

// singleLabel are the experimental blocks that, once enabled, take
// exactly one label (their name), as Terramate checks.
var singleLabel = map[string]bool{"input": true, "output": true, "sharing_backend": true}

// readExperiments reads terramate.config.experiments of one root-directory
// terramate block: a list of strings.
func (l *loader) readExperiments(tm *hclsyntax.Block) {
	for _, cfg := range nestedBlocks(tm, "config") {
		attr, ok := cfg.Body.Attributes["experiments"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(&hcl.EvalContext{Functions: l.p.funcs})
		if diags.HasErrors() {
			l.diags = append(l.diags, diags...)
			continue
		}
		if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
			l.experimentsInvalid(attr)
			continue
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				l.experimentsInvalid(attr)
				break
			}
			l.experiments = append(l.experiments, e.AsString())
		}
	}
}

func (l *loader) experimentsInvalid(attr *hclsyntax.Attribute) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid experiments",
		Detail:   `terramate.config.experiments must be a list of strings, like ["scripts"].`,
		Subject:  attr.Expr.Range().Ptr(),
	})
}

// checkExperimental reports every experimental block of the project's
// directories whose experiment the root does not enable, and, for enabled
// ones, a label count Terramate refuses.
func (l *loader) checkExperimental() {
	for _, b := range l.experimental {
		name := experimentalBlocks[b.Type]
		if !slices.Contains(l.experiments, name) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Experimental block not enabled",
				Detail: fmt.Sprintf("Terramate %s knows %s blocks only as the experiment %q: add terramate { config { experiments = [%q] } } to the project root's configuration, or remove the block.",
					TerramateVersion, b.Type, name, name),
				Subject: b.TypeRange.Ptr(),
			})
			continue
		}
		if singleLabel[b.Type] && len(b.Labels) != 1 {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + b.Type + " block",
				Detail:   fmt.Sprintf("A %s block takes exactly one label, its name (%s \"name\" { ... }); this one has %d.", b.Type, b.Type, len(b.Labels)),
				Subject:  b.TypeRange.Ptr(),
			})
		}
	}
}
