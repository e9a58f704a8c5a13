package tf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tmci/tmci/internal/atomicfile"
)

// DefaultGrace is how long an interrupted command may take to release its
// state lock and exit before it is killed.
const DefaultGrace = 30 * time.Second

// Runner runs terraform (or tofu) commands. It is safe for concurrent use
// by many stacks; it must not be copied after first use.
type Runner struct {
	// Bin is the terraform or tofu binary (see FindBinary).
	Bin string
	// Env is the base environment of every command, e.g. os.Environ().
	Env []string
	// LockTimeout is passed as -lock-timeout; zero means terraform's
	// default of not waiting.
	LockTimeout time.Duration
	// Grace is how long a command may run after its single SIGINT before
	// it is killed; zero means DefaultGrace.
	Grace time.Duration
	// NoColor adds -no-color to every terraform command, for output read
	// from log files and CI consoles rather than a terminal.
	NoColor bool
	// Logger receives each command line at debug level; nil means none.
	Logger *slog.Logger

	// cache coordinates the inits that share a plugin cache: those that
	// may write it run alone (see pluginCache).
	cache pluginCache
}

// Stack says where and how the commands of one (stack, environment) run.
type Stack struct {
	// Dir is the stack directory, the working directory of every command.
	Dir string
	// Root is the repository holding Dir; the local modules a stack calls
	// are read for init (InitIfNeeded, the plugin cache) only inside it.
	// Empty means Dir.
	Root string
	// DataDir is TF_DATA_DIR, unique per (stack, environment) so that
	// environments never share an initialised backend. It is created
	// private (0700) if missing: terraform stores the backend
	// configuration, secrets included, in it.
	DataDir string
	// BackendFile, if set, is passed to init as -backend-config (see
	// WriteBackendFile); it keeps secrets out of argv.
	BackendFile string
	// Env is added after the runner's environment and the variables the
	// runner sets, so it wins over both.
	Env []string
	// Out receives the standard output and error of every command.
	Out io.Writer
	// Err, if set, receives the standard error of Exec's command instead
	// of Out, so that tmci exec can pass both streams through unmixed.
	Err io.Writer
	// Attempt, if set, is called before each attempt of a terraform
	// command (see RetryStateCreation); the writer it returns receives
	// that attempt's output besides Out, so a reader of the output sees
	// only the attempt that counted.
	Attempt func() io.Writer
}

// Init runs `init -input=false -reconfigure [-backend-config=FILE]`.
// -reconfigure lets a data directory follow a changed backend file without
// prompting for state migration. While TF_PLUGIN_CACHE_DIR is set, an init
// that may write the cache runs alone, and those that only read it run
// side by side (see pluginCache). A successful init leaves a stamp in the
// data directory for InitIfNeeded.
func (r *Runner) Init(ctx context.Context, s Stack, extra ...string) error {
	_, err := r.initStack(ctx, s, true, extra)
	return err
}

// InitIfNeeded runs Init unless the data directory holds a successful
// init of the same code, lock file, backend file, binary, CLI
// configuration and environment, with its providers still in place (see
// initStamp); then it says so in s.Out and reports ran false. Anything it
// cannot read with certainty runs init.
func (r *Runner) InitIfNeeded(ctx context.Context, s Stack, extra ...string) (ran bool, err error) {
	return r.initStack(ctx, s, false, extra)
}

