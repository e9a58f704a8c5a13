package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/redact"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/sharing"
)

// Exit codes, as docs/architecture.md lists them.
const (
	exitOK      = engine.ExitOK
	exitFailure = engine.ExitFailure // a stack failed, or a config or usage error
)

// app is what one invocation of tmci runs with. Everything a command needs
// comes from here; there is no package-level state.
type app struct {
	ctx context.Context
	// stdin is where apply and destroy read the user's confirmation;
	// nil when there is none (tests, embedding).
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stdinTerminal and stderrTerminal say whether the process's own
	// stdin and stderr are terminals, decided before any writer wraps
	// them (a wrapper is never a terminal).
	stdinTerminal, stderrTerminal bool
	// environ lists the process environment, for the commands tmci
	// starts and Terramate's env namespace.
	environ func() []string

	// Global flags.
	chdir    string
	logLevel string

	// wd is the absolute working directory, after -C.
	wd  string
	log *slog.Logger
	// diagsShown counts the diagnostics printed so far in this run.
	diagsShown int
	// secrets are the run's secret values, masked in everything written
	// to stdout, stderr, logs and reports (internal/redact).
	secrets *redact.Set
	// sharingPlans memoises sharingOf per loaded project.
	sharingPlans map[*project.Project]*sharing.Plan
	// unmasked is stdout without the redaction layer, for the one output
	// that must name secrets: GitHub's ::add-mask:: commands.
	unmasked io.Writer
}

// command is one tmci subcommand.
type command struct {
	name    string
	summary string
	run     func(a *app, args []string) int
}

func commands() []command {
	return []command{
		{"list", "List the stacks at or below the working directory", (*app).cmdList},
		{"graph", "Print the stack ordering graph as DOT, Mermaid or JSON", (*app).cmdGraph},
		{"backend", "Print the resolved backend config of stacks for an environment", (*app).cmdBackend},
		{"inputs", "Print the terraform variables tmci.hcl gives stacks in an environment", (*app).cmdInputs},
		{"check", "Check that every stack's backend state is isolated", (*app).cmdCheck},
		{"generate", "Write backend.<env>.tfbackend files into stacks (or --check them)", (*app).cmdGenerate},
		{"init", "Initialise the selected stacks for an environment", (*app).cmdInit},
		{"plan", "Plan the selected stacks for an environment", (*app).cmdPlan},
		{"apply", "Apply the selected stacks to an environment", (*app).cmdApply},
		{"destroy", "Destroy the selected stacks' resources in an environment, in reverse order", (*app).cmdDestroy},
		{"run", "Run a command in every selected stack with its backend environment", (*app).cmdRun},
		{"exec", "Run a command in the current stack with its backend environment", (*app).cmdExec},
		{"drift", "Plan the selected stacks with refresh and report drift (exit 2 on drift)", (*app).cmdDrift},
		{"comment", "Post the environment's comment.md to its pull/merge request (or drift.md as an issue), updating tmci's earlier one", (*app).cmdComment},
		{"report", "Merge the reports of fan-out jobs into one (report merge --out DIR PART...)", (*app).cmdReport},
		{"environments", "List the environments that have state, with their last apply", (*app).cmdEnvironments},
		{"ledger", "Show the revision each stack was last applied from in an environment", (*app).cmdLedger},
		{"matrix", "Split the selected stacks into independent CI jobs (GitHub matrix, GitLab child pipeline)", (*app).cmdMatrix},
		{"version", "Print the tmci version", (*app).cmdVersion},
	}
}

// run is tmci's entry point: it parses args, runs one command and returns
// the process exit code. getenv reads tmci's own settings; environ is the
// environment of the commands it starts.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, environ func() []string) int {
	return runInput(ctx, nil, args, stdout, stderr, getenv, environ)
}

// runInput is run with the standard input, from which apply and destroy
// ask for confirmation when it and stderr are terminals. Whether they are
// is decided here, from the process's own files: every output is then
// wrapped in the redaction layer, and a wrapped writer is no terminal.
func runInput(ctx context.Context, stdin io.Reader, args []string, stdout, stderr io.Writer, getenv func(string) string, environ func() []string) int {
	secrets := &redact.Set{}
	out, errOut := redact.NewWriter(secrets, stdout), redact.NewWriter(secrets, stderr)
	defer func() { _, _ = out.Flush(), errOut.Flush() }()
	return runApp(&app{ctx: ctx, stdin: stdin, stdout: out, stderr: errOut, getenv: getenv, environ: environ,
		secrets: secrets, unmasked: stdout, stdinTerminal: isTerminal(stdin), stderrTerminal: isTerminal(stderr)}, args)
}

// runApp is run once every output goes through the redaction layer.
func runApp(a *app, args []string) int {
	stdout, stderr := a.stdout, a.stderr
	// Global flags may precede the command name.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		n, err := a.globalFlag(args)
		if err != nil {
			fmt.Fprintf(stderr, "tmci: %v\n", err)
			return exitFailure
		}
		if n == 0 {
			break
		}
		args = args[n:]
	}
	switch {
	case len(args) == 2 && args[0] == "help":
		// tmci help CMD is tmci CMD --help.
		args = []string{args[1], "--help"}
	case len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		a.usage(stdout)
		return exitOK
	case args[0] == "--version":
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(a, args[1:])
		}
	}
	fmt.Fprintf(stderr, "tmci: unknown command %q\n\n", args[0])
	a.usage(stderr)
	return exitFailure
}

