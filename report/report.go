// Package report is the outcome of one tmci run (Report, the schema of
// report.json) and its renderings: the Markdown summary and PR/MR
// comment, JUnit XML, GitLab's terraform report, the drift issue body,
// and their delivery to GitHub Actions (Publish). It renders; it runs
// nothing. docs/report-json.md documents the JSON form.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tmci/tmci/tf"

	"github.com/tmci/tmci/internal/atomicfile"
)

// ReportSchemaVersion is the version of the report.json schema. Within a
// version fields are only ever added; readers must ignore unknown ones.
const ReportSchemaVersion = 1

// Report is what one tmci run did: the single source of report.json,
// summary.md, comment.md, gitlab-terraform.json and junit.xml. docs/
// report-json.md documents its JSON form.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	TmciVersion   string `json:"tmci_version"`
	// Command is plan, apply, destroy, init, run or drift.
	Command     string  `json:"command"`
	Environment string  `json:"environment"`
	Binary      *Binary `json:"binary,omitempty"`
	// Base is the change base commit when the run selected --changed.
	Base        string    `json:"base,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at"`
	DurationMS  int64     `json:"duration_ms"`
	ExitCode    int       `json:"exit_code"`
	Interrupted bool      `json:"interrupted"`
	// Totals is computed from Stacks by Finish.
	Totals Totals `json:"totals"`
	// Stacks holds every selected stack, in run order.
	Stacks []StackReport `json:"stacks"`
	// RootInRepo is the project root's path from the git repository's
	// top level, with "/" ("" when they are one): CI systems name files
	// from the top level. It is not part of report.json.
	RootInRepo string `json:"-"`
	// Deleted lists the stacks deleted from the code whose resources may
	// still exist in the environment: found by change detection (gone
	// since the base) or in the ledger (applied, and no longer a stack).
	Deleted []DeletedStack `json:"deleted,omitempty"`
	// Ledger says what an apply or destroy recorded in the environment's
	// ledger of applied revisions; absent when nothing was to record.
	Ledger *LedgerReport `json:"ledger,omitempty"`
}

// DeletedStack is a stack that is gone from the code.
type DeletedStack struct {
	Path string `json:"path"`
	ID   string `json:"id,omitempty"`
	// Revision is a commit that still had the stack: the change base, or
	// the revision the ledger last applied it from.
	Revision string `json:"revision"`
	// Source says how tmci knows: "change" or "ledger".
	Source string `json:"source"`
}

// LedgerReport is what a run recorded in the ledger.
type LedgerReport struct {
	// Revision is the commit the succeeded stacks were recorded at.
	Revision string `json:"revision"`
	// Recorded lists the stacks whose entry advanced to Revision: the
	// succeeded ones only, so a failed stack keeps its older revision.
	Recorded []string `json:"recorded"`
	// Forgotten lists the stacks removed from the ledger.
	Forgotten []string `json:"forgotten,omitempty"`
	// Removed is true when a destroy of an ephemeral environment emptied
	// the ledger and removed it with its state object.
	Removed bool `json:"removed,omitempty"`
	// Error says why the ledger could not be written; the run then fails.
	Error string `json:"error,omitempty"`
}

// Binary is the terraform or tofu binary a run used.
type Binary struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Stack statuses, as the scheduler names them in JSON.
const (
	StatusSucceeded   = "succeeded"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
	StatusNotStarted  = "not_started"
)

