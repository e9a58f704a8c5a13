package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

// writePart writes what one fan-out job keeps of <work>/<env>: its
// reports and a log per stack holding a plan as terraform prints it.
func writePart(t *testing.T, r *Report, plan string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := r.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Stacks {
		rel, err := stackLog(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		log := "Initializing the backend...\n\nTerraform will perform the following actions:\n\n" + plan +
			"\nPlan: 1 to add, 0 to change, 0 to destroy.\n\n─────────\n\nSaved the plan to: x\n"
		if s.Status == StatusFailed {
			log = "Initializing...\n\nError: Invalid reference\n\n  on main.tf line 17:\n  17:   x = foo.bar\n"
		}
		path := filepath.Join(dir, "logs", rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// part is a plan report of the stacks /g<group>/s<i>, i < n.
func part(group, n int, exit int) *Report {
	r := &Report{Command: "plan", Environment: "pr-7", StartedAt: *at(group), ExitCode: exit}
	for i := range n {
		r.Stacks = append(r.Stacks, StackReport{Path: fmt.Sprintf("/g%d/s%d", group, i), Status: StatusSucceeded,
			Plan: &PlanReport{Changes: true, Summary: tf.Summary{Create: 1}}})
	}
	r.Finish(*at(group + 10))
	return r
}

// openBlocks returns the code fence left open at the end of md (or "")
// and the <details> opened but not closed.
func openBlocks(md string) (fence string, details int) {
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`~") == "" {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:strings.IndexFunc(trimmed+"x", func(r rune) bool { return r != '`' && r != '~' })]
		default:
			details += strings.Count(line, "<details") - strings.Count(line, "</details>")
		}
	}
	return fence, details
}

func TestMergeFanOutParts(t *testing.T) {
	plan := bigPlan(6 << 10)
	a, b, c := part(1, 4, 2), part(2, 3, 0), part(3, 3, 1)
	c.Stacks[2].Status, c.Stacks[2].Plan, c.Stacks[2].Error = StatusFailed, nil, "terraform plan: exit status 1"
	c.Finish(*at(30))
	var parts []*Report
	for _, r := range []*Report{a, b, c} {
		p, err := ReadPart(writePart(t, r, plan))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	m, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Stacks: 10, Succeeded: 9, Failed: 1, WithChanges: 9, Create: 9}
	if diff := cmp.Diff(want, m.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if m.ExitCode != 1 || !m.StartedAt.Equal(*at(1)) || !m.EndedAt.Equal(*at(30)) {
		t.Errorf("exit %d, %v to %v: want 1, the first start and the last end", m.ExitCode, m.StartedAt, m.EndedAt)
	}
	comment := string(Comment(m))
	if len(comment) > CommentLimit {
		t.Errorf("comment of %d bytes, over %d", len(comment), CommentLimit)
	}
	if n := strings.Count(comment, "### tmci plan"); n != 1 {
		t.Errorf("%d headings, want 1", n)
	}
	if fence, details := openBlocks(comment); fence != "" || details != 0 {
		t.Errorf("the comment ends inside a %q fence with %d <details> open:\n%s", fence, details, tail([]byte(comment)))
	}
	// The excerpts and the failure come back from the parts' logs.
	if !strings.Contains(comment, "terraform_data.r0 ") {
		t.Error("no plan excerpt in the merged comment")
	}
	if !strings.Contains(string(Summary(m)), "on main.tf line 17") {
		t.Error("the failed stack's log tail is not in the merged summary")
	}
}

func TestMergeRefuses(t *testing.T) {
	other := part(2, 1, 0)
	other.Command = "apply"
	dup := part(1, 1, 0)
	for name, tc := range map[string]struct {
		parts []*Report
		want  string
	}{
		"none":                {nil, "no parts"},
		"another command":     {[]*Report{part(1, 1, 0), other}, "merge the parts of one run"},
		"a stack in two jobs": {[]*Report{part(1, 2, 0), dup}, "stack /g1/s0 is in part 1 and part 2"},
	} {
		if _, err := Merge(tc.parts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// A part is another job's artifact: a stack path that would read a log
// outside it is refused, and a report of another schema version too.
func TestReadPartRefuses(t *testing.T) {
	for _, path := range []string{"/../../etc/passwd", "relative", "/a/../../b", "/a//b"} {
		r := part(1, 1, 0)
		r.Stacks[0].Path = path
		dir := t.TempDir()
		if err := r.WriteJSON(filepath.Join(dir, "report.json")); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPart(dir); err == nil || !strings.Contains(err.Error(), "is not a project path") {
			t.Errorf("%q: %v", path, err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"schema_version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPart(dir); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("schema 99: %v", err)
	}
	if _, err := ReadPart(t.TempDir()); err == nil {
		t.Error("a directory without report.json was read")
	}
}
