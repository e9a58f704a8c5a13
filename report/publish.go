package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tmci/tmci/ci"
)

// Files are the paths of the reports of one run, all in one directory
// (<work>/<env>/). Drift is set only for drift runs, CodeQuality only when
// a stack failed with diagnostics that have a place (GitLab's code
// quality report, see CodeQuality).
type Files struct {
	Report, Summary, Comment, GitLabTerraform, JUnit, Drift, CodeQuality string
}

// reportFiles names the reports of a run of command in dir.
func reportFiles(dir, command string) Files {
	f := Files{
		Report:          filepath.Join(dir, "report.json"),
		Summary:         filepath.Join(dir, "summary.md"),
		Comment:         filepath.Join(dir, "comment.md"),
		GitLabTerraform: filepath.Join(dir, "gitlab-terraform.json"),
		JUnit:           filepath.Join(dir, "junit.xml"),
	}
	if command == "drift" {
		f.Drift = filepath.Join(dir, "drift.md")
	}
	return f
}

// WriteAll writes report.json and every rendering of r, each atomically,
// into dir and returns their paths. r must be finished (Finish). A file
// that cannot be written stops the others: a reader never finds a report
// set that mixes two runs without an error having been shown.
func (r *Report) WriteAll(dir string) (Files, error) {
	f := reportFiles(dir, r.Command)
	if err := r.WriteJSON(f.Report); err != nil {
		return f, err
	}
	junit, err := JUnit(r)
	if err != nil {
		return f, err
	}
	type write struct {
		path string
		data []byte
	}
	writes := []write{
		{f.Summary, Summary(r)},
		{f.Comment, Comment(r)},
		{f.GitLabTerraform, GitLabTerraform(r)},
		{f.JUnit, junit},
	}
	if f.Drift != "" {
		writes = append(writes, write{f.Drift, DriftIssue(r)})
	}
	cqPath := filepath.Join(dir, "codequality.json")
	if cq, any := CodeQuality(r); any {
		f.CodeQuality = cqPath
		writes = append(writes, write{f.CodeQuality, cq})
	} else if err := os.Remove(cqPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A previous run's issues must not pass for this run's.
		return f, fmt.Errorf("removing the stale %s: %w", cqPath, err)
	}
	for _, w := range writes {
		if err := writeFile(w.path, w.data, 0o644); err != nil {
			return f, fmt.Errorf("writing %s: %w", w.path, err)
		}
	}
	return f, nil
}

// Publish hands the run's results to GitHub Actions when GITHUB_OUTPUT or
// GITHUB_STEP_SUMMARY is set: the summary is appended to the step summary
// (re-rendered smaller when the step already wrote part of its 1 MiB),
// and the outputs changed (stacks with changes), has_changes, failed
// (failed or interrupted stacks), drifted and has_drift (drift runs) and
// the report paths are appended to GITHUB_OUTPUT. Other CI systems read
// the files directly. Paths are made absolute, so later steps may run
// anywhere.
func Publish(getenv func(string) string, r *Report, f Files) error {
	if path := getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendStepSummary(path, r); err != nil {
			return err
		}
	}
	path := getenv("GITHUB_OUTPUT")
	if path == "" {
		return nil
	}
	var b strings.Builder
	t := r.Totals
	set := func(k, v string) { ci.SetOutput(&b, k, v) }
	set("changed", strconv.Itoa(t.WithChanges))
	set("has_changes", strconv.FormatBool(t.WithChanges > 0))
	set("failed", strconv.Itoa(t.Failed+t.Interrupted))
	if r.Command == "drift" {
		n := 0
		for i := range r.Stacks {
			if r.Stacks[i].Status == StatusSucceeded && Drifted(&r.Stacks[i]) {
				n++
			}
		}
		set("drifted", strconv.Itoa(n))
		set("has_drift", strconv.FormatBool(n > 0))
	}
	for _, p := range []struct{ name, path string }{
		{"report", f.Report}, {"summary", f.Summary}, {"comment", f.Comment},
		{"gitlab_terraform", f.GitLabTerraform}, {"junit", f.JUnit}, {"drift", f.Drift},
		{"codequality", f.CodeQuality},
	} {
		if p.path == "" {
			continue
		}
		abs, err := filepath.Abs(p.path)
		if err != nil {
			return err
		}
		set(p.name, abs)
	}
	return ci.AppendOutputs(path, b.String())
}

// appendStepSummary appends the summary to GitHub's step summary file,
// within what is left of the step's 1 MiB.
func appendStepSummary(path string, r *Report) error {
	used := int64(0)
	if fi, err := os.Stat(path); err == nil {
		used = fi.Size()
	}
	room := SummaryLimit - int(used)
	sep := ""
	if used > 0 {
		sep = "\n"
		room--
	}
	if room < 2*noteReserve {
		return nil // the step's summary is full; summary.md still holds it all
	}
	text := sep + string(summaryWithin(r, room))
	return ci.AppendStepSummary(path, text)
}
