package ci

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Files are the paths of the reports of one run, all in one directory
// (<work>/<env>/). Drift is set only for drift runs.
type Files struct {
	Report, Summary, Comment, GitLabTerraform, JUnit, Drift string
}

// ReportFiles names the reports of a run of command in dir.
func ReportFiles(dir, command string) Files {
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
	f := ReportFiles(dir, r.Command)
	if err := r.WriteJSON(f.Report); err != nil {
		return f, err
	}
	junit, err := JUnit(r)
	if err != nil {
		return f, err
	}
	writes := []struct {
		path string
		data []byte
	}{
		{f.Summary, Summary(r)},
		{f.Comment, Comment(r)},
		{f.GitLabTerraform, GitLabTerraform(r)},
		{f.JUnit, junit},
	}
	if f.Drift != "" {
		writes = append(writes, struct {
			path string
			data []byte
		}{f.Drift, DriftIssue(r)})
	}
	for _, w := range writes {
		if err := WriteFileAtomic(w.path, w.data, 0o644); err != nil {
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
	set := func(k, v string) { writeOutput(&b, k, v) }
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
	return appendFile(path, b.String(), "GITHUB_OUTPUT")
}

// writeOutput writes one GITHUB_OUTPUT entry: name=value, or the heredoc
// form with a random delimiter when the value spans lines.
func writeOutput(b *strings.Builder, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	delim := "tmci_" + RandomToken()
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
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
	text := sep + string(SummaryWithin(r, room))
	return appendFile(path, text, "GITHUB_STEP_SUMMARY")
}

func appendFile(path, text, what string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("writing %s %s: %w", what, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s %s: %w", what, path, err)
	}
	return nil
}
