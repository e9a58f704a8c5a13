// Package sharing resolves Terramate's outputs sharing (sharing_backend,
// input and output blocks, experiment outputs-sharing) for a tmci run:
// which stack each input block reads, and the value it passes once that
// stack's outputs in the run's environment are known (DESIGN.md §8,
// docs/architecture.md "Outputs sharing").
//
// Reading the outputs is the engine's job (it owns the data directories
// of every (stack, environment)); this package turns the bytes of
// `terraform output -json` into the outputs namespace and evaluates the
// repository's expressions with it.
package sharing

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/funcs"
	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/project"
)

// Input is one input block of a consumer stack, resolved.
type Input struct {
	// Stack is the consumer's project path; Source the stack its
	// from_stack_id names.
	Stack, Source string
	Name          string
	Backend       *project.SharingBackend
	// Sensitive is the block's sensitive = true: its value is a secret
	// whatever the source says.
	Sensitive bool
	Decl      *project.SharedInput
}

// Where is the file:line of the input block.
func (in *Input) Where() string {
	return fmt.Sprintf("%s:%d", in.Decl.DeclRange.Filename, in.Decl.DeclRange.Start.Line)
}

// Plan is the outputs sharing of a project: every stack's inputs. Its
// methods are safe for concurrent use (evaluation is serialised: a
// project.Scope is not).
type Plan struct {
	// Inputs are each consumer's inputs by stack path, in source order.
	Inputs map[string][]*Input

	p      *project.Project
	mu     sync.Mutex
	scopes map[string]*project.Scope
}

// Resolve reads the input blocks of every stack of p: it evaluates
// from_stack_id, backend and sensitive in the stack's scope (global.*,
// terramate.*), finds the source stack and the sharing backend, and
// checks that tmci can read the outputs that backend names. Every
// problem is a diagnostic at the attribute or block.
func Resolve(p *project.Project) (*Plan, hcl.Diagnostics) {
	pl := &Plan{Inputs: map[string][]*Input{}, p: p, scopes: map[string]*project.Scope{}}
	byID := map[string]*project.Stack{}
	for _, s := range p.Stacks {
		if s.ID != "" {
			byID[s.ID] = s
		}
	}
	var diags hcl.Diagnostics
	for _, s := range p.Stacks {
		decls := p.SharedInputs(s.Path)
		if len(decls) == 0 {
			continue
		}
		sc := p.Scope(s)
		pl.scopes[s.Path] = sc
		for _, d := range decls {
			in, ds := resolveInput(p, sc, s, d, byID)
			diags = append(diags, ds...)
			if in != nil {
				pl.Inputs[s.Path] = append(pl.Inputs[s.Path], in)
			}
		}
	}
	return pl, diags
}

func resolveInput(p *project.Project, sc *project.Scope, s *project.Stack, d *project.SharedInput, byID map[string]*project.Stack) (*Input, hcl.Diagnostics) {
	id, diags := evalString(sc, d.FromStackID, "from_stack_id")
	if diags.HasErrors() {
		return nil, diags
	}
	src, ok := byID[id]
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown stack ID",
			Detail:   fmt.Sprintf("The input %s of stack %s reads the outputs of the stack with id %q, and no stack has that id. Set from_stack_id to the stack.id of the stack whose outputs it needs.", d.Name, s.Path, id),
			Subject:  d.FromStackID.Range().Ptr(),
		}}
	}
	if src == s {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Input reads its own stack",
			Detail:   fmt.Sprintf("The input %s of stack %s reads the outputs of the stack itself, which cannot exist before it runs. Name another stack in from_stack_id.", d.Name, s.Path),
			Subject:  d.FromStackID.Range().Ptr(),
		}}
	}
	name, diags := evalString(sc, d.Backend, "backend")
	if diags.HasErrors() {
		return nil, diags
	}
	be, ok := p.SharingBackend(s.Path, name)
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown sharing backend",
			Detail:   fmt.Sprintf("No sharing_backend %q is declared in %s or a directory above it. Declare one, or name an existing one.", name, s.Path),
			Subject:  d.Backend.Range().Ptr(),
		}}
	}
	if diag := checkCommand(be); diag != nil {
		return nil, hcl.Diagnostics{diag}
	}
	in := &Input{Stack: s.Path, Source: src.Path, Name: d.Name, Backend: be, Decl: d}
	if d.Sens != nil {
		v, ds := sc.Eval(d.Sens, nil)
		if ds.HasErrors() {
			return nil, ds
		}
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid input sensitive",
				Detail: "sensitive must be true or false.", Subject: d.Sens.Range().Ptr()}}
		}
		in.Sensitive = v.True()
	}
	return in, nil
}

