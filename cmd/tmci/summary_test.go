package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/tf"
)

func TestApplyCounts(t *testing.T) {
	for _, c := range []struct {
		name   string
		chunks []string
		want   *ci.PlanReport
	}{
		{"apply", []string{"terraform_data.a: Creating...\n", "\nApply complete! Resources: 2 added, 1 changed, 3 destroyed.\n"},
			&ci.PlanReport{Changes: true, Summary: tf.Summary{Create: 2, Update: 1, Delete: 3}}},
		{"split across writes, no final newline", []string{"Apply comp", "lete! Resources: 1 added, 0 ch", "anged, 0 destroyed."},
			&ci.PlanReport{Changes: true, Summary: tf.Summary{Create: 1}}},
		{"imports", []string{"Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.\n"},
			&ci.PlanReport{Summary: tf.Summary{}}},
		{"destroy", []string{"Destroy complete! Resources: 4 destroyed.\n"},
			&ci.PlanReport{Changes: true, Summary: tf.Summary{Delete: 4}}},
		{"no count line: failed early", []string{"Error: Invalid reference\n"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			counts := &applyCounts{w: &out}
			for _, chunk := range c.chunks {
				if _, err := counts.Write([]byte(chunk)); err != nil {
					t.Fatal(err)
				}
			}
			counts.flush()
			if diff := cmp.Diff(c.want, counts.report()); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if out.String() != strings.Join(c.chunks, "") {
				t.Errorf("output passed through as %q", out.String())
			}
		})
	}
}

func TestChangesText(t *testing.T) {
	for _, c := range []struct {
		plan *ci.PlanReport
		want string
	}{
		{nil, ""},
		{&ci.PlanReport{}, "no changes"},
		{&ci.PlanReport{Changes: true, Summary: tf.Summary{OutputChanges: true}}, "+0 ~0 -0"},
		{&ci.PlanReport{Changes: true, Summary: tf.Summary{Create: 1, Update: 2, Delete: 3, Replace: 4}}, "+1 ~2 -3 -/+4"},
	} {
		if got := changesText(c.plan); got != c.want {
			t.Errorf("changesText(%+v) = %q, want %q", c.plan, got, c.want)
		}
	}
}

// TestLayout: the data directory and backend file of a stack never fall
// inside another stack's data directory, the root stack's included.
func TestLayout(t *testing.T) {
	l := layout{dir: "/w/pr-1"}
	got := map[string][]string{}
	for _, p := range []string{"/", "/a", "/a/modules", "/plans"} {
		got[p] = []string{l.dataDir(p), l.backendFile(p), l.planFile(p), l.logFile(p)}
	}
	want := map[string][]string{
		"/":          {"/w/pr-1/.terraform", "/w/pr-1/.tmci.tfbackend", "/w/pr-1/plans/.root.tfplan", "/w/pr-1/logs/.root.log"},
		"/a":         {"/w/pr-1/a/.terraform", "/w/pr-1/a/.tmci.tfbackend", "/w/pr-1/plans/a.tfplan", "/w/pr-1/logs/a.log"},
		"/a/modules": {"/w/pr-1/a/modules/.terraform", "/w/pr-1/a/modules/.tmci.tfbackend", "/w/pr-1/plans/a/modules.tfplan", "/w/pr-1/logs/a/modules.log"},
		"/plans":     {"/w/pr-1/plans/.terraform", "/w/pr-1/plans/.tmci.tfbackend", "/w/pr-1/plans/plans.tfplan", "/w/pr-1/logs/plans.log"},
	}
	for _, paths := range want {
		for i := range paths {
			paths[i] = filepath.FromSlash(paths[i])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}
