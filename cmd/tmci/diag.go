package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/project"
)

// printDiags writes diagnostics to stderr as "file:line:col: summary" with
// the detail indented below, file names relative to the working directory.
func (a *app) printDiags(p *project.Project, diags hcl.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(a.stderr, a.formatDiag(p, d))
	}
}

func (a *app) formatDiag(p *project.Project, d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		name := d.Subject.Filename
		if p != nil && !filepath.IsAbs(name) {
			if rel, err := filepath.Rel(a.wd, filepath.Join(p.Root, filepath.FromSlash(name))); err == nil {
				name = filepath.ToSlash(rel)
			}
		}
		fmt.Fprintf(&b, "%s:%d:%d: ", name, d.Subject.Start.Line, d.Subject.Start.Column)
	} else {
		b.WriteString("tmci: ")
	}
	if d.Severity == hcl.DiagWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		for _, line := range strings.Split(d.Detail, "\n") {
			b.WriteString("\n    ")
			b.WriteString(line)
		}
	}
	return b.String()
}
