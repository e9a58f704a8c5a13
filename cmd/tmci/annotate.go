package main

// GitHub workflow commands tmci prints around a run: error annotations
// for failed stacks and config diagnostics, masks for backend secrets.

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/report"
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

// annotateFailures annotates, on GitHub, each failed or interrupted
// stack's block with the error, terraform's error line from the end of
// its log (engine.Execute keeps it in LogTail) and the log's path.
func (a *app) annotateFailures(r *engine.Run, rep *report.Report) {
	if !a.onGitHub() {
		return
	}
	for i := range rep.Stacks {
		s := &rep.Stacks[i]
		if s.Status != report.StatusFailed && s.Status != report.StatusInterrupted {
			continue
		}
		if len(s.Diagnostics) > 0 {
			a.annotateInvalid(r, s)
			continue
		}
		an := ci.Annotation{
			Title:   fmt.Sprintf("tmci %s: %s %s", r.Verb, s.Path, s.Status),
			Message: s.Error,
		}
		if line := errorLine(s.LogTail); line != "" {
			an.Message += "\n" + line
		}
		if s.Log != "" {
			an.Message += "\nlog: " + s.Log
		}
		if st := r.Project.Stack(s.Path); st != nil && st.DeclRange.Filename != "" {
			an.File = a.githubFile(r.Project, st.DeclRange.Filename)
			an.Line = st.DeclRange.Start.Line
		}
		// Where terraform said the error is, when that is a file of the
		// project: the annotation then sits on the offending line.
		if file, line, ok := report.TerraformLocation(s.LogTail); ok {
			abs := filepath.Join(r.Project.Root, filepath.FromSlash(strings.TrimPrefix(s.Path, "/")), filepath.FromSlash(file))
			if rel, err := filepath.Rel(r.Project.Root, abs); err == nil && filepath.IsLocal(rel) {
				an.File, an.Line = a.githubFile(r.Project, abs), line
			}
		}
		fmt.Fprint(a.stdout, an.Error())
	}
}

// annotateInvalid annotates a stack that failed on its own configuration
// at each problem's file and line (at the stack's block for a problem
// without a place).
func (a *app) annotateInvalid(r *engine.Run, s *report.StackReport) {
	for _, d := range s.Diagnostics {
		an := ci.Annotation{
			Title:   fmt.Sprintf("tmci %s: %s failed: %s", r.Verb, s.Path, d.Summary),
			Message: d.Detail,
		}
		if an.Message == "" {
			an.Message = d.Summary
		}
		if s.Log != "" {
			an.Message += "\nlog: " + s.Log
		}
		switch st := r.Project.Stack(s.Path); {
		case d.File != "":
			an.File = a.githubFile(r.Project, d.File)
			an.Line, an.Col = d.Line, d.Column
		case st != nil && st.DeclRange.Filename != "":
			an.File = a.githubFile(r.Project, st.DeclRange.Filename)
			an.Line = st.DeclRange.Start.Line
		}
		fmt.Fprint(a.stdout, an.Error())
	}
}

// errorLine returns terraform's first "Error: ..." line in a log tail,
// without the box drawing around it.
func errorLine(tail string) string {
	if e := report.TerraformError(tail); e != "" {
		return "Error: " + e
	}
	return ""
}

// backendSecrets returns every secret of the run's backends: the
// configurations' own and those terraform reads from the environment.
func (a *app) backendSecrets(configs map[string]*backend.Config) []string {
	var values []string
	for _, c := range configs {
		if c != nil {
			values = append(values, c.SecretValues()...)
			values = append(values, c.EnvSecretValues(a.getenv)...)
		}
	}
	return values
}

// addSecrets registers every secret of the run's backends with the
// redaction layer, before any terraform output can show one.
func (a *app) addSecrets(configs map[string]*backend.Config) {
	a.secrets.Add(a.backendSecrets(configs)...)
}

// maskSecrets registers every secret of the run's backends with the
// redaction layer and tells GitHub to hide them, before any terraform
// output can show one. The ::add-mask:: lines are the one place a secret
// is printed on purpose, so they bypass the redaction layer (a.unmasked),
// after what it holds is flushed.
func (a *app) maskSecrets(configs map[string]*backend.Config) {
	values := a.backendSecrets(configs)
	a.secrets.Add(values...)
	a.maskValues(values)
}

// maskValues tells GitHub to hide each of values (see maskSecrets).
func (a *app) maskValues(values []string) {
	if !a.onGitHub() || len(values) == 0 {
		return
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			b.WriteString(ci.AddMask(v))
		}
	}
	if f, ok := a.stdout.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	fmt.Fprint(a.unmasked, b.String())
}
