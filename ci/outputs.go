package ci

import (
	"fmt"
	"os"
	"strings"
)

// The files GitHub Actions reads after a step: GITHUB_OUTPUT, the step's
// outputs, and GITHUB_STEP_SUMMARY, its Markdown summary. Both are
// appended to, never rewritten: other tools of the step write there too.

// SetOutput writes one GITHUB_OUTPUT entry to b: name=value, or the
// heredoc form with a random delimiter when the value spans lines, so a
// value cannot end the entry early or set another output.
func SetOutput(b *strings.Builder, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	delim := "tmci_" + randomToken()
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
}

// AppendOutputs appends GITHUB_OUTPUT entries (see SetOutput) to the file
// at path.
func AppendOutputs(path, entries string) error { return appendFile(path, entries, "GITHUB_OUTPUT") }

// AppendStepSummary appends Markdown to the step summary file at path.
func AppendStepSummary(path, markdown string) error {
	return appendFile(path, markdown, "GITHUB_STEP_SUMMARY")
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
