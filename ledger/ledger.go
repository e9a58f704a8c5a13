// Package ledger records, per (stack, environment), the revision that
// was last applied or destroyed, so that the next run on the default
// branch can start from what is really deployed rather than from what the
// CI system thinks the previous pipeline did (DESIGN.md §8).
//
// The ledger of an environment is a state object of tmci's own, kept by
// terraform itself through the environment's backend template: a
// one-resource configuration (a terraform_data whose input is the
// entries as JSON) is initialised with the backend the template gives a
// reserved stack path, StackPath, which no real stack can have (Terramate
// skips directories whose name starts with a dot). The ledger therefore
// lives where the environment's state lives and is exactly as shared,
// locked and access-controlled as it, for every backend type tmci
// supports, without tmci speaking any backend's protocol.
//
// Writes are read-modify-write: Record reads the entries, merges the
// run's, and applies them under terraform's state lock. Two runs of one
// environment that record at the same moment can lose one's update; a
// lost update only ever puts an older, also successfully applied,
// revision back, so the next --changed run starts earlier and applies
// more, never less. CI pipelines of one environment usually run in one
// concurrency group, which rules the race out.
package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/atomicfile"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/tf"
)

// Verbs an entry records.
const (
	Applied   = "apply"
	Destroyed = "destroy"
)

// Entry is what the ledger knows of one stack in one environment.
type Entry struct {
	// Revision is the full commit hash the stack was applied or
	// destroyed from.
	Revision string `json:"revision"`
	// Time is when the run that recorded it ended, in UTC.
	Time time.Time `json:"time"`
	// Verb is Applied or Destroyed.
	Verb string `json:"verb"`
}

// Entries maps stack paths to their entries.
type Entries map[string]Entry