func (r *Runner) initStack(ctx context.Context, s Stack, always bool, extra []string) (ran bool, err error) {
	args := []string{"init", "-input=false", "-reconfigure", r.lockTimeout()}
	if s.BackendFile != "" {
		file, err := filepath.Abs(s.BackendFile)
		if err != nil {
			return false, err
		}
		args = append(args, "-backend-config="+file)
	}
	args = append(args, extra...)
	cfg, cfgErr := readStackConfig(s.Root, s.Dir)
	if !always && cfgErr == nil && s.DataDir != "" {
		if stamp, err := r.initStamp(s, args, cfg); err == nil && initCurrent(s, stamp, cfg) {
			if s.Out != nil {
				fmt.Fprintln(s.Out, "tmci: init skipped: the data directory was initialised for this code, lock file, backend and environment")
			}
			return false, nil
		}
	}
	stampFile := ""
	if s.DataDir != "" {
		stampFile = filepath.Join(s.DataDir, stampName)
		if err := os.Remove(stampFile); err != nil && !os.IsNotExist(err) {
			return true, fmt.Errorf("remove the init stamp: %w", err)
		}
	}
	cacheDir := r.pluginCacheDir(s)
	err = r.attempts(ctx, s, nil, func(w io.Writer) error {
		// Per attempt: another stack's init may fill the cache while
		// this one waits to try again.
		if cacheDir == "" {
			return r.terraform(ctx, s, w, w, args)
		}
		return r.cache.run(cacheDir, cfg, cfgErr, func() error { return r.terraform(ctx, s, w, w, args) })
	})
	if err != nil || stampFile == "" {
		return true, err
	}
	// Read again: init may have written the lock file.
	if cfg, cfgErr = readStackConfig(s.Root, s.Dir); cfgErr != nil {
		return true, nil
	}
	// Without a stamp the next command inits again: a note, not a failure.
	stamp, err := r.initStamp(s, args, cfg)
	if err == nil {
		err = writeStamp(s, stamp)
	}
	if err != nil && s.Out != nil {
		fmt.Fprintf(s.Out, "tmci: no init stamp (the next command will init again): %v\n", err)
	}
	return true, nil
}

// Plan runs `plan -input=false -detailed-exitcode -out=PLANFILE` and
// reports whether the plan has changes (exit status 2, which is not a
// failure).
func (r *Runner) Plan(ctx context.Context, s Stack, planFile string, extra ...string) (changes bool, err error) {
	file, err := filepath.Abs(planFile)
	if err != nil {
		return false, err
	}
	// A plan file holds the merged backend configuration, secrets
	// included: its directory is private.
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return false, fmt.Errorf("create the plan directory: %w", err)
	}
	args := append([]string{"plan", "-input=false", "-detailed-exitcode", r.lockTimeout(), "-out=" + file}, extra...)
	err = r.retried(ctx, s, nil, args)
	if code, ok := exitCode(err); ok && code == 2 {
		return true, nil
	}
	return false, err
}

// Planned is a plan's outcome: whether it has changes, and their counts.
type Planned struct {
	Changes bool
	Summary Summary
}

// PlanCounted runs Plan and counts the changes without a third terraform
// process where it can: a plan without changes counts zero everywhere,
// and one with changes is counted from its output (SummaryFromOutput),
// falling back to Show when the output holds anything that reader does
// not fully understand, such as drift.
func (r *Runner) PlanCounted(ctx context.Context, s Stack, planFile string, extra ...string) (Planned, error) {
	var captured *boundedBuffer
	s.Attempt = r.capture(s.Attempt, &captured)
	changes, err := r.Plan(ctx, s, planFile, extra...)
	if err != nil || !changes {
		return Planned{Changes: changes}, err
	}
	if sum, ok := captured.summary(); ok {
		return Planned{Changes: true, Summary: sum}, nil
	}
	sum, err := r.Show(ctx, s, planFile)
	if err != nil {
		return Planned{}, err
	}
	return Planned{Changes: true, Summary: sum}, nil
}

// PlanDrift runs Plan and always counts with Show: drift may show in
// resource_drift without a change to make, and only show -json lists it.
func (r *Runner) PlanDrift(ctx context.Context, s Stack, planFile string, extra ...string) (Planned, error) {
	changes, err := r.Plan(ctx, s, planFile, extra...)
	if err != nil {
		return Planned{}, err
	}
	sum, err := r.Show(ctx, s, planFile)
	if err != nil {
		return Planned{}, err
	}
	return Planned{Changes: changes, Summary: sum}, nil
}

// capture returns an Attempt hook that also keeps each attempt's output,
// up to maxPlanOutput, in a fresh buffer stored in *buf.
func (r *Runner) capture(attempt func() io.Writer, buf **boundedBuffer) func() io.Writer {
	*buf = &boundedBuffer{max: maxPlanOutput}
	return func() io.Writer {
		*buf = &boundedBuffer{max: maxPlanOutput}
		if attempt == nil {
			return *buf
		}
		return io.MultiWriter(*buf, attempt())
	}
}

