package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// Diagnostic is a problem tmci found in a stack's own configuration
// before running it (its Terraform code does not parse, its backend block
// is missing, of another type or declared twice): the stack failed with
// it, without running anything.
type Diagnostic struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// File is relative to the project root, with "/"; Line and Column
	// are 1-based. All three are empty when the problem has no place.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Place is "file:line:column", "file:line" or "file", or "" without a
// file.
func (d Diagnostic) Place() string {
	switch {
	case d.File == "":
		return ""
	case d.Line == 0:
		return d.File
	case d.Column == 0:
		return fmt.Sprintf("%s:%d", d.File, d.Line)
	}
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Column)
}

// String renders d as the compilers and tmci's own errors do: "place:
// summary" on one line, then the detail's lines indented.
func (d Diagnostic) String() string {
	var b strings.Builder
	if p := d.Place(); p != "" {
		b.WriteString(p + ": ")
	}
	if d.Severity == "warning" {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Summary)
	for _, line := range strings.Split(d.Detail, "\n") {
		if line != "" {
			b.WriteString("\n    " + line)
		}
	}
	return b.String()
}

// DiagnosticsText renders diagnostics one after the other, as a failed
// stack's error says them.
func DiagnosticsText(diags []Diagnostic) string {
	parts := make([]string, len(diags))
	for i, d := range diags {
		parts[i] = d.String()
	}
	return strings.Join(parts, "\n")
}

// codeQualityIssue is one entry of GitLab's code quality report
// (artifacts:reports:codequality), which GitLab shows on the merge
// request and at the line in its diff.
type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityLocation struct {
	Path  string `json:"path"`
	Lines struct {
		Begin int `json:"begin"`
	} `json:"lines"`
}

// CodeQuality renders the stacks' diagnostics that have a place as a
// GitLab code quality report, paths from the repository's top level
// (RootInRepo), and reports whether there was any. The fingerprint, which
// GitLab uses to tell issues apart across pipelines, hashes the stack,
// the place and the summary.
func CodeQuality(r *Report) ([]byte, bool) {
	issues := []codeQualityIssue{}
	for i := range r.Stacks {
		s := &r.Stacks[i]
		for _, d := range s.Diagnostics {
			if d.File == "" || strings.HasPrefix(d.File, "/") {
				continue // no place, or outside the repository
			}
			is := codeQualityIssue{
				Description: fmt.Sprintf("%s: %s", s.Path, d.Summary),
				CheckName:   "tmci/" + slug(d.Summary),
				Severity:    "major",
			}
			if d.Detail != "" {
				is.Description += ": " + d.Detail
			}
			if d.Severity == "warning" {
				is.Severity = "minor"
			}
			is.Location.Path = path.Join(r.RootInRepo, d.File)
			is.Location.Lines.Begin = max(d.Line, 1)
			h := sha256.Sum256([]byte(strings.Join([]string{s.Path, d.Place(), d.Summary}, "\x00")))
			is.Fingerprint = hex.EncodeToString(h[:16])
			issues = append(issues, is)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	_ = enc.Encode(issues) // strings and ints always encode
	return b.Bytes(), len(issues) > 0
}

// slug turns a summary into a check name: "Invalid expression" becomes
// "invalid-expression".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
