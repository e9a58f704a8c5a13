package backend

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/funcs"
	"github.com/tmci/tmci/project"
)

// Input is one evaluated inputs {} value of a (stack, environment) pair:
// a terraform variable tmci passes as TF_VAR_<Name> (DESIGN.md §8).
type Input struct {
	Name string
	// Val is the value without marks; any type.
	Val cty.Value
	// Sensitive is true for a value the configuration marks with
	// sensitive(): its strings are secrets of the run.
	Sensitive bool
	// Range is the expression that defined the value.
	Range hcl.Range
}

// Inputs evaluates the inputs that apply to the scope's stack in
// environment envName, sorted by name, with the namespaces and
// functions of backend templates (environment.*, env.*, global.*,
// terramate.*). A null value leaves the input unset, which is how a
// subtree or an environment drops an inherited one. Each value is
// capped at boundedhcl.MaxValueSize by the scope that evaluates it.
//
// In a project that declares no environment, environment.name is the
// --env value ("" without one) and the environment has no attributes.
func (r *Resolver) Inputs(sc *project.Scope, envName string) ([]Input, hcl.Diagnostics) {
	e := &project.Environment{Name: envName}
	if len(r.p.TMCI.Environments) > 0 {
		var err error
		if e, err = r.p.TMCI.Match(envName); err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid environment", Detail: err.Error() + "."}}
		}
	}
	defs := r.p.TMCI.InputsFor(sc.Stack().Path, e)
	if len(defs) == 0 {
		return nil, nil
	}
	ev := &evaluator{r: r, sc: sc, env: e, name: envName, envAttrs: map[string]cty.Value{}, envDiags: map[string]hcl.Diagnostics{}}
	var out []Input
	var diags hcl.Diagnostics
	for _, n := range project.SortedInputNames(defs) {
		attr := defs[n]
		v, d := ev.eval(attr.Expr, true)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, marks := v.UnmarkDeep()
		if v.IsNull() {
			continue
		}
		if rng, shared := r.p.SharedInput(sc.Stack().Path, n); shared {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Input set twice",
				Detail: fmt.Sprintf("Stack %s receives %s through Terramate's outputs sharing (input block at %s); rename this input, or set it to null for the stack in its own tmci.hcl.",
					sc.Stack().Path, n, rng),
				Subject: attr.NameRange.Ptr(),
			})
			continue
		}
		if !v.IsWhollyKnown() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid input value",
				Detail:   fmt.Sprintf("Input %s of stack %s is not known; give it a value tmci can compute before the run.", n, sc.Stack().Path),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		_, secret := marks[funcs.Sensitive]
		out = append(out, Input{Name: n, Val: v, Sensitive: secret, Range: attr.Expr.Range()})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// InputSecrets returns the strings of the sensitive inputs, and each
// sensitive value's encoding when it differs (a list's HCL text holds
// its strings quoted): every form terraform or a log might show.
func InputSecrets(inputs []Input) []string {
	var out []string
	for _, in := range inputs {
		if !in.Sensitive {
			continue
		}
		out = append(out, stringsOf(in.Val)...)
		if in.Val.Type() != cty.String && in.Val.Type() != cty.Number && in.Val.Type() != cty.Bool {
			out = append(out, EncodeTFVar(in.Val, false))
		}
	}
	return out
}

// EncodeTFVar renders v as the value of TF_VAR_<name>. terraform takes
// the variable of a string-typed or untyped declaration literally, and
// parses every other as an HCL expression: literal is true for the
// former. Terramate's outputs sharing always writes HCL (its generated
// variables are of type any); a string written that way for a
// `type = string` variable would keep its quotes, so a string goes raw
// where terraform reads literally.
func EncodeTFVar(v cty.Value, literal bool) string {
	if literal && v.Type() == cty.String {
		return v.AsString()
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
}

// TFVarEnv returns the "TF_VAR_<name>=value" entries of inputs for the
// stack in directory dir (a filesystem path), encoding each value as
// the stack's declaration of the variable makes terraform read it.
// name turns a file's filesystem path into the name diagnostics use.
func TFVarEnv(dir string, name func(string) string, inputs []Input) ([]string, hcl.Diagnostics) {
	if len(inputs) == 0 {
		return nil, nil
	}
	hclParsed, diags := variableParseModes(dir, name)
	out := make([]string, 0, len(inputs))
	for _, in := range inputs {
		v := EncodeTFVar(in.Val, !hclParsed[in.Name])
		if strings.ContainsRune(v, 0) {
			// No environment variable can hold a NUL byte.
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid input value",
				Detail:   fmt.Sprintf("Input %s holds a NUL character, which no environment variable can carry; remove it.", in.Name),
				Subject:  in.Range.Ptr(),
			})
			continue
		}
		out = append(out, "TF_VAR_"+in.Name+"="+v)
	}
	return out, diags
}

var (
	variableFileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}}
	variableSchema     = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}}}
)

// variableParseModes returns the variables the stack's code declares
// with a type other than string, which terraform parses from TF_VAR_ as
// HCL; the others (string, or no type) it takes literally.
func variableParseModes(dir string, name func(string) string) (map[string]bool, hcl.Diagnostics) {
	out := map[string]bool{}
	diags := eachTerraformFile(dir, name, []byte("variable"), func(_ string, body hcl.Body) {
		content, _, _ := body.PartialContent(variableFileSchema)
		for _, b := range content.Blocks {
			attrs, _, _ := b.Body.PartialContent(variableSchema)
			t, ok := attrs.Attributes["type"]
			if !ok {
				continue
			}
			out[b.Labels[0]] = hcl.ExprAsKeyword(t.Expr) != "string"
		}
	})
	return out, diags
}

// StackTFVars evaluates the inputs of stack s in environment envName and
// returns their TF_VAR_ entries and secrets; a stack without inputs
// gets none and reads no file.
func (r *Resolver) StackTFVars(s *project.Stack, envName string) (env, secrets []string, diags hcl.Diagnostics) {
	inputs, diags := r.Inputs(r.p.Scope(s), envName)
	if diags.HasErrors() || len(inputs) == 0 {
		return nil, nil, diags
	}
	env, d := TFVarEnv(r.p.FSPath(s.Path), r.fileName, inputs)
	return env, InputSecrets(inputs), append(diags, d...)
}
