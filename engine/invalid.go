package engine

// Stacks whose own configuration is invalid (backend.Report.StackDiags):
// they fail without running anything, their dependents are skipped naming
// them, and every other stack runs.

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/scheduler"
)

// InvalidStacks returns, by stack path, the problems of each checked
// stack's own Terraform code (rep.StackDiags) in the report's form, for
// Run.Invalid.
func InvalidStacks(rep *backend.Report) map[string][]report.Diagnostic {
	out := make(map[string][]report.Diagnostic, len(rep.StackDiags))
	for path, diags := range rep.StackDiags {
		out[path] = reportDiagnostics(diags)
	}
	return out
}

// reportDiagnostics converts diagnostics, whose file names are relative
// to the project root (or absolute outside it), for the report.
func reportDiagnostics(diags hcl.Diagnostics) []report.Diagnostic {
	out := make([]report.Diagnostic, len(diags))
	for i, d := range diags {
		rd := report.Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			rd.Severity = "warning"
		}
		if d.Subject != nil {
			rd.File = filepath.ToSlash(d.Subject.Filename)
			rd.Line, rd.Column = d.Subject.Start.Line, d.Subject.Start.Column
		}
		out[i] = rd
	}
	return out
}

// invalidConfig is the error of a stack that failed on its own
// configuration: the diagnostics, one after the other.
type invalidConfig []report.Diagnostic

func (e invalidConfig) Error() string { return report.DiagnosticsText(e) }

// failInvalid is the task of an invalid stack: it writes the problems to
// the stack's output (its log and the console) and fails. Nothing runs,
// and no backend file is written: terraform would not use the backend
// tmci checked.
func failInvalid(out io.Writer, diags []report.Diagnostic) error {
	_, _ = io.WriteString(out, "tmci: the stack's configuration is invalid; nothing was run in it:\n"+report.DiagnosticsText(diags)+"\n")
	return invalidConfig(diags)
}

// schedule is the graph the scheduler walks: the run's, except that an
// invalid stack waits for nothing, so that it fails with its own problem
// even when a stack it runs after fails too.
func (r *Run) schedule() scheduler.Deps {
	if len(r.Invalid) == 0 {
		return r.Deps
	}
	d := scheduler.Deps{Order: r.Deps.Order, After: make(map[string][]string, len(r.Deps.After))}
	for path, after := range r.Deps.After {
		if len(r.Invalid[path]) == 0 {
			d.After[path] = after
		}
	}
	return d
}

// skippedText says why a stack was skipped: its failed dependencies and,
// for those that failed on their configuration, the first problem and
// its place.
func (r *Run) skippedText(failed []string) string {
	text := "skipped: " + strings.Join(failed, ", ") + " failed"
	for _, dep := range failed {
		if diags := r.Invalid[dep]; len(diags) > 0 {
			text += "; " + dep + ": " + strings.SplitN(diags[0].String(), "\n", 2)[0]
		}
	}
	return text
}

// rootInRepo is root's path from the top level of the git repository
// holding it (the nearest directory at or above it with a .git entry),
// with "/"; "" when root is the top level or in no repository.
func rootInRepo(root string) string {
	for d := root; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, root)
			if err != nil || rel == "." {
				return ""
			}
			return filepath.ToSlash(rel)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
