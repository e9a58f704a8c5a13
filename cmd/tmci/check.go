package main

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/backend"
)

func (a *app) cmdCheck(args []string) int {
	fs := a.flags("check")
	bf := a.addBackendFlags(fs)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "tmci check: unexpected argument %q\n", fs.Arg(0))
		return exitFailure
	}
	p := a.loadProject()
	if p == nil {
		return exitFailure
	}
	// Globals a template does not read still break generate_* and
	// terramate run: check them all.
	if diags := p.CheckGlobals(); diags.HasErrors() {
		a.printDiags(p, diags)
		n := errorCount(diags)
		fmt.Fprintf(a.stderr, "tmci check: %d %s in globals\n", n, plural(n, "error", "errors"))
		return exitFailure
	}
	if len(p.TMCI.Backends) == 0 {
		fmt.Fprintln(a.stdout, "tmci check: no tmci.hcl declares a backend; nothing to check")
		return exitOK
	}
	r := a.resolver(p, bf)
	if r == nil {
		return exitFailure
	}
	opts := backend.CheckOptions{}
	if *bf.env != "" {
		opts.Envs = []string{*bf.env}
	}
	rep, err := r.Check(a.ctx, opts)
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci check: %v\n", err)
		return exitFailure
	}
	a.printDiags(p, rep.Diags)
	if n := errorCount(rep.Diags); n > 0 {
		fmt.Fprintf(a.stderr, "tmci check: %d %s\n", n, plural(n, "error", "errors"))
		return exitFailure
	}
	fmt.Fprintf(a.stdout, "tmci check: %d %s in %s: backends isolated\n",
		rep.Stacks, plural(rep.Stacks, "stack", "stacks"), strings.Join(rep.Envs, ", "))
	return exitOK
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