// Show runs `show -json PLANFILE` and summarises the plan.
func (r *Runner) Show(ctx context.Context, s Stack, planFile string) (Summary, error) {
	file, err := filepath.Abs(planFile)
	if err != nil {
		return Summary{}, err
	}
	var stdout bytes.Buffer
	if err := r.terraform(ctx, s, &stdout, s.Out, []string{"show", "-json", file}); err != nil {
		return Summary{}, err
	}
	sum, err := ParsePlan(stdout.Bytes())
	if err != nil {
		return Summary{}, fmt.Errorf("read the plan %s: %w", planFile, err)
	}
	return sum, nil
}

// Outputs runs `output -json` and returns what it printed: the outputs
// of the stack's state, "{}" when it has none. Standard error goes to
// s.Out; standard output is kept up to max bytes, and more is an error.
func (r *Runner) Outputs(ctx context.Context, s Stack, max int) ([]byte, error) {
	stdout := &boundedBuffer{max: max}
	if err := r.terraform(ctx, s, stdout, s.Out, []string{"output", "-json"}); err != nil {
		return nil, err
	}
	if stdout.overflow {
		return nil, fmt.Errorf("output -json in %s printed over %d bytes, tmci's limit for a stack's outputs", s.Dir, max)
	}
	return stdout.buf.Bytes(), nil
}

// Apply applies the saved plan planFile, or, when planFile is empty, plans
// and applies at once with -auto-approve. It returns the counts of
// terraform's closing line, also when the command failed after it.
func (r *Runner) Apply(ctx context.Context, s Stack, planFile string, extra ...string) (Counts, error) {
	args := []string{"apply", "-input=false", r.lockTimeout()}
	if planFile == "" {
		args = append(append(args, "-auto-approve"), extra...)
	} else {
		file, err := filepath.Abs(planFile)
		if err != nil {
			return Counts{}, err
		}
		args = append(append(args, extra...), file)
	}
	counts := &countWriter{}
	err := r.retried(ctx, s, counts, args)
	return counts.result(), err
}

// Destroy runs `destroy -input=false -auto-approve` and returns the
// counts of terraform's closing line.
func (r *Runner) Destroy(ctx context.Context, s Stack, extra ...string) (Counts, error) {
	args := append([]string{"destroy", "-input=false", "-auto-approve", r.lockTimeout()}, extra...)
	counts := &countWriter{}
	err := r.retried(ctx, s, counts, args)
	return counts.result(), err
}

// retried runs the terraform command args through RetryStateCreation
// (see attempts).
func (r *Runner) retried(ctx context.Context, s Stack, tee io.Writer, args []string) error {
	return r.attempts(ctx, s, tee, func(w io.Writer) error { return r.terraform(ctx, s, w, w, args) })
}

// attempts runs cmd through RetryStateCreation: every attempt writes to
// s.Out, to tee if set (across attempts) and to the writer s.Attempt
// returns for it.
func (r *Runner) attempts(ctx context.Context, s Stack, tee io.Writer, cmd func(w io.Writer) error) error {
	out := s.Out
	if out == nil {
		out = io.Discard
	}
	return RetryStateCreation(ctx, out, func(w io.Writer) error {
		if tee != nil {
			w = io.MultiWriter(w, tee)
		}
		if s.Attempt != nil {
			w = io.MultiWriter(w, s.Attempt())
		}
		return cmd(w)
	})
}

// Exec runs any command in the stack with the same environment and
// interruption as terraform gets; for `tmci run`.
func (r *Runner) Exec(ctx context.Context, s Stack, argv []string) error {
	if len(argv) == 0 {
		return errors.New("no command to run")
	}
	stderr := s.Out
	if s.Err != nil {
		stderr = s.Err
	}
	return r.run(ctx, s, s.Out, stderr, argv[0], argv[1:])
}

