package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/parity"
)

// TestRepoList checks the committed list parses (names and full commits
// only) and that a malformed line is refused with its line number.
func TestRepoList(t *testing.T) {
	repos, err := readRepoList("repos.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) < 13 {
		t.Errorf("repos.txt lists %d repositories, want at least 13", len(repos))
	}
	for _, bad := range []string{
		"owner/name abc123",                     // short commit
		"owner name " + strings.Repeat("a", 40), // no slash, three fields
		"../x " + strings.Repeat("a", 40),       // a path, not a name
		"owner/a/b " + strings.Repeat("a", 40),
	} {
		file := filepath.Join(t.TempDir(), "list.txt")
		if err := os.WriteFile(file, []byte("# comment\n\n"+bad+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRepoList(file); err == nil || !strings.Contains(err.Error(), "list.txt:3:") {
			t.Errorf("%q: err = %v, want one naming line 3", bad, err)
		}
	}
}

// TestKnownDifference: only nested stacks moving in a --changed
// --run-order answer is Terramate's lost parent edge.
func TestKnownDifference(t *testing.T) {
	changedOrder := parity.Query{Args: []string{"list", "--changed", "--run-order"}}
	tests := []struct {
		name     string
		q        parity.Query
		tm, tmci string
		want     bool
	}{
		{"child before parent", changedOrder, "a/b\na\n", "a\na/b\n", true},
		{"nested moved after", changedOrder, "a\nb\na/x\nb/y\nc\n", "a\nb\nc\na/x\nb/y\n", true},
		{"outermost reordered", changedOrder, "a\nb\n", "b\na\n", false},
		{"other stacks", changedOrder, "a\na/b\n", "a\n", false},
		{"not --changed", parity.Query{Args: []string{"list", "--run-order"}}, "a/b\na\n", "a\na/b\n", false},
		{"root stack parents all", changedOrder, ".\nx\nx/y\n", ".\nx/y\nx\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, knownDifference(tt.q, tt.tm, tt.tmci)); diff != "" {
				t.Error(diff)
			}
		})
	}
}
