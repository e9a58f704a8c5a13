package main

import (
	"testing"

	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/tf"
)

func TestChangesText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		plan *report.PlanReport
		want string
	}{
		{nil, ""},
		{&report.PlanReport{}, "no changes"},
		{&report.PlanReport{Changes: true, Summary: tf.Summary{OutputChanges: true}}, "+0 ~0 -0"},
		{&report.PlanReport{Changes: true, Summary: tf.Summary{Create: 1, Update: 2, Delete: 3, Replace: 4}}, "+1 ~2 -3 -/+4"},
	} {
		if got := changesText(c.plan); got != c.want {
			t.Errorf("changesText(%+v) = %q, want %q", c.plan, got, c.want)
		}
	}
}