// Environ returns the environment of every command run in s: the runner's,
// then TF_IN_AUTOMATION=1, TF_INPUT=0 and TF_DATA_DIR, then the stack's.
// os/exec keeps the last of duplicate keys, so later entries win.
func (r *Runner) Environ(s Stack) ([]string, error) {
	env := append([]string{}, r.Env...)
	env = append(env, "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	if s.DataDir != "" {
		dir, err := filepath.Abs(s.DataDir)
		if err != nil {
			return nil, err
		}
		env = append(env, "TF_DATA_DIR="+dir)
	}
	return append(env, s.Env...), nil
}

// InitArgsEnv returns the TF_CLI_ARGS_init variable that makes a plain
// `terraform init`, run by a user's command under tmci run or tmci exec,
// use the backend file with -reconfigure. The path is quoted for the shell
// word splitting terraform applies to the variable.
func InitArgsEnv(backendFile string) (string, error) {
	file, err := filepath.Abs(backendFile)
	if err != nil {
		return "", err
	}
	quoted := "'" + strings.ReplaceAll(file, "'", `'\''`) + "'"
	return "TF_CLI_ARGS_init=-reconfigure -backend-config=" + quoted, nil
}

// pluginCacheDir returns the plugin cache directory of commands in s:
// TF_PLUGIN_CACHE_DIR, else the plugin_cache_dir of the CLI
// configuration (see cliCacheDir), else "".
func (r *Runner) pluginCacheDir(s Stack) string {
	env, _ := r.Environ(s)
	// The last value counts, as for the command; an empty one leaves the
	// CLI configuration's.
	if v := lookupEnv(env, "TF_PLUGIN_CACHE_DIR"); v != "" {
		return v
	}
	return cliCacheDir(env)
}

func (r *Runner) lockTimeout() string {
	return fmt.Sprintf("-lock-timeout=%s", r.LockTimeout)
}

// terraform runs the subcommand args[0] of the binary.
func (r *Runner) terraform(ctx context.Context, s Stack, stdout, stderr io.Writer, args []string) error {
	if r.NoColor {
		args = append([]string{args[0], "-no-color"}, args[1:]...)
	}
	return r.run(ctx, s, stdout, stderr, r.Bin, args)
}

// run starts name in its own process group in s.Dir and waits for it. When
// ctx is cancelled the group gets exactly one SIGINT (os/exec calls Cancel
// once), so terraform stops gracefully and releases its state lock; after
// the grace period the command is killed, and so is anything left in its
// group. When the command itself dies of a signal (the OOM killer's
// SIGKILL), what it started in its group, such as a provisioner's shell,
// is killed too rather than left running after tmci.
func (r *Runner) run(ctx context.Context, s Stack, stdout, stderr io.Writer, name string, args []string) error {
	env, err := r.Environ(s)
	if err != nil {
		return err
	}
	if s.BackendFile != "" {
		// tmci chose this stack's state object; no workspace may move it.
		if err := checkWorkspace(env); err != nil {
			return err
		}
	}
	if s.DataDir != "" {
		if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
			return fmt.Errorf("create the data directory of %s: %w", s.Dir, err)
		}
	}
	if r.Logger != nil {
		r.Logger.DebugContext(ctx, "run", "dir", s.Dir, "cmd", append([]string{name}, args...))
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.Dir
	cmd.Env = env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = r.Grace
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = DefaultGrace
	}
	ownProcessGroup(cmd)
	err = cmd.Run()
	if cmd.Process != nil && (ctx.Err() != nil || killedBySignal(err)) {
		killProcessGroup(cmd)
	}
	if err != nil {
		verb := filepath.Base(name)
		if name == r.Bin && len(args) > 0 {
			verb += " " + args[0]
		}
		return fmt.Errorf("%s in %s: %w", verb, s.Dir, err)
	}
	return nil
}

// exitCode returns the exit status of a command that ran and exited.
func exitCode(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), true
	}
	return 0, false
}

// WriteBackendFile writes the backend configuration content to path with
// mode 0600, atomically: a reader sees the old file or the new one, never
// a partial write, and the secrets it may hold are never world-readable.
func WriteBackendFile(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the directory of the backend file: %w", err)
	}
	return atomicfile.Write(path, content, 0o600)
}
