package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/funcs"
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
			envNS = envNamespace(a.environ())
		}
		sc := p.Scope(s)
		for _, attr := range attrs {
			v, d := sc.Eval(attr.Expr, map[string]cty.Value{"env": envNS})
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			v, marks := v.UnmarkDeep()
			if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid run environment variable",
					Detail:   fmt.Sprintf("terramate.config.run.env.%s must be a string for stack %s; it is %s. Wrap it in tostring(...) or quote it.", attr.Name, s.Path, v.Type().FriendlyName()),
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			if err := reservedRunEnv(attr.Name, v.AsString()); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reserved run environment variable",
					Detail:   fmt.Sprintf("terramate.config.run.env.%s for stack %s: %v.", attr.Name, s.Path, err),
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			if _, secret := marks[funcs.Sensitive]; secret {
				a.secrets.Add(v.AsString())
			}
			out[s.Path] = append(out[s.Path], attr.Name+"="+v.AsString())
		}
	}
	a.printDiags(p, diags)
	return out, !diags.HasErrors()
}

// reservedRunEnv refuses a run environment variable that would take
// over what tmci sets: the data directory and workspace (state and
// secrets would go elsewhere), tmci's own variables, and terraform
// options tmci refuses after -- (engine.CheckCLIArgsEnv).
func reservedRunEnv(name, value string) error {
	switch {
	case name == "TF_DATA_DIR" || name == "TF_WORKSPACE":
		return fmt.Errorf("tmci sets %s itself (each stack and environment has its own)", name)
	case strings.HasPrefix(name, "TMCI_"):
		return fmt.Errorf("TMCI_* variables are tmci's own")
	}
	return engine.CheckCLIArgsEnv(name, value)
}

// envNamespace is the env namespace: every variable of environ, the
// process environment.
func envNamespace(environ []string) cty.Value {
	vars := map[string]cty.Value{}
	for _, kv := range environ {
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
	f := &execFlags{backend: a.addBackendFlags(fs)}
	fs.StringVar(&f.workDir, "work-dir", "", "`DIR` for data directories (default <root>/.tmci)")
	fs.DurationVar(&f.grace, "grace", tf.DefaultGrace, "after an interrupt, how long the command may take to stop before it is killed")
	fs.BoolVar(&f.yes, "yes", false, "confirm: run the command in a protected environment")
	fs.DurationVar(&f.lockWait, "lock-timeout", engine.DefaultLockTimeout, "how long to wait while a tmci run holds the work directory (`DURATION`)")
	fs.BoolVar(&f.mockOnFail, "mock-on-fail", false, mockOnFailUsage)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	code, err := a.exec(fs, f)
	if err != nil {
		return a.fail("tmci exec", err)
	}
	return code
}

// execFlags are the flags of tmci exec.
type execFlags struct {
	backend         backendFlags
	workDir         string
	grace, lockWait time.Duration
	yes, mockOnFail bool
}

// exec is tmci exec after its flags are parsed. It returns the command's
// exit status, or an error when the command could not run.
func (a *app) exec(fs *pflag.FlagSet, f *execFlags) (int, error) {
	argv, err := execArgv(fs, f.lockWait, f.grace)
	if err != nil {
		return 0, err
	}
	p, err := a.loadProject()
	if err != nil {
		return 0, err
	}
	s := p.StackOf(a.wdPath(p))
	if s == nil {
		return 0, fmt.Errorf("%s is in no stack: run tmci exec in a stack directory (e.g. through terramate run)", a.wd)
	}
	r, err := a.execRun(p, s, f.backend, f.workDir, f.yes)
	if err != nil {
		return 0, err
	}
	r.LockWait, r.Note, r.MockOnFail = f.lockWait, a.stderr, f.mockOnFail
	release, err := r.LockShared(a.ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	st, err := r.StackEnv(s, a.stdout)
	if err != nil {
		return 0, err
	}
	st.Dir, st.Err = a.wd, a.stderr
	if r.Sharing != nil {
		vars, err := a.execSharedEnv(r, s, f.grace)
		if err != nil {
			return 0, err
		}
		st.Env = append(st.Env, vars...)
	}
	runner := &tf.Runner{Env: a.environ(), Grace: f.grace, Logger: a.log}
	if err := runner.Exec(a.ctx, st, argv); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return ee.ExitCode(), nil
		}
		return 0, err
	}
	return exitOK, nil
}