// globalFlag consumes one leading global flag and returns how many
// arguments it used, or 0 when args[0] is not a global flag.
func (a *app) globalFlag(args []string) (int, error) {
	name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	var dst *string
	switch name {
	case "C", "chdir":
		dst = &a.chdir
	case "log-level":
		dst = &a.logLevel
	case "version":
		return 0, nil
	default:
		return 0, nil
	}
	if hasValue {
		*dst = value
		return 1, nil
	}
	if len(args) < 2 {
		return 0, fmt.Errorf("flag %s needs a value", args[0])
	}
	*dst = args[1]
	return 2, nil
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "tmci orchestrates Terraform/OpenTofu stacks of a Terramate project.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: tmci [-C DIR] <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'tmci help <command>' (or 'tmci <command> --help') for a command's flags and examples.")
}

// flags returns a flag set for command name with the global flags on it.
func (a *app) flags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVarP(&a.chdir, "chdir", "C", a.chdir, "run as if tmci was started in `DIR`")
	fs.StringVar(&a.logLevel, "log-level", a.logLevel, "log `level`: debug, info, warn or error (default warn, or $TMCI_LOG)")
	return fs
}

// parse parses a command's flags and sets up the working directory and
// logger. It returns false, after printing why, when tmci must stop;
// code is then the exit code.
func (a *app) parse(fs *pflag.FlagSet, args []string) (ok bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			commandHelp(a.stdout, fs)
			return false, exitOK
		}
		fmt.Fprintf(a.stderr, "tmci %s: %v\nRun 'tmci %s --help' for usage.\n", fs.Name(), err, fs.Name())
		return false, exitFailure
	}
	level := a.logLevel
	if level == "" {
		level = a.getenv("TMCI_LOG")
	}
	if level == "" {
		level = "warn"
	}
	lvl, err := log.ParseLevel(level)
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci: invalid log level %q: use debug, info, warn or error\n", level)
		return false, exitFailure
	}
	logger := log.NewWithOptions(&plainWriter{a.stderr}, log.Options{Level: lvl, Prefix: "tmci"})
	logger.SetColorProfile(colourProfile(a.getenv, a.stderrTerminal))
	a.log = slog.New(logger)
	wd := a.chdir
	if wd == "" {
		wd, err = os.Getwd()
		if err != nil {
			fmt.Fprintf(a.stderr, "tmci: cannot read the working directory: %v\n", err)
			return false, exitFailure
		}
	}
	if a.wd, err = filepath.Abs(wd); err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(a.wd); err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is not a directory", a.wd)
		}
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci: invalid -C directory: %v\n", err)
		return false, exitFailure
	}
	return true, exitOK
}

// loadProject loads the project holding the working directory and prints
// its diagnostics; errPrinted when they hold errors.
func (a *app) loadProject() (*project.Project, error) {
	root, err := project.FindRoot(a.wd)
	if err != nil {
		return nil, shared(err)
	}
	a.log.Debug("loading project", "root", root)
	p, diags := project.Load(root, project.Options{})
	a.printDiags(p, diags)
	if diags.HasErrors() {
		return nil, errPrinted
	}
	if !p.Configured() {
		return nil, shared(fmt.Errorf("%s holds no Terramate project: no *.tm, *.tm.hcl or tmci.hcl file below it; run tmci in a project, or start one with a stack {} block in a file such as stacks/app/stack.tm.hcl", root))
	}
	if err := a.checkRequiredVersion(p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkRequiredVersion holds the project's terramate.required_version
// against the Terramate version tmci follows: an unmet constraint refuses
// the project, as Terramate does, unless TMCI_REQUIRED_VERSION=warn
// makes it a warning. README.md documents the choice.
func (a *app) checkRequiredVersion(p *project.Project) error {
	rv := p.RequiredVersion
	if rv == nil {
		return nil
	}
	if rv.Met() {
		a.log.Debug("required Terramate version met", "required_version", rv.Constraint, "follows", project.TerramateVersion)
		return nil
	}
	mode := a.getenv("TMCI_REQUIRED_VERSION")
	if mode != "" && mode != "warn" {
		return shared(fmt.Errorf("TMCI_REQUIRED_VERSION=%q: set it to warn, or unset it", mode))
	}
	d := rv.Unmet(mode == "warn")
	a.printDiags(p, hcl.Diagnostics{d})
	if d.Severity == hcl.DiagError {
		return errPrinted
	}
	return nil
}

// wdPath is the working directory as a project path.
func (a *app) wdPath(p *project.Project) string {
	pp, ok := p.ProjectPath(a.wd)
	if !ok {
		return "/"
	}
	return pp
}

// relPath renders the project path of a stack relative to the working
// directory, as terramate list does.
func (a *app) relPath(p *project.Project, stackPath string) string {
	rel, err := filepath.Rel(a.wd, p.FSPath(stackPath))
	if err != nil {
		return stackPath
	}
	return filepath.ToSlash(rel)
}
