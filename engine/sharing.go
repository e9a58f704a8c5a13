package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/sharing"
	"github.com/tmci/tmci/tf"
)

// sharedState is what a run learns about outputs sharing while it runs:
// each source's outputs, read once, the stacks initialised in this run,
// and the inputs that took their mock.
type sharedState struct {
	mu      sync.Mutex
	sources map[string]*sourceOutputs
	inited  map[string]bool
	mocked  map[string][]report.MockedInput
	// lockSources is set for tmci exec, whose processes run side by
	// side under a shared lock: a source's directory is then read under
	// a lock of its own (readOutputs).
	lockSources bool
}

// sourceOutputs are one source stack's outputs in the run's environment;
// once guards the single read.
type sourceOutputs struct {
	once    sync.Once
	val     cty.Value
	noState bool
	err     error
}

func newSharedState() *sharedState {
	return &sharedState{sources: map[string]*sourceOutputs{}, inited: map[string]bool{}, mocked: map[string][]report.MockedInput{}}
}

// markInited records that the stack's data directory was initialised in
// this run with its current backend file, so reading its outputs needs
// no init.
func (s *sharedState) markInited(path string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.inited[path] = true
	s.mu.Unlock()
}

// mocksAllowed says whether the run may pass an input's mock: a plan
// or drift may show what a stack would do with a stand-in value; apply
// and destroy change infrastructure and never do; a command (tmci run,
// exec) is the user's, which may apply, so only with MockOnFail.
func (r *Run) mocksAllowed() bool {
	return r.Verb == Plan || r.Verb == Drift || r.Verb == Exec && r.MockOnFail
}

// sharedVars returns the TF_VAR_ entries of the stack's input blocks in
// the run's environment: each source's outputs are read once per run,
// in the source's own data directory and backend for the environment,
// and each input's value evaluated with them. When a value cannot be
// computed, a plan takes the input's mock (said in out and recorded for
// the report); apply and destroy fail, naming the input's file:line.
func (r *Run) sharedVars(ctx context.Context, path string, out io.Writer) ([]string, []string, error) {
	inputs := r.Sharing.Inputs[path]
	if len(inputs) == 0 {
		return nil, nil, nil
	}
	vals := map[string]sharing.Value{}
	var diags hcl.Diagnostics
	var mocked []report.MockedInput
	for _, in := range inputs {
		src, err := r.sourceOutputs(ctx, in.Source, out)
		if err != nil {
			return nil, nil, logged(out, fmt.Errorf("reading the outputs of %s for input %s (%s): %w", in.Source, in.Name, in.Where(), err))
		}
		v, d := r.Sharing.Eval(in, src.val, src.noState, r.Env.Name, r.mocksAllowed())
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		vals[in.Name] = v
		if v.Mocked {
			fmt.Fprintf(out, "tmci: input %s (%s): using its mock value, because %s\n", in.Name, in.Where(), v.Reason)
			mocked = append(mocked, report.MockedInput{Name: in.Name, Source: in.Source, Defined: in.Where(), Reason: v.Reason})
		} else {
			fmt.Fprintf(out, "tmci: input %s (%s): from the outputs of %s in %s\n", in.Name, in.Where(), in.Source, r.Env.Name)
		}
	}
	if diags.HasErrors() {
		return nil, nil, logged(out, diagError(diags))
	}
	env, secrets, d := sharing.TFVars(r.Project.FSPath(path), r.rel, inputs, vals)
	if d.HasErrors() {
		return nil, nil, logged(out, diagError(d))
	}
	r.addSecrets(secrets)
	if len(mocked) > 0 {
		r.shared.mu.Lock()
		r.shared.mocked[path] = mocked
		r.shared.mu.Unlock()
	}
	names := make([]string, len(mocked))
	for i, m := range mocked {
		names[i] = m.Name + " (" + m.Defined + ")"
	}
	return env, names, nil
}

// addSecrets makes values secrets of the run from now on, before any
// output can show them.
func (r *Run) addSecrets(values []string) {
	if len(values) == 0 {
		return
	}
	r.Secrets.Add(values...)
	if r.OnSecrets != nil {
		r.OnSecrets(values)
	}
}

