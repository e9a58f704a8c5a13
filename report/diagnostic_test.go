package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiagnosticString(t *testing.T) {
	for _, c := range []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Severity: "error", Summary: "Invalid expression", Detail: "Expected the start of an expression.", File: "stacks/b/main.tf", Line: 5, Column: 11},
			"stacks/b/main.tf:5:11: Invalid expression\n    Expected the start of an expression."},
		{Diagnostic{Severity: "warning", Summary: "Odd", Detail: "one\ntwo", File: "tmci.hcl", Line: 1}, "tmci.hcl:1: warning: Odd\n    one\n    two"},
		{Diagnostic{Severity: "error", Summary: "Unreadable stack directory", Detail: "Cannot read it."}, "Unreadable stack directory\n    Cannot read it."},
	} {
		if diff := cmp.Diff(c.want, c.d.String()); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", c.d, diff)
		}
	}
}

// invalidReport is a run in which one stack failed on its own code and
// its dependent was skipped.
func invalidReport() *Report {
	r := &Report{Command: "plan", Environment: "pr-1", StartedAt: *at(0), RootInRepo: "infra",
		Stacks: []StackReport{
			{Path: "/stacks/a", Name: "a", Status: StatusSucceeded},
			{Path: "/stacks/b", Name: "b", Status: StatusFailed, Diagnostics: []Diagnostic{
				{Severity: "error", Summary: "Invalid expression", Detail: "Expected the start of an expression.", File: "stacks/b/main.tf", Line: 5, Column: 11},
				{Severity: "error", Summary: "Unreadable Terraform file", Detail: "Cannot read it."},
			}},
			{Path: "/stacks/c", Name: "c", Status: StatusSkipped, FailedDependencies: []string{"/stacks/b"},
				Error: "skipped: /stacks/b failed; /stacks/b: stacks/b/main.tf:5:11: Invalid expression"},
		}}
	r.Stacks[1].Error = DiagnosticsText(r.Stacks[1].Diagnostics)
	r.Finish(*at(1))
	return r
}

// TestCodeQuality: a diagnostic with a place becomes an issue at its
// line, its path from the repository's top level; one without is left
// out (the other reports carry it).
func TestCodeQuality(t *testing.T) {
	data, ok := CodeQuality(invalidReport())
	if !ok {
		t.Fatal("no issues")
	}
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d issues, want 1:\n%s", len(got), data)
	}
	is := got[0]
	fp, _ := is["fingerprint"].(string)
	delete(is, "fingerprint")
	want := map[string]any{
		"description": "/stacks/b: Invalid expression: Expected the start of an expression.",
		"check_name":  "tmci/invalid-expression",
		"severity":    "major",
		"location":    map[string]any{"path": "infra/stacks/b/main.tf", "lines": map[string]any{"begin": float64(5)}},
	}
	if diff := cmp.Diff(want, is); diff != "" {
		t.Errorf("issue (-want +got):\n%s", diff)
	}
	if len(fp) != 32 {
		t.Errorf("fingerprint %q, want 32 hex digits", fp)
	}
	if _, ok := CodeQuality(sampleReport("plan")); ok {
		t.Error("a run without diagnostics has code quality issues")
	}
}

// TestWriteAllCodeQuality: codequality.json is written when a stack
// failed with a placed diagnostic, and a later run without one removes
// it, so that GitLab never shows a previous run's issues.
func TestWriteAllCodeQuality(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pr-1")
	files, err := invalidReport().WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if files.CodeQuality != filepath.Join(dir, "codequality.json") {
		t.Fatalf("CodeQuality = %q", files.CodeQuality)
	}
	if _, err := os.Stat(files.CodeQuality); err != nil {
		t.Fatal(err)
	}
	junit, err := os.ReadFile(files.JUnit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(junit), `message="failed: stacks/b/main.tf:5:11: Invalid expression"`) {
		t.Errorf("junit.xml does not name the place in the failure:\n%s", junit)
	}
	if !strings.Contains(string(junit), `<skipped message="skipped: /stacks/b failed; /stacks/b: stacks/b/main.tf:5:11: Invalid expression">`) {
		t.Errorf("junit.xml does not say why the dependent was skipped:\n%s", junit)
	}
	summary, err := os.ReadFile(files.Summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "stacks/b/main.tf:5:11: Invalid expression\n    Expected the start of an expression.") {
		t.Errorf("summary.md does not hold the diagnostic:\n%s", summary)
	}
	files, err = sampleReport("plan").WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "codequality.json")); !os.IsNotExist(err) || files.CodeQuality != "" {
		t.Errorf("a run without diagnostics left codequality.json (%v, %q)", err, files.CodeQuality)
	}
}
