package main

// GitHub workflow commands tmci prints around a run: error annotations
// for failed stacks and config diagnostics, masks for backend secrets.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/project"
)

// onGitHub reports whether workflow commands reach GitHub Actions.
func (a *app) onGitHub() bool { return a.getenv("GITHUB_ACTIONS") == "true" }

// githubFile names a project file (as diagnostics name it: relative to
// the root, or absolute) relative to the workspace, as GitHub's
// annotations want it.
func (a *app) githubFile(p *project.Project, name string) string {
	if p != nil && !filepath.IsAbs(name) {
		name = filepath.Join(p.Root, filepath.FromSlash(name))
	}
	base := a.getenv("GITHUB_WORKSPACE")
	if base == "" && p != nil {
		base = p.Root
	}
	if rel, err := filepath.Rel(base, name); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(name)
}

// annotateDiag shows an error diagnostic on GitHub as an annotation on
// the offending file and line.
func (a *app) annotateDiag(p *project.Project, d *hcl.Diagnostic) {
	if !a.onGitHub() || d.Severity != hcl.DiagError {
		return
	}
	an := ci.Annotation{Title: d.Summary, Message: d.Detail}
	if an.Message == "" {
		an.Message = d.Summary
	}
	if d.Subject != nil {
		an.File = a.githubFile(p, d.Subject.Filename)
		an.Line, an.Col = d.Subject.Start.Line, d.Subject.Start.Column
	}
	fmt.Fprint(a.stderr, an.Error())
}

// explainFailures adds to each failed or interrupted stack the end of its
// log, where terraform says what went wrong, and on GitHub annotates its
// stack block with the error and the log's path.
func (a *app) explainFailures(r *plannedRun, rep *ci.Report) {
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		if s.Status != ci.StatusFailed && s.Status != ci.StatusInterrupted {
			continue
		}
		if s.Log != "" {
			if data, err := os.ReadFile(filepath.Join(r.p.Root, filepath.FromSlash(s.Log))); err == nil {
				s.LogTail = ci.TailOf(data)
			}
		}
		if !a.onGitHub() {
			continue
		}
		an := ci.Annotation{
			Title:   fmt.Sprintf("tmci %s: %s %s", r.verb, s.Path, s.Status),
			Message: s.Error,
		}
		if line := errorLine(s.LogTail); line != "" {
			an.Message += "\n" + line
		}
		if s.Log != "" {
			an.Message += "\nlog: " + s.Log
		}
		if st := r.p.Stack(s.Path); st != nil && st.DeclRange.Filename != "" {
			an.File = a.githubFile(r.p, st.DeclRange.Filename)
			an.Line = st.DeclRange.Start.Line
		}
		fmt.Fprint(a.stdout, an.Error())
	}
}

// errorLine returns terraform's first "Error: ..." line in a log tail,
// without the box drawing around it.
func errorLine(tail string) string {
	for _, line := range strings.Split(tail, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(line, "│╷╵ "))
		if strings.HasPrefix(line, "Error: ") {
			return line
		}
	}
	return ""
}

// maskSecrets tells GitHub to hide every sensitive backend value before
// any terraform output can show one.
func (a *app) maskSecrets(r *plannedRun) {
	if !a.onGitHub() {
		return
	}
	var b strings.Builder
	for _, c := range r.configs {
		if c == nil {
			continue
		}
		for _, v := range c.Attrs {
			if v.Sensitive && v.Val.IsKnown() && !v.Val.IsNull() && v.Val.Type() == cty.String {
				b.WriteString(ci.AddMask(v.Val.AsString()))
			}
		}
	}
	fmt.Fprint(a.stdout, b.String())
}
