package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/project"
)

// backendFlags are the flags every command that resolves backends takes.
type backendFlags struct {
	env           *string
	backendConfig *[]string
}

func (a *app) addBackendFlags(fs *pflag.FlagSet) backendFlags {
	return backendFlags{
		env: fs.String("env", "", "target environment `NAME` (e.g. prod, pr-123)"),
		backendConfig: fs.StringArray("backend-config", nil,
			"backend `VALUE`: key=value (interpolated per stack) or a file path relative to each stack (repeatable, later wins)"),
	}
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

// stackArg returns the stack a --stack value names: a project path
// ("/stacks/app") or a path relative to the working directory.
func (a *app) stackArg(p *project.Project, arg string) (*project.Stack, error) {
	pp := arg
	if !strings.HasPrefix(arg, "/") {
		var ok bool
		pp, ok = p.ProjectPath(filepath.Join(a.wd, arg))
		if !ok {
			return nil, fmt.Errorf("--stack %s is outside the project %s", arg, p.Root)
		}
	}
	s := p.Stack(pp)
	if s == nil {
		return nil, fmt.Errorf("--stack %s: %s is not a stack (no stack {} block); run 'tmci list' to see the stacks", arg, pp)
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
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "tmci backend: unexpected argument %q\n", fs.Arg(0))
		return exitFailure
	}
	if *bf.env == "" {
		fmt.Fprintln(a.stderr, "tmci backend: --env is required: name the environment to resolve, e.g. --env=prod")
		return exitFailure
	}
	switch *format {
	case "", "tfbackend", "args", "json":
	default:
		fmt.Fprintf(a.stderr, "tmci backend: unknown --format %q: use tfbackend, args or json\n", *format)
		return exitFailure
	}
	p := a.loadProject()
	if p == nil {
		return exitFailure
	}
	r := a.resolver(p, bf)
	if r == nil {
		return exitFailure
	}
	var stacks []*project.Stack
	single := true
	switch wd := a.wdPath(p); {
	case *stackFlag != "":
		s, err := a.stackArg(p, *stackFlag)
		if err != nil {
			fmt.Fprintf(a.stderr, "tmci backend: %v\n", err)
			return exitFailure
		}
		stacks = []*project.Stack{s}
	case p.Stack(wd) != nil:
		stacks = []*project.Stack{p.Stack(wd)}
	case len(p.StacksBelow(wd)) > 0:
		stacks, single = p.StacksBelow(wd), false
	case p.StackOf(wd) != nil:
		stacks = []*project.Stack{p.StackOf(wd)}
	default:
		fmt.Fprintln(a.stderr, "tmci backend: no stack here: run it in a stack directory, above stacks, or pass --stack PATH")
		return exitFailure
	}
	if !single && *format != "" && *format != "json" {
		fmt.Fprintf(a.stderr, "tmci backend: --format %s prints one stack, and %d stacks are selected: pass --stack PATH or use --format json\n", *format, len(stacks))
		return exitFailure
	}
	var configs []*backend.Config
	failed := false
	for _, s := range stacks {
		c, diags := r.Resolve(p.Scope(s), *bf.env)
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
				fmt.Fprintf(a.stderr, "tmci backend: no backend template covers stack %s: add a backend block to a tmci.hcl at or above it\n", s.Path)
				return exitFailure
			}
			continue
		}
		configs = append(configs, c)
	}
	if failed {
		return exitFailure
	}
	if single && *format != "json" {
		c := configs[0]
		if *format == "args" {
			args, err := c.Args(*secrets)
			if err != nil {
				fmt.Fprintf(a.stderr, "tmci backend: %v\n", err)
				return exitFailure
			}
			for _, arg := range args {
				fmt.Fprintln(a.stdout, backend.ShellQuote(arg))
			}
			return exitOK
		}
		a.stdout.Write(c.TFBackend("", *secrets))
		return exitOK
	}
	out := make([]backend.ConfigJSON, 0, len(configs))
	for _, c := range configs {
		j, err := c.JSON(*secrets)
		if err != nil {
			fmt.Fprintf(a.stderr, "tmci backend: %v\n", err)
			return exitFailure
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
		fmt.Fprintf(a.stderr, "tmci backend: writing JSON: %v\n", err)
		return exitFailure
	}
	return exitOK
}