// StackReport is one stack's part of a run.
type StackReport struct {
	// Path is the project path ("/stacks/app").
	Path string `json:"path"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// DependsOn lists the selected stacks that ran before this one.
	DependsOn []string `json:"depends_on"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// Error says why the stack failed or was not run.
	Error string `json:"error,omitempty"`
	// FailedDependencies names the failed stacks that caused a skip.
	FailedDependencies []string   `json:"failed_dependencies,omitempty"`
	StartedAt          *time.Time `json:"started_at,omitempty"`
	EndedAt            *time.Time `json:"ended_at,omitempty"`
	DurationMS         int64      `json:"duration_ms"`
	// Log is the path of the stack's complete log, relative to the
	// project root.
	Log string `json:"log,omitempty"`
	// Plan is set for stacks that planned (plan, apply, destroy, drift).
	Plan *PlanReport `json:"plan,omitempty"`
	// LogTail is the end of a failed stack's log, for summaries and
	// annotations (see TailOf). It is not part of report.json.
	LogTail string `json:"-"`
	// Backend names the state object, never a secret.
	Backend *BackendReport `json:"backend,omitempty"`
	// Diagnostics are the problems of the stack's own configuration
	// that made it fail without running (see Diagnostic).
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Drift is, for a drift run, one of the Drift constants.
	Drift string `json:"drift,omitempty"`
	// MockedInputs are the stack's input blocks (Terramate's outputs
	// sharing) that passed their mock instead of the source's output.
	MockedInputs []MockedInput `json:"mocked_inputs,omitempty"`
}

// MockedInput is an input that passed its mock value: the source stack
// had no state in the environment, or its outputs could not give the
// value. Only plans (and drift, and tmci run) use mocks.
type MockedInput struct {
	Name string `json:"name"`
	// Source is the stack whose outputs the input reads.
	Source string `json:"source"`
	// Defined is the input block's file:line.
	Defined string `json:"defined"`
	Reason  string `json:"reason"`
}

// What a drift run found in one stack.
const (
	DriftDrifted     = "drifted"      // infrastructure and code differ
	DriftClean       = "clean"        // they match
	DriftFailed      = "failed"       // not checked: the stack failed, was skipped or not started
	DriftNotDeployed = "not_deployed" // nothing applied yet: the plan only creates, and the ledger records no apply
)

// PlanReport is a stack's plan outcome.
type PlanReport struct {
	// File is the saved plan, relative to the project root.
	File    string     `json:"file,omitempty"`
	Changes bool       `json:"changes"`
	Summary tf.Summary `json:"summary"`
	// Excerpt is the human-readable plan output, possibly cut, for
	// summaries and comments. It is not part of report.json.
	Excerpt string `json:"-"`
}

// BackendReport identifies a stack's state object: the backend type and
// its identity attributes, with secret values already redacted.
type BackendReport struct {
	Type     string            `json:"type"`
	Identity map[string]string `json:"identity"`
}

// Totals counts the stacks of a run by status, and their planned changes.
type Totals struct {
	Stacks      int `json:"stacks"`
	Succeeded   int `json:"succeeded"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Interrupted int `json:"interrupted"`
	NotStarted  int `json:"not_started"`
	WithChanges int `json:"with_changes"`
	Create      int `json:"create"`
	Update      int `json:"update"`
	Delete      int `json:"delete"`
	Replace     int `json:"replace"`
	Forget      int `json:"forget"`
	Drift       int `json:"drift"`
}

// Finish sets the schema version, the end time, the duration and the
// totals from the stacks.
func (r *Report) Finish(end time.Time) {
	r.SchemaVersion = ReportSchemaVersion
	r.EndedAt = end
	r.DurationMS = end.Sub(r.StartedAt).Milliseconds()
	t := Totals{Stacks: len(r.Stacks)}
	for i := range r.Stacks {
		s := &r.Stacks[i]
		if s.DependsOn == nil {
			s.DependsOn = []string{}
		}
		switch s.Status {
		case StatusSucceeded:
			t.Succeeded++
		case StatusFailed:
			t.Failed++
		case StatusSkipped:
			t.Skipped++
		case StatusInterrupted:
			t.Interrupted++
		default:
			t.NotStarted++
		}
		if s.Plan == nil {
			continue
		}
		if s.Plan.Changes {
			t.WithChanges++
		}
		sum := s.Plan.Summary
		t.Create += sum.Create
		t.Update += sum.Update
		t.Delete += sum.Delete
		t.Replace += sum.Replace
		t.Forget += sum.Forget
		t.Drift += sum.Drift
	}
	if r.Stacks == nil {
		r.Stacks = []StackReport{}
	}
	r.Totals = t
}

// writeFile writes data to path through a temporary file in the same
// directory and a rename, so readers never see a partial file.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, perm)
}

// WriteJSON writes the report as indented JSON to path, atomically.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if err := writeFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