// checkCommand accepts the commands that read a stack's outputs as JSON
// from its backend: `terraform output -json` or `tofu output -json`.
// tmci runs its own terraform or tofu with the source's data directory
// for the run's environment; any other command could not be pointed at
// an environment, so it is refused rather than run blind.
func checkCommand(be *project.SharingBackend) *hcl.Diagnostic {
	c := be.Command
	if len(c) == 3 && (filepath.Base(c[0]) == "terraform" || filepath.Base(c[0]) == "tofu") && c[1] == "output" && c[2] == "-json" {
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported sharing_backend command",
		Detail: fmt.Sprintf("tmci reads a source stack's outputs in the run's environment with its own terraform or tofu, so the sharing_backend %s must say command = [\"terraform\", \"output\", \"-json\"] (or tofu); %q cannot be pointed at an environment.",
			be.Name, c),
		Subject: be.CommandRange.Ptr(),
	}
}

func evalString(sc *project.Scope, expr hcl.Expression, what string) (string, hcl.Diagnostics) {
	v, diags := sc.Eval(expr, nil)
	if diags.HasErrors() {
		return "", diags
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String || v.AsString() == "" {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid input " + what,
			Detail: what + " must be a non-empty string.", Subject: expr.Range().Ptr()}}
	}
	return v.AsString(), nil
}

// Sources returns the stacks whose outputs the given consumers read,
// sorted.
func (pl *Plan) Sources(consumers []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range consumers {
		for _, in := range pl.Inputs[c] {
			if !seen[in.Source] {
				seen[in.Source] = true
				out = append(out, in.Source)
			}
		}
	}
	sort.Strings(out)
	return out
}

// MaxOutputBytes bounds what tmci reads of `terraform output -json`: the
// outputs of one stack are data for expressions, capped like any value
// tmci evaluates (with room for JSON's quoting).
const MaxOutputBytes = 4 * boundedhcl.MaxValueSize

// DecodeOutputs turns the output of `terraform output -json` into the
// outputs namespace: an object with one attribute per output, holding
// value, type and sensitive, as Terramate gives it. The value of a
// sensitive output carries funcs.Sensitive's mark, so that whatever an
// input computes from it is a secret. It also returns the strings of
// the sensitive values, for the redaction layer.
func DecodeOutputs(data []byte) (cty.Value, []string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return cty.NilVal, nil, fmt.Errorf("reading terraform output -json: %w", err)
	}
	if len(raw) == 0 {
		return cty.EmptyObjectVal, nil, nil
	}
	attrs := make(map[string]cty.Value, len(raw))
	var secrets []string
	for name, msg := range raw {
		t, err := ctyjson.ImpliedType(msg)
		if err != nil {
			return cty.NilVal, nil, fmt.Errorf("reading output %s of terraform output -json: %w", name, err)
		}
		v, err := ctyjson.Unmarshal(msg, t)
		if err != nil {
			return cty.NilVal, nil, fmt.Errorf("reading output %s of terraform output -json: %w", name, err)
		}
		if !v.Type().IsObjectType() || !v.Type().HasAttribute("value") {
			return cty.NilVal, nil, fmt.Errorf("output %s of terraform output -json has no value", name)
		}
		sens := v.Type().HasAttribute("sensitive") && v.GetAttr("sensitive").Type() == cty.Bool &&
			!v.GetAttr("sensitive").IsNull() && v.GetAttr("sensitive").True()
		if sens {
			fields := v.AsValueMap()
			secrets = append(secrets, backend.InputSecrets([]backend.Input{{Val: fields["value"], Sensitive: true}})...)
			fields["value"] = fields["value"].Mark(funcs.Sensitive)
			v = cty.ObjectVal(fields)
		}
		attrs[name] = v
	}
	return cty.ObjectVal(attrs), secrets, nil
}

