package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/report"
)

// cmdReport runs tmci report SUBCOMMAND; merge is the only one.
func (a *app) cmdReport(args []string) int {
	if len(args) == 0 || args[0] != "merge" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(a.stdout, "Usage: tmci report merge --out DIR PART...")
			return exitOK
		}
		return a.fail("tmci report", errors.New("use tmci report merge --out DIR PART... (each PART a <work>/<env> directory of one fan-out job)"))
	}
	fs := a.flags("report merge")
	var out string
	fs.StringVar(&out, "out", "", "`DIR` to write the merged report.json, summary.md, comment.md, junit.xml and gitlab-terraform.json to")
	if ok, code := a.parse(fs, args[1:]); !ok {
		return code
	}
	files, err := a.reportMerge(fs, out)
	if err != nil {
		return a.fail("tmci report merge", err)
	}
	fmt.Fprintf(a.stdout, "merged into %s\n", filepath.Dir(files.Report))
	return exitOK
}

// reportMerge merges the parts named by fs's arguments into out and
// publishes the result as a run's reports are (GitHub outputs and step
// summary).
func (a *app) reportMerge(fs *pflag.FlagSet, out string) (report.Files, error) {
	if out == "" {
		return report.Files{}, errors.New("--out is required: the directory for the merged reports")
	}
	if fs.NArg() == 0 {
		return report.Files{}, errors.New("no parts: name each fan-out job's <work>/<env> directory")
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(a.wd, p)
	}
	args := make([]string, fs.NArg())
	for i, p := range fs.Args() {
		args[i] = abs(p)
	}
	dirs, err := report.PartDirs(args)
	if err != nil {
		return report.Files{}, err
	}
	var parts []*report.Report
	for _, dir := range dirs {
		p, err := report.ReadPart(dir)
		if err != nil {
			return report.Files{}, err
		}
		parts = append(parts, p)
	}
	merged, err := report.Merge(parts)
	if err != nil {
		return report.Files{}, err
	}
	files, err := merged.WriteAll(abs(out))
	if err != nil {
		return files, err
	}
	return files, report.Publish(a.getenv, merged, files)
}
