package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
)

func TestFilterEnvironments(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	envs := func() []environmentJSON {
		return []environmentJSON{
			{Name: "prod", LastApply: ago(time.Hour)},
			{Name: "pr-1", Ephemeral: true, LastApply: ago(200 * time.Hour)},
			{Name: "pr-2", Ephemeral: true, LastApply: ago(2 * time.Hour)},
			{Name: "pr-3", Ephemeral: true}, // never applied
			{Name: "staging", LastApply: ago(300 * time.Hour)},
		}
	}
	names := func(es []environmentJSON) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		ephemeral bool
		olderThan time.Duration
		want      string
	}{
		{false, 0, "prod pr-1 pr-2 pr-3 staging"},
		{true, 0, "pr-1 pr-2 pr-3"},
		{false, 168 * time.Hour, "pr-1 pr-3 staging"},
		{true, 168 * time.Hour, "pr-1 pr-3"},
		{true, 200 * time.Hour, "pr-1 pr-3"}, // applied exactly at the cutoff counts as old
		{false, 250 * time.Hour, "pr-3 staging"},
	} {
		if got := names(filterEnvironments(envs(), tc.ephemeral, tc.olderThan, now)); got != tc.want {
			t.Errorf("ephemeral=%v older-than=%s: got %q, want %q", tc.ephemeral, tc.olderThan, got, tc.want)
		}
	}
}

func TestSummarizeCountsAppliedStacks(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 27, h, 0, 0, 0, time.UTC) }
	decl := &project.Environment{Name: "pr-*", Pattern: true, Ephemeral: true}
	got := summarize("pr-7", decl, ledger.Entries{
		"/a": {Verb: ledger.Applied, Time: at(3)},
		"/b": {Verb: ledger.Destroyed, Time: at(9)}, // destroyed: neither counted nor the last apply
		"/c": {Verb: ledger.Applied, Time: at(5)},
	})
	if got.Name != "pr-7" || !got.Ephemeral || got.Protected || got.Stacks != 2 || got.LastApply == nil || !got.LastApply.Equal(at(5)) {
		t.Fatalf("summarize: got %+v (last apply %v), want pr-7, ephemeral, 2 stacks, last apply %v", got, got.LastApply, at(5))
	}
	if e := summarize("pr-8", decl, ledger.Entries{"/b": {Verb: ledger.Destroyed, Time: at(9)}}); e.Stacks != 0 || e.LastApply != nil {
		t.Fatalf("summarize of a torn-down environment: got %+v", e)
	}
}
