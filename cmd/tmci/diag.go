package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/project"
)

// printDiags writes diagnostics to stderr as "file:line:col: summary" with
// the detail indented below, file names relative to the working directory.
// They are sorted by file and position; those without a range come first.
func (a *app) printDiags(p *project.Project, diags hcl.Diagnostics) {
	diags = append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	for i, d := range diags {
		if a.diagsShown == maxPrintedDiags {
			fmt.Fprintf(a.stderr, "tmci: and %d more problems not shown; fix the ones above first\n", len(diags)-i)
			return
		}
		a.diagsShown++
		fmt.Fprintln(a.stderr, a.formatDiag(p, d))
		a.annotateDiag(p, d)
	}
}

// maxPrintedDiags bounds the diagnostics a run prints: past a screenful,
// more lines bury the first problem and can flood a CI log.
const maxPrintedDiags = 50

func (a *app) formatDiag(p *project.Project, d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		name := d.Subject.Filename
		if p != nil && !filepath.IsAbs(name) {
			if rel, err := filepath.Rel(a.wd, filepath.Join(p.Root, filepath.FromSlash(name))); err == nil {
				name = filepath.ToSlash(rel)
			}
		}
		// A file name from the repository may hold a newline or an escape
		// sequence: each part is made printable, never the whole (whose
		// line breaks are tmci's).
		fmt.Fprintf(&b, "%s:%d:%d: ", printable.String(name), d.Subject.Start.Line, d.Subject.Start.Column)
	} else {
		b.WriteString("tmci: ")
	}
	if d.Severity == hcl.DiagWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(printable.String(d.Summary))
	if d.Detail != "" {
		for _, line := range strings.Split(d.Detail, "\n") {
			b.WriteString("\n    ")
			b.WriteString(printable.String(line))
		}
	}
	return b.String()
}
