package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/project"
)

// backendFlags are the flags every command that resolves backends takes.
type backendFlags struct {
	env           *string
	backendConfig *[]string
}

func (a *app) addBackendFlags(fs *pflag.FlagSet) backendFlags {
	env := new(string)
	fs.Var((*onceString)(env), "env", "target environment `NAME` (e.g. prod, pr-123)")
	return backendFlags{
		env: env,
		backendConfig: fs.StringArray("backend-config", nil,
			"backend `VALUE`: key=value (interpolated per stack) or a file path relative to each stack (repeatable, later wins)"),
	}
}

// onceString is a string flag given at most once: a second --env is a
// usage error rather than a silent override, since the two may name a
// production and a preview environment.
type onceString string

func (o *onceString) String() string { return string(*o) }
func (o *onceString) Type() string   { return "string" }
func (o *onceString) Set(v string) error {
	if *o != "" {
		return fmt.Errorf("given twice (%q and %q): name one environment", string(*o), v)
	}
	if v == "" {
		return errors.New("empty value: name an environment")
	}
	*o = onceString(v)
	return nil
}

// resolver builds the backend resolver for p, printing flag problems. It
// returns nil when there are errors.
func (a *app) resolver(p *project.Project, bf backendFlags) *backend.Resolver {
	r, diags := backend.NewResolver(p, backend.Options{
		// An empty variable counts as unset: an empty string in a state
		// key is the mistake the error is there to catch.
		LookupEnv: func(k string) (string, bool) {
			v := a.getenv(k)
			return v, v != ""
		},
		BackendConfig: *bf.backendConfig,
	})
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil
	}
	return r
}

// targetEnv checks the --env of a command that always targets one
// environment (backend, generate, matrix). Every command words a missing
// or unknown name as engine.CheckEnvironment does, and says it once,
// before resolving any stack.
func targetEnv(p *project.Project, name string) (engine.Environment, error) {
	env, err := engine.CheckEnvironment(p, name)
	if err == nil && name == "" {
		err = errors.New("--env is required: name the environment to run in (tmci.hcl declares none)")
	}
	return env, err
}

// stackArg returns the stack a --stack value names (see stackRef).
func (a *app) stackArg(p *project.Project, arg string) (*project.Stack, error) {
	pp, ok := a.stackRef(p, arg)
	if !ok {
		return nil, fmt.Errorf("--stack %s is outside the project %s", arg, p.Root)
	}
	s := p.Stack(pp)
	if s == nil {
		return nil, a.noStack(p, "--stack", arg)
	}
	return s, nil
}

func (a *app) cmdBackend(args []string) int {
	fs := a.flags("backend")
	bf := a.addBackendFlags(fs)
	stackFlag := fs.String("stack", "", "the stack `PATH` (/stacks/app, or relative to the working directory); default: the stack in the working directory, or every stack below it")
	format := fs.String("format", "", "output `FORMAT`: tfbackend, args or json (default tfbackend for one stack, json for several)")
	secrets := fs.Bool("show-secrets", false, "print sensitive values instead of "+backend.Redacted)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if err := a.backendCmd(fs, bf, *stackFlag, *format, *secrets); err != nil {
		return a.fail("tmci backend", err)
	}
	return exitOK
}

// backendCmd is tmci backend after its flags are parsed.
func (a *app) backendCmd(fs *pflag.FlagSet, bf backendFlags, stackFlag, format string, secrets bool) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case format != "" && format != "tfbackend" && format != "args" && format != "json":
		return fmt.Errorf("unknown --format %q: use tfbackend, args or json", format)
	}
	p, err := a.loadProject()
	if err != nil {
		return err
	}
	if _, err := targetEnv(p, *bf.env); err != nil {
		return err
	}
	r := a.resolver(p, bf)
	if r == nil {
		return errPrinted
	}
	stacks, single, err := a.backendStacks(p, stackFlag)
	if err != nil {
		return err
	}
	if !single && format != "" && format != "json" {
		return fmt.Errorf("--format %s prints one stack, and %d stacks are selected: pass --stack PATH or use --format json", format, len(stacks))
	}
	configs, err := a.resolveBackends(p, r, stacks, *bf.env, single)
	if err != nil {
		return err
	}
	return a.printBackends(configs, single, format, secrets)
}

// backendStacks returns the stacks tmci backend prints: the --stack one,
// the working directory's, the ones below it, or the one it lies in.
// single is false for the stacks below the working directory.
func (a *app) backendStacks(p *project.Project, stackFlag string) (stacks []*project.Stack, single bool, err error) {
	switch wd := a.wdPath(p); {
	case stackFlag != "":
		s, err := a.stackArg(p, stackFlag)
		if err != nil {
			return nil, false, err
		}
		return []*project.Stack{s}, true, nil
	case p.Stack(wd) != nil:
		return []*project.Stack{p.Stack(wd)}, true, nil
	case len(p.StacksBelow(wd)) > 0:
		return p.StacksBelow(wd), false, nil
	case p.StackOf(wd) != nil:
		return []*project.Stack{p.StackOf(wd)}, true, nil
	}
	return nil, false, errors.New("no stack here: run it in a stack directory, above stacks, or pass --stack PATH")
}

// resolveBackends resolves the backend of every stack in env and checks
// its limits, printing the problems of all of them.
func (a *app) resolveBackends(p *project.Project, r *backend.Resolver, stacks []*project.Stack, env string, single bool) ([]*backend.Config, error) {
	var configs []*backend.Config
	failed := false
	for _, s := range stacks {
		c, diags := r.Resolve(p.Scope(s), env)
		if c != nil {
			code, _ := r.StackCode(s) // tmci check reports its problems
			diags = append(diags, c.Limits(code.Attrs)...)
		}
		a.printDiags(p, diags)
		if diags.HasErrors() {
			failed = true
			continue
		}
		if c == nil {
			if single {
				return nil, fmt.Errorf("no backend template covers stack %s: add a backend block to a tmci.hcl at or above it", s.Path)
			}
			continue
		}
		configs = append(configs, c)
	}
	if failed {
		return nil, errPrinted
	}
	return configs, nil
}

// printBackends writes the backends: one stack as a .tfbackend file or
// as -backend-config arguments, else (or with --format json) as JSON.
func (a *app) printBackends(configs []*backend.Config, single bool, format string, secrets bool) error {
	if single && format != "json" {
		c := configs[0]
		if format == "args" {
			args, err := c.Args(secrets)
			if err != nil {
				return err
			}
			for _, arg := range args {
				fmt.Fprintln(a.stdout, backend.ShellQuote(arg))
			}
			return nil
		}
		a.stdout.Write(c.TFBackend("", secrets))
		return nil
	}
	out := make([]backend.ConfigJSON, 0, len(configs))
	for _, c := range configs {
		j, err := c.JSON(secrets)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	var v any = out
	if single {
		v = out[0]
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep <redacted> readable
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
