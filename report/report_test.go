package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

func TestReportFinishAndWrite(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Report{
		Command:     "plan",
		Environment: "pr-1",
		StartedAt:   start,
		Stacks: []StackReport{
			{Path: "/a", Name: "a", Status: StatusSucceeded, Plan: &PlanReport{Changes: true, Summary: tf.Summary{Create: 2, Replace: 1}}},
			{Path: "/b", Name: "b", Status: StatusFailed, Error: "exit status 1"},
			{Path: "/c", Name: "c", Status: StatusSkipped, DependsOn: []string{"/b"}, FailedDependencies: []string{"/b"}},
			{Path: "/d", Name: "d", Status: StatusSucceeded, Plan: &PlanReport{Summary: tf.Summary{Drift: 3}}},
			{Path: "/e", Name: "e", Status: StatusInterrupted},
			{Path: "/f", Name: "f", Status: StatusNotStarted},
		},
	}
	r.Finish(start.Add(1500 * time.Millisecond))
	want := Totals{Stacks: 6, Succeeded: 2, Failed: 1, Skipped: 1, Interrupted: 1, NotStarted: 1, WithChanges: 1, Create: 2, Replace: 1, Drift: 3}
	if diff := cmp.Diff(want, r.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if r.DurationMS != 1500 || r.SchemaVersion != ReportSchemaVersion {
		t.Errorf("duration %d, schema %d", r.DurationMS, r.SchemaVersion)
	}
	path := filepath.Join(t.TempDir(), "pr-1", "report.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	stacks := back["stacks"].([]any)
	if got := stacks[0].(map[string]any)["depends_on"]; got == nil {
		t.Error("depends_on is null, want []")
	}
	if _, ok := stacks[0].(map[string]any)["plan"].(map[string]any)["excerpt"]; ok {
		t.Error("the plan excerpt leaked into report.json")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files in the report directory, want only report.json", len(entries))
	}
}
