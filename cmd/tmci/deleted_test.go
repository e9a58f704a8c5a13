package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/report"
)

// TestWarnDeletedHostilePath: a deleted stack's path comes from the base
// revision's tree; a control character in it reaches neither the
// terminal nor the GitHub log as itself, and the warning stays one line.
func TestWarnDeletedHostilePath(t *testing.T) {
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
		if k == "GITHUB_ACTIONS" {
			return "true"
		}
		return ""
	}}
	r := &engine.Run{Verb: engine.Apply, Env: engine.Environment{Name: "prod"}, Deleted: []report.DeletedStack{
		{Path: "/a\x1b[2J\n::error::x", Revision: strings.Repeat("1", 40), Source: "change"},
	}}
	a.warnDeleted(r)
	for name, out := range map[string]string{"stderr": stderr.String(), "stdout": stdout.String()} {
		if strings.ContainsAny(out, "\x1b\r") || strings.Count(out, "\n") != 1 || !strings.Contains(out, `/a\x1b[2J`) {
			t.Errorf("%s carries the path's control characters, or is not one line:\n%q", name, out)
		}
	}
}