// sourceOutputs reads the outputs of the stack at path in the run's
// environment, once per run: `output -json` in the stack's directory
// with its data directory and backend file for the environment, after
// an init unless this run initialised it already. The first reader's
// out receives the commands' output.
func (r *Run) sourceOutputs(ctx context.Context, path string, out io.Writer) (*sourceOutputs, error) {
	r.shared.mu.Lock()
	so := r.shared.sources[path]
	if so == nil {
		so = &sourceOutputs{}
		r.shared.sources[path] = so
	}
	inited := r.shared.inited[path]
	r.shared.mu.Unlock()
	so.once.Do(func() {
		fmt.Fprintf(out, "tmci: reading the outputs of %s in %s\n", path, r.Env.Name)
		so.val, so.noState, so.err = r.readOutputs(ctx, path, inited, out)
	})
	return so, so.err
}

// readOutputs runs init (unless inited, or the data directory is
// initialised with the same backend file) and output -json for the
// source at path. terraform's chatter reaches out only when it fails.
func (r *Run) readOutputs(ctx context.Context, path string, inited bool, out io.Writer) (cty.Value, bool, error) {
	if r.shared.lockSources {
		release, err := lockIn(ctx, r.Layout.stackDir(path), ".tmci.outputs.lock", "tmci exec", r.LockWait, r.Note, false)
		if err != nil {
			return cty.NilVal, false, err
		}
		defer release()
	}
	var chatter bytes.Buffer
	st := tf.Stack{Dir: r.Project.FSPath(path), DataDir: r.Layout.DataDir(path), Out: &chatter}
	st.Env = append(st.Env, r.RunEnv[path]...)
	if c := r.Configs[path]; c != nil {
		st.BackendFile = r.Layout.BackendFile(path)
		content := c.TFBackend(fmt.Sprintf("Written by tmci for stack %s in environment %s.", path, r.Env.Name), true)
		if !inited {
			inited = initialisedWith(st, content)
		}
		if !inited {
			if err := tf.WriteBackendFile(st.BackendFile, content); err != nil {
				return cty.NilVal, false, err
			}
		}
	}
	fail := func(err error) (cty.Value, bool, error) {
		_, _ = out.Write(chatter.Bytes())
		return cty.NilVal, false, err
	}
	if !inited {
		if err := r.Runner.Init(ctx, st); err != nil {
			return fail(err)
		}
	}
	data, err := r.Runner.Outputs(ctx, st, sharing.MaxOutputBytes)
	if err != nil {
		return fail(err)
	}
	val, secrets, err := sharing.DecodeOutputs(data)
	if err != nil {
		return cty.NilVal, false, err
	}
	r.addSecrets(secrets)
	return val, len(val.Type().AttributeTypes()) == 0, nil
}

// logged writes err to the stack's output, where its log keeps it.
func logged(out io.Writer, err error) error {
	fmt.Fprintf(out, "tmci: %v\n", err)
	return err
}

// initialisedWith reports whether the stack's data directory was
// initialised with exactly this backend file (terraform keeps the backend
// configuration in terraform.tfstate there), so that reading its outputs
// needs no init.
func initialisedWith(st tf.Stack, content []byte) bool {
	prev, err := os.ReadFile(st.BackendFile)
	if err != nil || !bytes.Equal(prev, content) {
		return false
	}
	fi, err := os.Lstat(filepath.Join(st.DataDir, "terraform.tfstate"))
	return err == nil && fi.Mode().IsRegular()
}

// SharedEnv returns the TF_VAR_ entries of the stack's input blocks for
// tmci exec: sharedVars outside a run, mocks used as by tmci run and said
// on out. Execs run side by side (terramate run --parallel), so each
// source is read under a lock of its own.
func (r *Run) SharedEnv(ctx context.Context, path string, out io.Writer) ([]string, error) {
	if r.Sharing == nil || len(r.Sharing.Inputs[path]) == 0 {
		return nil, nil
	}
	if r.shared == nil {
		r.shared = newSharedState()
		r.shared.lockSources = true
	}
	vars, _, err := r.sharedVars(ctx, path, out)
	return vars, err
}

// diagError turns the errors among diags into the error of a stack, one
// after the other with their places.
func diagError(diags hcl.Diagnostics) error {
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	return invalidConfig(reportDiagnostics(errs))
}

// mockedInputs returns the inputs of the stack at path that took their
// mock in this run, sorted by name.
func (r *Run) mockedInputs(path string) []report.MockedInput {
	if r.shared == nil {
		return nil
	}
	r.shared.mu.Lock()
	defer r.shared.mu.Unlock()
	m := r.shared.mocked[path]
	sort.Slice(m, func(i, j int) bool { return m[i].Name < m[j].Name })
	return m
}