// Paths returns the stack paths of e, sorted.
func (e Entries) Paths() []string {
	out := make([]string, 0, len(e))
	for p := range e {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// RevisionGroup is the stacks last applied from one revision.
type RevisionGroup struct {
	Revision string
	Paths    []string
}

// ByRevision groups the stacks at paths by the revision they were last
// applied from, in order of that revision's latest entry, the most
// recent first; a path without an entry counts as applied at the zero
// time. Destroying deleted stacks group by group, newest first, removes
// dependents before what they depended on when stacks moved between
// revisions.
func (e Entries) ByRevision(paths []string, revision func(path string) string) []RevisionGroup {
	index := map[string]int{}
	var groups []RevisionGroup
	latest := map[string]time.Time{}
	for _, p := range paths {
		rev := revision(p)
		i, ok := index[rev]
		if !ok {
			i = len(groups)
			index[rev] = i
			groups = append(groups, RevisionGroup{Revision: rev})
		}
		groups[i].Paths = append(groups[i].Paths, p)
		if t := e[p].Time; t.After(latest[rev]) {
			latest[rev] = t
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		return latest[groups[i].Revision].After(latest[groups[j].Revision])
	})
	return groups
}

// maxEntriesSize bounds what Read accepts from the state, so a corrupted
// or hostile ledger cannot exhaust memory.
const maxEntriesSize = 64 << 20

// Store reads and writes the ledger of one environment. It is not safe
// for concurrent use; one run owns it.
type Store struct {
	runner *tf.Runner
	dir    string
	config *backend.Config
	inited bool
}

// New returns the store of the environment config resolves for (see
// Resolve), working in dir, a private directory under tmci's work
// directory that holds the configuration, the backend file and the data
// directory. runner runs terraform; its LockTimeout applies to the
// ledger's state lock too.
func New(runner *tf.Runner, dir string, config *backend.Config) *Store {
	return &Store{runner: runner, dir: dir, config: config}
}

// Config returns the backend the ledger is kept in.
func (s *Store) Config() *backend.Config { return s.config }

// mainTF is the ledger's terraform configuration. The entries travel as a
// JSON string so that terraform never reinterprets their types.
const mainTF = `# Written by tmci: the ledger of applied revisions (see tmci ledger).
terraform {
  backend %q {}
}

variable "entries" {
  type    = string
  default = "{}"
}

resource "terraform_data" "ledger" {
  input = var.entries
}

output "entries" {
  value = terraform_data.ledger.output
}
`

// stack is the terraform stack the ledger runs as; out receives
// terraform's output.
func (s *Store) stack(out io.Writer) tf.Stack {
	return tf.Stack{
		Dir:         s.dir,
		DataDir:     filepath.Join(s.dir, ".terraform"),
		BackendFile: filepath.Join(s.dir, "ledger.tfbackend"),
		Out:         out,
	}
}

// init writes the configuration and the backend file and initialises the
// data directory, once per store.
func (s *Store) init(ctx context.Context) error {
	if s.inited {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create the ledger directory: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(s.dir, "main.tf"), fmt.Appendf(nil, mainTF, s.config.Type), 0o600); err != nil {
		return fmt.Errorf("write the ledger configuration: %w", err)
	}
	st := s.stack(nil)
	header := fmt.Sprintf("Written by tmci for the ledger of environment %s.", s.config.Env)
	if err := tf.WriteBackendFile(st.BackendFile, s.config.TFBackend(header, true)); err != nil {
		return err
	}
	var out bytes.Buffer
	st.Out = &out
	if err := s.runner.Init(ctx, st); err != nil {
		return s.commandError("initialise the ledger", err, &out)
	}
	s.inited = true
	return nil
}

// Read returns the entries of the ledger; an environment never applied
// has none.
func (s *Store) Read(ctx context.Context) (Entries, error) {
	if err := s.init(ctx); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	st := s.stack(&stdout)
	st.Err = &stderr
	if err := s.runner.Exec(ctx, st, []string{s.runner.Bin, "output", "-no-color", "-json"}); err != nil {
		return nil, s.commandError("read the ledger", err, &stderr)
	}
	return parseOutputs(stdout.Bytes())
}

// parseOutputs reads the entries from `terraform output -json`: {} when
// the state is empty, else {"entries": {"value": "<JSON>"}}.
func parseOutputs(data []byte) (Entries, error) {
	if len(data) > maxEntriesSize {
		return nil, fmt.Errorf("the ledger's outputs are larger than %d bytes: the ledger state is not tmci's", maxEntriesSize)
	}
	var outputs map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &outputs); err != nil {
		return nil, fmt.Errorf("the ledger's outputs are not JSON: %w", err)
	}
	out, ok := outputs["entries"]
	if !ok {
		return Entries{}, nil
	}
	var text string
	if err := json.Unmarshal(out.Value, &text); err != nil {
		return nil, fmt.Errorf("the ledger's entries output is not a string: %w", err)
	}
	entries := Entries{}
	if err := json.Unmarshal([]byte(text), &entries); err != nil {
		return nil, fmt.Errorf("the ledger's entries are not valid: %w", err)
	}
	for p, e := range entries {
		// The paths and verbs reach terminals, CI logs and GitHub
		// annotations: anything but a clean path without control
		// characters, or a verb of tmci's own, is not tmci's.
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || !printable.Safe(p) || !validRevision(e.Revision) || (e.Verb != Applied && e.Verb != Destroyed) {
			return nil, fmt.Errorf("the ledger holds an invalid entry for %q (revision %q, verb %q): the ledger state is not tmci's", p, e.Revision, e.Verb)
		}
	}
	return entries, nil
}

// validRevision reports whether rev is a full hexadecimal commit hash
// (SHA-1 or SHA-256), the only revisions the ledger stores.
func validRevision(rev string) bool {
	if len(rev) != 40 && len(rev) != 64 {
		return false
	}
	for _, c := range rev {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Record sets the entries of updates and removes the stacks of forget,
// keeping every other entry, writes the ledger and returns its entries.
// Nothing is written when that changes nothing.
func (s *Store) Record(ctx context.Context, updates Entries, forget []string) (Entries, error) {
	for p, e := range updates {
		if !validRevision(e.Revision) {
			return nil, fmt.Errorf("ledger entry of %s: %q is not a full commit hash", p, e.Revision)
		}
	}
	entries, err := s.Read(ctx)
	if err != nil {
		return nil, err
	}
	changed := false
	for p, e := range updates {
		e.Time = e.Time.UTC().Truncate(time.Second)
		if entries[p] != e {
			entries[p] = e
			changed = true
		}
	}
	for _, p := range forget {
		if _, ok := entries[p]; ok {
			delete(entries, p)
			changed = true
		}
	}
	if !changed {
		return entries, nil
	}
	data, err := json.Marshal(entries) // map keys sorted: same entries, same bytes
	if err != nil {
		return nil, err
	}
	// A variables file, not TF_VAR_entries: the entries of thousands of
	// stacks exceed what one environment variable may hold.
	vars, err := json.Marshal(map[string]string{"entries": string(data)})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, "entries.auto.tfvars.json"), vars, 0o600); err != nil {
		return nil, fmt.Errorf("write the ledger's entries: %w", err)
	}
	var out bytes.Buffer
	st := s.stack(&out)
	if _, err := s.runner.Apply(ctx, st, ""); err != nil {
		return nil, s.commandError("write the ledger", err, &out)
	}
	return entries, nil
}

// Dir is the directory terraform runs the ledger in.
func (s *Store) Dir() string { return s.dir }

// Remove destroys the ledger's resource, leaving its state object
// empty, for the teardown of an ephemeral environment.
func (s *Store) Remove(ctx context.Context) error {
	if err := s.init(ctx); err != nil {
		return err
	}
	var out bytes.Buffer
	if _, err := s.runner.Destroy(ctx, s.stack(&out)); err != nil {
		return s.commandError("remove the ledger", err, &out)
	}
	return nil
}

// commandError wraps a failed terraform command and keeps its output in
// ledger.log next to the configuration (0600: backend errors can quote
// configuration values), which the message names.
func (s *Store) commandError(what string, err error, out *bytes.Buffer) error {
	log := filepath.Join(s.dir, "ledger.log")
	if werr := atomicfile.Write(log, out.Bytes(), 0o600); werr != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w (terraform's output is in %s)", what, err, log)
}

// ErrNoTemplate is returned by Resolve when no backend template covers
// the ledger: a project without tmci.hcl backends keeps no ledger.
var ErrNoTemplate = errors.New("no backend template: the project keeps no ledger")

// FromState reads the entries from the ledger's state data as the backend
// stores it (terraform's state JSON), for listings that read state
// objects without terraform.
func FromState(data []byte) (Entries, error) {
	if len(data) > maxEntriesSize {
		return nil, fmt.Errorf("the ledger's state is larger than %d bytes", maxEntriesSize)
	}
	var st struct {
		Outputs json.RawMessage `json:"outputs"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("the ledger's state is not JSON: %w", err)
	}
	if len(st.Outputs) == 0 || string(st.Outputs) == "null" {
		return Entries{}, nil
	}
	return parseOutputs(st.Outputs)
}
