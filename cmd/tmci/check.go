package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/tf"
)

func (a *app) cmdCheck(args []string) int {
	fs := a.flags("check")
	bf := a.addBackendFlags(fs)
	asJSON := fs.Bool("json", false, "print the problems and the pairs that share state as JSON (backend.CheckJSON)")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if err := a.check(fs, bf, *asJSON); err != nil {
		return a.fail("tmci check", err)
	}
	return exitOK
}

// check is tmci check after its flags are parsed: the globals, then the
// isolation of every backend in every environment (or --env).
func (a *app) check(fs *pflag.FlagSet, bf backendFlags, asJSON bool) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	p, err := a.loadProject()
	if err != nil {
		return err
	}
	// Globals a template does not read still break generate_* and
	// terramate run: check them all.
	if diags := p.CheckGlobals(); diags.HasErrors() {
		a.printDiags(p, diags)
		n := errorCount(diags)
		return fmt.Errorf("%d %s in globals", n, plural(n, "error", "errors"))
	}
	// Outputs sharing's input blocks: sources, backends, commands.
	if _, ok := a.sharingOf(p); !ok {
		return errors.New("the input blocks have problems (see above)")
	}
	if len(p.TMCI.Backends) == 0 {
		fmt.Fprintln(a.stdout, "tmci check: no tmci.hcl declares a backend; nothing to check")
		return nil
	}
	r := a.resolver(p, bf)
	if r == nil {
		return errPrinted
	}
	opts := backend.CheckOptions{}
	if *bf.env != "" {
		if _, err := engine.CheckEnvironment(p, *bf.env); err != nil {
			return err
		}
		opts.Envs = []string{*bf.env}
	}
	rep, err := r.Check(a.ctx, opts)
	if err != nil {
		return err
	}
	// The attributes the binary a run would use does not know; without
	// one (check runs where terraform is not installed) they are not
	// judged.
	if bin, err := tf.FindBinary("", a.getenv); err == nil {
		rep.Diags = append(rep.Diags, a.toolDiags(p, bin)...)
	}
	if asJSON {
		return a.printCheckJSON(rep)
	}
	a.printDiags(p, rep.Diags)
	if n := errorCount(rep.Diags); n > 0 {
		return fmt.Errorf("%d %s", n, plural(n, "error", "errors"))
	}
	fmt.Fprintf(a.stdout, "tmci check: %d %s in %s: backends isolated\n",
		rep.Stacks, plural(rep.Stacks, "stack", "stacks"), strings.Join(rep.Envs, ", "))
	return nil
}

// printCheckJSON prints rep as JSON; the problems are in it, so an error
// is errPrinted.
func (a *app) printCheckJSON(rep *backend.Report) error {
	out, err := rep.JSON()
	if err != nil {
		return err
	}
	if _, err := a.stdout.Write(out); err != nil {
		return err
	}
	if rep.Diags.HasErrors() {
		return errPrinted
	}
	return nil
}

func errorCount(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// toolDiags returns the backend attributes the binary bin does not know,
// at their line in tmci.hcl, which terraform would refuse at a line of a
// generated file instead (backend.CheckTool). It asks the binary its
// version only when a template sets such an attribute; a binary that
// does not say is left for terraform to judge.
func (a *app) toolDiags(p *project.Project, bin string) hcl.Diagnostics {
	if !backend.NeedsTool(p) {
		return nil
	}
	name, v, err := tf.Identify(a.ctx, bin, a.environ())
	if err != nil {
		a.log.Debug("backend attributes not checked against the binary", "err", err)
		return nil
	}
	return backend.CheckTool(p, backend.Tool{Name: name, Version: v})
}

// checkTool is toolDiags for a run: the problems printed, and an error
// that stops it before terraform starts.
func (a *app) checkTool(p *project.Project, bin string) error {
	diags := a.toolDiags(p, bin)
	if !diags.HasErrors() {
		return nil
	}
	a.printDiags(p, diags)
	n := errorCount(diags)
	return fmt.Errorf("%d backend %s unknown to %s", n, plural(n, "attribute", "attributes"), filepath.Base(bin))
}