// execSharedEnv reads the outputs the input blocks of s take, with
// terraform or tofu, and returns them as TF_VAR_ variables.
func (a *app) execSharedEnv(r *engine.Run, s *project.Stack, grace time.Duration) ([]string, error) {
	r.Runner = &tf.Runner{Env: a.environ(), Grace: grace, NoColor: true, Logger: a.log}
	var err error
	if r.Runner.Bin, err = tf.FindBinary("", a.getenv); err != nil {
		return nil, err
	}
	return r.SharedEnv(a.ctx, s.Path, a.stderr)
}

// execArgv checks the flags of tmci exec and returns the command after
// --.
func execArgv(fs *pflag.FlagSet, lockWait, grace time.Duration) ([]string, error) {
	argv, err := afterDash(fs)
	switch {
	case err != nil:
		return nil, err
	case len(argv) == 0:
		return nil, errors.New("no command to run: tmci exec --env=E -- CMD [ARGS...]")
	case lockWait < 0:
		return nil, fmt.Errorf("--lock-timeout must not be negative, not %s", lockWait)
	case grace <= 0:
		return nil, fmt.Errorf("--grace must be positive, not %s", grace)
	}
	return argv, engine.CheckExtra(engine.Exec, argv)
}

// execRun describes a run of the one stack s for tmci exec: its
// environment, backend (only its limits checked) and run environment.
func (a *app) execRun(p *project.Project, s *project.Stack, bf backendFlags, workDir string, yes bool) (*engine.Run, error) {
	env, err := engine.CheckEnvironment(p, *bf.env)
	if err != nil {
		return nil, err
	}
	if err := confirmEnv(engine.Exec, env, yes, false); err != nil {
		return nil, err
	}
	r := &engine.Run{Verb: engine.Exec, Project: p, Env: env, Configs: map[string]*backend.Config{}, Secrets: a.secrets}
	r.Layout = engine.NewLayout(p, a.wd, workDir, env)
	if len(p.TMCI.Backends) > 0 {
		res := a.resolver(p, bf)
		if res == nil {
			return nil, errPrinted
		}
		c, diags := res.Resolve(p.Scope(s), env.Name)
		if c != nil {
			code, codeDiags := res.StackCode(s)
			diags = append(diags, codeDiags...)
			diags = append(diags, c.Limits(code.Attrs)...)
		}
		a.printDiags(p, diags)
		if diags.HasErrors() {
			return nil, errPrinted
		}
		if c != nil {
			r.Configs[s.Path] = c
		}
		if err := a.execSources(p, s, res, env.Name, r); err != nil {
			return nil, err
		}
		a.addSecrets(r.Configs)
	} else if len(*bf.backendConfig) > 0 {
		return nil, errNoBackendBlock
	}
	if pl, ok := a.sharingOf(p); !ok {
		return nil, errPrinted
	} else if len(pl.Inputs[s.Path]) > 0 {
		r.Sharing, r.OnSecrets = pl, a.maskValues
	}
	var ok bool
	// The sources' run.env too: reading their outputs may need it.
	if r.RunEnv, ok = a.evalRunEnv(p, withSources(p, r.Sharing, []*project.Stack{s})); !ok {
		return nil, errPrinted
	}
	if r.Inputs, ok = a.stackInputs(p, bf, env.Name, []*project.Stack{s}); !ok {
		return nil, errPrinted
	}
	return r, nil
}

// execSources adds to r the backends of the stacks whose outputs s reads
// (its input blocks), for tmci exec to read them in the environment.
func (a *app) execSources(p *project.Project, s *project.Stack, res *backend.Resolver, env string, r *engine.Run) error {
	pl, ok := a.sharingOf(p)
	if !ok {
		return errPrinted
	}
	var diags hcl.Diagnostics
	for _, src := range pl.Sources([]string{s.Path}) {
		c, d := res.Resolve(p.Scope(p.Stack(src)), env)
		diags = append(diags, d...)
		if c != nil {
			r.Configs[src] = c
		}
	}
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return errPrinted
	}
	return nil
}
