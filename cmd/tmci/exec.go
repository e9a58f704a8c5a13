package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/tf"
)

// evalRunEnv evaluates Terramate's terramate.config.run.env variables
// for every stack, as Terramate does before running a command in it:
// per stack, with global.*, terramate.* and env.* (the process
// environment). It returns "NAME=value" entries by stack path; ok is
// false after printing the diagnostics.
func (a *app) evalRunEnv(p *project.Project, stacks []*project.Stack) (map[string][]string, bool) {
	out := map[string][]string{}
	var envNS cty.Value
	var diags hcl.Diagnostics
	for _, s := range stacks {
		attrs := p.RunEnv(s.Path)
		if len(attrs) == 0 {
			continue
		}
		if envNS == cty.NilVal {
			envNS = processEnv()
		}
		sc := p.Scope(s)
		for _, attr := range attrs {
			v, d := sc.Eval(attr.Expr, map[string]cty.Value{"env": envNS})
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid run environment variable",
					Detail:   fmt.Sprintf("terramate.config.run.env.%s must be a string for stack %s; it is %s. Wrap it in tostring(...) or quote it.", attr.Name, s.Path, v.Type().FriendlyName()),
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			out[s.Path] = append(out[s.Path], attr.Name+"="+v.AsString())
		}
	}
	a.printDiags(p, diags)
	return out, !diags.HasErrors()
}

// processEnv is the env namespace: every variable of the process.
func processEnv() cty.Value {
	vars := map[string]cty.Value{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			vars[k] = cty.StringVal(v)
		}
	}
	return cty.ObjectVal(vars)
}

// cmdExec is tmci exec --env=E -- CMD: run CMD in the stack of the
// working directory with the environment tmci run gives it, passing its
// output and exit status through. It is meant to run inside terramate
// run, which has already picked and ordered the stacks; so only this
// stack's backend is resolved and its limits checked (tmci check covers
// isolation across stacks).
func (a *app) cmdExec(args []string) int {
	fs := a.flags("exec")
	bf := a.addBackendFlags(fs)
	workDir := fs.String("work-dir", "", "`DIR` for data directories (default <root>/.tmci)")
	grace := fs.Duration("grace", tf.DefaultGrace, "after an interrupt, how long the command may take to stop before it is killed")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(a.stderr, "tmci exec: %s\n", fmt.Sprintf(format, args...))
		return exitFailure
	}
	argv, err := afterDash(fs)
	if err != nil {
		return fail("%v", err)
	}
	if len(argv) == 0 {
		return fail("no command to run: tmci exec --env=E -- CMD [ARGS...]")
	}
	p := a.loadProject()
	if p == nil {
		return exitFailure
	}
	s := p.StackOf(a.wdPath(p))
	if s == nil {
		return fail("%s is in no stack: run tmci exec in a stack directory (e.g. through terramate run)", a.wd)
	}
	env, err := a.environment(p, *bf.env)
	if err != nil {
		return fail("%v", err)
	}
	r := &plannedRun{verb: verbRun, p: p, env: env, configs: map[string]*backend.Config{}}
	r.lay = a.layout(p, *workDir, env)
	if len(p.TMCI.Backends) > 0 {
		res := a.resolver(p, bf)
		if res == nil {
			return exitFailure
		}
		c, diags := res.Resolve(p.Scope(s), env.name)
		if c != nil {
			code, codeDiags := res.StackCode(s)
			diags = append(diags, codeDiags...)
			diags = append(diags, c.Limits(code.Attrs)...)
		}
		a.printDiags(p, diags)
		if diags.HasErrors() {
			return exitFailure
		}
		if c != nil {
			r.configs[s.Path] = c
		}
	} else if len(*bf.backendConfig) > 0 {
		return fail("--backend-config overrides a tmci.hcl backend template, and no tmci.hcl declares a backend block")
	}
	var ok bool
	if r.runEnv, ok = a.evalRunEnv(p, []*project.Stack{s}); !ok {
		return exitFailure
	}
	st, err := r.stackEnv(s, a.stdout)
	if err != nil {
		return fail("%v", err)
	}
	st.Dir, st.Err = a.wd, a.stderr
	runner := &tf.Runner{Env: os.Environ(), Grace: *grace, Logger: a.log}
	if err := runner.Exec(a.ctx, st, argv); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return ee.ExitCode()
		}
		return fail("%v", err)
	}
	return exitOK
}
