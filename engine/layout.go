package engine

import (
	"path/filepath"
	"strings"

	"github.com/tmci/tmci/project"
)

// Layout names the files of one environment under the work directory:
//
//	<dir>/<stack path>/.terraform        TF_DATA_DIR, private
//	<dir>/<stack path>/.tmci.tfbackend   the backend file, 0600
//	<dir>/plans/<stack path>.tfplan
//	<dir>/logs/<stack path>.log
//	<dir>/report.json
//	<dir>/.lock                          held by the run (lockWorkDir)
//
// The data directory and backend file sit one level below the stack's
// directory under names starting with a dot, which no stack directory can
// have, so a stack's data never mixes with a nested stack's (terraform
// writes modules/ and providers/ into its data directory).
type Layout struct {
	// Dir is <work>/<env>.
	Dir string
}

// NewLayout returns the layout of env under the --work-dir value work,
// relative to the working directory wd; "" means <root>/.tmci.
func NewLayout(p *project.Project, wd, work string, env Environment) Layout {
	if work == "" {
		work = filepath.Join(p.Root, ".tmci")
	} else if !filepath.IsAbs(work) {
		work = filepath.Join(wd, work)
	}
	return Layout{Dir: filepath.Join(work, env.DirName())}
}

// reportNames are the files a run writes at the top of its directory.
var reportNames = map[string]bool{
	"report.json": true, "summary.md": true, "comment.md": true,
	"gitlab-terraform.json": true, "junit.xml": true, "drift.md": true,
}

// escape appends "_" to a path component that, without its trailing
// underscores, is reserved. It is injective: reserved components all gain
// one underscore, and no other component ends up looking reserved. A
// stack's files thus never take a name tmci uses for something else,
// whatever the repository names its directories (a stack at
// /report.json, or /a.log/b beside /a).
func escape(c string, reserved func(string) bool) string {
	if reserved(strings.TrimRight(c, "_")) {
		return c + "_"
	}
	return c
}

func hasSuffix(suffix string) func(string) bool {
	return func(c string) bool { return strings.HasSuffix(c, suffix) }
}

// treeName is a stack's path as a file name under logs/ or plans/ with
// extension ext; the root stack is ".root". No directory on the way ends
// in ext, so no stack's file is another's directory.
func treeName(path, ext string) string {
	if path == "/" {
		return ".root" + ext
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range parts[:len(parts)-1] {
		parts[i] = escape(parts[i], hasSuffix(ext))
	}
	return filepath.Join(parts...) + ext
}

// stackDir is the directory of a stack's data directory and backend
// file. Its first component is never a report's name, and below logs/
// and plans/ no component ends in those trees' extensions.
func (l Layout) stackDir(path string) string {
	if path == "/" {
		return l.Dir
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	parts[0] = escape(parts[0], func(c string) bool { return reportNames[c] })
	var tree func(string) bool
	switch parts[0] {
	case "logs":
		tree = hasSuffix(".log")
	case "plans":
		tree = hasSuffix(".tfplan")
	}
	for i := 1; tree != nil && i < len(parts); i++ {
		parts[i] = escape(parts[i], tree)
	}
	return filepath.Join(append([]string{l.Dir}, parts...)...)
}

// DataDir is the TF_DATA_DIR of the stack at path.
func (l Layout) DataDir(path string) string { return filepath.Join(l.stackDir(path), ".terraform") }

// BackendFile is the backend file of the stack at path.
func (l Layout) BackendFile(path string) string {
	return filepath.Join(l.stackDir(path), ".tmci.tfbackend")
}

// PlanFile is where plan saves the plan of the stack at path.
func (l Layout) PlanFile(path string) string {
	return filepath.Join(l.Dir, "plans", treeName(path, ".tfplan"))
}

// PlanRecord holds the SHA-256 of the plan tmci plan saved for the stack
// at path; apply --from-plans applies only a plan that matches it.
func (l Layout) PlanRecord(path string) string {
	return filepath.Join(l.stackDir(path), ".tmci.tfplan.sha256")
}

// LogFile is the complete output of the stack at path.
func (l Layout) LogFile(path string) string {
	return filepath.Join(l.Dir, "logs", treeName(path, ".log"))
}

// Report is report.json; the other reports sit next to it.
func (l Layout) Report() string { return filepath.Join(l.Dir, "report.json") }

// LedgerDir holds the ledger's configuration and data directory (package
// ledger); stack directories never start with a dot, so it meets none.
func (l Layout) LedgerDir() string { return filepath.Join(l.Dir, ".ledger") }
