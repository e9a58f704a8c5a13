package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/sharing"
)

// stackInputs evaluates the tmci.hcl inputs of every stack in env and
// returns their TF_VAR_ entries by stack path. Sensitive values join the
// run's secrets (and GitHub's masks) before any terraform output can
// show one. ok is false after printing the diagnostics.
func (a *app) stackInputs(p *project.Project, bf backendFlags, env string, stacks []*project.Stack) (map[string][]string, bool) {
	if !hasInputs(p) {
		return nil, true
	}
	r := a.resolver(p, bf)
	if r == nil {
		return nil, false
	}
	out := map[string][]string{}
	var diags hcl.Diagnostics
	var secrets []string
	for _, s := range stacks {
		vars, sec, d := r.StackTFVars(s, env)
		diags = append(diags, d...)
		secrets = append(secrets, sec...)
		if len(vars) > 0 {
			out[s.Path] = vars
		}
	}
	a.secrets.Add(secrets...)
	a.maskValues(secrets)
	a.printDiags(p, diags)
	return out, !diags.HasErrors()
}

// hasInputs reports whether any tmci.hcl declares an input.
func hasInputs(p *project.Project) bool {
	if len(p.TMCI.Inputs) > 0 {
		return true
	}
	for _, e := range p.TMCI.Environments {
		if len(e.Inputs) > 0 {
			return true
		}
	}
	return false
}

// inputJSON is one input as tmci inputs --json prints it.
type inputJSON struct {
	Stack       string          `json:"stack"`
	Environment string          `json:"environment"`
	Name        string          `json:"name"`
	Value       json.RawMessage `json:"value"`
	Sensitive   bool            `json:"sensitive"`
	// HCL is the value as HCL, the form TF_VAR_ carries for a variable
	// terraform parses (a string of a string variable goes unquoted).
	HCL string `json:"hcl"`
	// Defined is the file:line of the winning definition.
	Defined string `json:"defined"`
	// FromStack is, for a Terramate input block, the stack whose
	// outputs give the value when the stack runs; Value is then null
	// and HCL empty (tmci inputs reads no state).
	FromStack string `json:"from_stack,omitempty"`
}

func (a *app) cmdInputs(args []string) int {
	fs := a.flags("inputs")
	// --backend-config changes no input, so inputs does not take it.
	bf := backendFlags{env: new(string), backendConfig: &[]string{}}
	fs.Var((*onceString)(bf.env), "env", "target environment `NAME` (e.g. prod, pr-123)")
	stackFlag := fs.String("stack", "", "the stack `PATH` (/stacks/app, or relative to the working directory); default: the stack in the working directory, or every stack below it")
	asJSON := fs.Bool("json", false, "print JSON: one object per (stack, input)")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if err := a.inputsCmd(fs.Args(), bf, *stackFlag, *asJSON); err != nil {
		return a.fail("tmci inputs", err)
	}
	return exitOK
}

// inputsCmd is tmci inputs after its flags are parsed: every selected
// stack's inputs in the environment, sensitive ones redacted (the
// redaction layer masks them too, in whatever form).
func (a *app) inputsCmd(args []string, bf backendFlags, stackFlag string, asJSON bool) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case *bf.env == "":
		return errors.New("--env is required: name the environment whose inputs to print, e.g. --env=prod")
	}
	p, err := a.loadProject()
	if err != nil {
		return err
	}
	if _, err := engine.CheckEnvironment(p, *bf.env); err != nil {
		return err
	}
	r := a.resolver(p, bf)
	if r == nil {
		return errPrinted
	}
	stacks, _, err := a.backendStacks(p, stackFlag)
	if err != nil {
		return err
	}
	pl, ok := a.sharingOf(p)
	if !ok {
		return errPrinted
	}
	out, err := a.collectInputs(p, r, pl, stacks, *bf.env)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	a.printInputs(out, *bf.env)
	return nil
}

// collectInputs evaluates the inputs of stacks in environment env: those
// of tmci.hcl with their values, and Terramate input blocks with the
// stack their value comes from. errPrinted when a stack's inputs do not
// evaluate (the diagnostics are printed).
func (a *app) collectInputs(p *project.Project, r *backend.Resolver, pl *sharing.Plan, stacks []*project.Stack, env string) ([]inputJSON, error) {
	out := []inputJSON{}
	failed := false
	for _, s := range stacks {
		inputs, diags := r.Inputs(p.Scope(s), env)
		a.printDiags(p, diags)
		if diags.HasErrors() {
			failed = true
			continue
		}
		a.secrets.Add(backend.InputSecrets(inputs)...)
		for _, in := range inputs {
			j, err := newInputJSON(s.Path, env, in)
			if err != nil {
				return nil, err
			}
			out = append(out, j)
		}
		for _, in := range pl.Inputs[s.Path] {
			out = append(out, inputJSON{Stack: s.Path, Environment: env, Name: in.Name, Sensitive: in.Sensitive,
				Value: json.RawMessage("null"), Defined: in.Where(), FromStack: in.Source})
		}
	}
	if failed {
		return nil, errPrinted
	}
	return out, nil
}

// newInputJSON is input in of the stack at path, its value redacted when
// it is sensitive.
func newInputJSON(path, env string, in backend.Input) (inputJSON, error) {
	j := inputJSON{Stack: path, Environment: env, Name: in.Name, Sensitive: in.Sensitive,
		Defined: fmt.Sprintf("%s:%d", in.Range.Filename, in.Range.Start.Line), HCL: backend.Redacted}
	j.Value = json.RawMessage(`"` + backend.Redacted + `"`)
	if in.Sensitive {
		return j, nil
	}
	j.HCL = backend.EncodeTFVar(in.Val, false)
	var err error
	if j.Value, err = (ctyjson.SimpleJSONValue{Value: in.Val}).MarshalJSON(); err != nil {
		return j, fmt.Errorf("encoding input %s of stack %s: %w", in.Name, path, err)
	}
	return j, nil
}

// printInputs prints out as text, grouped by stack.
func (a *app) printInputs(out []inputJSON, env string) {
	if len(out) == 0 {
		fmt.Fprintf(a.stdout, "no inputs for the selected stacks in %s\n", env)
		return
	}
	stack := ""
	for _, j := range out {
		if j.Stack != stack {
			stack = j.Stack
			fmt.Fprintf(a.stdout, "%s\n", printable.String(stack))
		}
		if j.FromStack != "" {
			fmt.Fprintf(a.stdout, "  %s = <outputs of %s when it runs> (input block at %s)\n", j.Name, printable.String(j.FromStack), printable.String(j.Defined))
			continue
		}
		fmt.Fprintf(a.stdout, "  %s = %s\n", j.Name, strings.ReplaceAll(printable.String(j.HCL), "\n", "\n    "))
	}
}