// Value is an input's value for one run.
type Value struct {
	Val cty.Value
	// Secret is true when the input is sensitive or its value derives
	// from a sensitive output.
	Secret bool
	// Mocked is true when Val is the input's mock: Reason says why the
	// outputs could not give the value.
	Mocked bool
	Reason string
}

// Eval evaluates the input's value with outputs, the source's outputs
// namespace (DecodeOutputs). When that fails and mockOK is true, the
// input's mock is the value, said so in Reason; without a mock, or
// with mockOK false, the failure is returned. noState is true when the
// source has no state in the environment (Reason says so then).
func (pl *Plan) Eval(in *Input, outputs cty.Value, noState bool, env string, mockOK bool) (Value, hcl.Diagnostics) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	sc := pl.scopes[in.Stack]
	v, diags := sc.Eval(in.Decl.Value, map[string]cty.Value{"outputs": outputs})
	if !diags.HasErrors() {
		return pl.check(in, v, in.Decl.Value.Range())
	}
	// HCL's details quote the values they failed on (`cannot convert
	// "S3CRET" to number`), and a value derived from a sensitive output
	// is in no redaction set: with sensitive outputs, the summary only.
	reason := fmt.Sprintf("its value cannot be computed from the outputs of %s in %s: %s", in.Source, env, firstError(diags, !outputs.ContainsMarked()))
	if noState {
		reason = fmt.Sprintf("%s has no state in %s yet", in.Source, env)
	}
	if !mockOK || in.Decl.Mock == nil {
		hint := "declare a mock for plans, or apply " + in.Source + " in " + env + " first"
		if !mockOK {
			hint = "apply " + in.Source + " in " + env + " first; tmci applies no mock value"
			if in.Decl.Mock == nil {
				hint = "apply " + in.Source + " in " + env + " first"
			}
		}
		return Value{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Input without a value",
			Detail:   fmt.Sprintf("The input %s of stack %s (%s) has no value: %s. To fix: %s.", in.Name, in.Stack, in.Where(), reason, hint),
			Subject:  in.Decl.DeclRange.Ptr(),
		}}
	}
	m, mdiags := sc.Eval(in.Decl.Mock, nil)
	if mdiags.HasErrors() {
		return Value{}, mdiags
	}
	out, d := pl.check(in, m, in.Decl.Mock.Range())
	out.Mocked, out.Reason = true, reason
	return out, d
}

// check accepts a value an input may pass: a known one. Its size is
// already bounded: project.Scope.Eval refuses a result over
// boundedhcl.MaxValueSize.
func (pl *Plan) check(in *Input, v cty.Value, rng hcl.Range) (Value, hcl.Diagnostics) {
	u, marks := v.UnmarkDeep()
	if !u.IsWhollyKnown() {
		return Value{}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid input value",
			Detail:  fmt.Sprintf("The input %s of stack %s is not known before the run; give it a value tmci can compute.", in.Name, in.Stack),
			Subject: rng.Ptr()}}
	}
	_, marked := marks[funcs.Sensitive]
	return Value{Val: u, Secret: marked || in.Sensitive}, nil
}

// firstError is the first error among diags, with its detail if
// withDetail.
func firstError(diags hcl.Diagnostics, withDetail bool) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if withDetail && d.Detail != "" {
				return d.Summary + ": " + d.Detail
			}
			return d.Summary
		}
	}
	return "unknown error"
}

// TFVars returns the TF_VAR_ entries of a consumer's values (by input
// name) for the stack in directory dir, encoded as the stack declares
// each variable (backend.TFVarEnv: Terramate's generated declarations
// are of type any, so the value goes as HCL, as Terramate passes it),
// and the secrets among them in every form a log may show.
func TFVars(dir string, name func(string) string, inputs []*Input, vals map[string]Value) ([]string, []string, hcl.Diagnostics) {
	var bi []backend.Input
	for _, in := range inputs {
		v, ok := vals[in.Name]
		if !ok || v.Val.IsNull() {
			continue
		}
		bi = append(bi, backend.Input{Name: in.Name, Val: v.Val, Sensitive: v.Secret, Range: in.Decl.DeclRange})
	}
	env, diags := backend.TFVarEnv(dir, name, bi)
	return env, backend.InputSecrets(bi), diags
}
