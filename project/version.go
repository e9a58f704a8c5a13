package project

import (
	"fmt"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TerramateVersion is the Terramate release whose semantics tmci follows:
// the configuration it accepts, how it finds the root, selects, orders and
// detects changes. A project's terramate.required_version is checked
// against it.
const TerramateVersion = "0.17.2"

// RequiredVersion is the root's terramate { required_version } setting.
type RequiredVersion struct {
	// Constraint is the constraint as written: ">= 0.11.1", "~> 0.17".
	Constraint string
	// AllowPrereleases is required_version_allow_prereleases.
	AllowPrereleases bool
	// Range covers the constraint's expression.
	Range hcl.Range

	// constraints is Constraint parsed; nil when it is malformed.
	constraints version.Constraints
}

// Met reports whether TerramateVersion satisfies the constraint.
//
// Terramate parses the constraint with hashicorp/go-version, or, with
// required_version_allow_prereleases, with a Ruby-style parser that also
// lets a prerelease constraint match later releases. For a release (not a
// prerelease) such as TerramateVersion both read the usual operators
// (=, !=, >, >=, <, <=, ~>, comma for AND) the same way, so go-version
// answers for both; the recorded answers of Terramate 0.17.2 in
// version_test.go hold it to that.
func (rv *RequiredVersion) Met() bool {
	return rv.constraints != nil && rv.constraints.Check(version.Must(version.NewVersion(TerramateVersion)))
}

// Unmet is the problem of a constraint TerramateVersion does not meet:
// an error (Terramate 0.17.2 refuses such a project, and tmci reads it as
// 0.17.2 does), or with warn a warning that tmci goes on.
func (rv *RequiredVersion) Unmet(warn bool) *hcl.Diagnostic {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported Terramate version",
		Detail: fmt.Sprintf("The project requires Terramate %q; tmci reads projects as Terramate %s does, "+
			"which does not satisfy it (Terramate %s refuses this project too). Change required_version "+
			"if the project works with %s, or set TMCI_REQUIRED_VERSION=warn to go on with %s's semantics.",
			rv.Constraint, TerramateVersion, TerramateVersion, TerramateVersion, TerramateVersion),
		Subject: rv.Range.Ptr(),
	}
	if warn {
		d.Severity = hcl.DiagWarning
		d.Detail = fmt.Sprintf("The project requires Terramate %q, which %s does not satisfy; "+
			"tmci goes on reading it as Terramate %s does (TMCI_REQUIRED_VERSION=warn).",
			rv.Constraint, TerramateVersion, TerramateVersion)
	}
	return d
}

// readRequiredVersion reads required_version and
// required_version_allow_prereleases from the root's terramate block tm.
// A malformed constraint is an error, as in Terramate.
func (l *loader) readRequiredVersion(tm *hclsyntax.Block) {
	attr := tm.Body.Attributes["required_version"]
	if attr == nil {
		return
	}
	s, ok := l.literalString(attr)
	if !ok {
		return
	}
	rv := &RequiredVersion{Constraint: s, Range: attr.Expr.Range()}
	if pre := tm.Body.Attributes["required_version_allow_prereleases"]; pre != nil {
		v, diags := pre.Expr.Value(&hcl.EvalContext{Functions: l.p.funcs})
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.Bool) {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid required_version_allow_prereleases",
					Detail:   "required_version_allow_prereleases must be true or false.",
					Subject:  pre.Expr.Range().Ptr(),
				})
			} else {
				rv.AllowPrereleases = v.True()
			}
		}
	}
	c, err := version.NewConstraint(s)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid required_version",
			Detail: fmt.Sprintf("%v. Write a version constraint such as \">= 0.11\" or \"~> 0.17.0\" "+
				"(operators =, !=, >, >=, <, <=, ~>; a comma means and).", err),
			Subject: attr.Expr.Range().Ptr(),
		})
		return
	}
	rv.constraints = c
	l.p.RequiredVersion = rv
}
