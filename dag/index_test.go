package dag

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestTreeCompare(t *testing.T) {
	in := []string{"/a-b", "/a/b", "/a", "/", "/a/b/c", "/a.b", "/b", "/a/b-c"}
	x, _ := NewIndex(stacksAt(in...))
	var got []string
	for _, i := range x.tree {
		got = append(got, x.stacks[i].Path)
	}
	want := []string{"/", "/a", "/a/b", "/a/b/c", "/a/b-c", "/a-b", "/a.b", "/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree order (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"/", want},
		{"/a", []string{"/a", "/a/b", "/a/b/c", "/a/b-c"}},
		{"/a/b", []string{"/a/b", "/a/b/c"}},
		{"/a/b/c", []string{"/a/b/c"}},
		{"/a-", nil},
		{"/c", nil},
		{"/0", nil},
	} {
		lo, hi := x.subtree(tc.dir)
		var got []string
		for _, i := range x.tree[lo:hi] {
			got = append(got, x.stacks[i].Path)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("subtree(%s) (-want +got):\n%s", tc.dir, diff)
		}
	}
}

func TestSubtreeOfNonStackDir(t *testing.T) {
	x, _ := NewIndex(stacksAt("/infra/net", "/infra/dns", "/infra-x", "/infra/dns/zone", "/z"))
	lo, hi := x.subtree("/infra")
	var got []string
	for _, i := range x.tree[lo:hi] {
		got = append(got, x.stacks[i].Path)
	}
	if diff := cmp.Diff([]string{"/infra/dns", "/infra/dns/zone", "/infra/net"}, got); diff != "" {
		t.Errorf("subtree(/infra) (-want +got):\n%s", diff)
	}
}

func stacksAt(paths ...string) []Stack {
	out := make([]Stack, len(paths))
	for i, p := range paths {
		out[i] = Stack{Path: p}
	}
	return out
}

func TestWarnings(t *testing.T) {
	_, diags := NewIndex([]Stack{
		stack("/a", after("/nope", "/b"), before("tag:missing", "tag:"), wants("../../up")),
		stack("/b", wantedBy("gone")),
	})
	type warning struct {
		Summary, Detail string
		Line            int
	}
	var got []warning
	for _, d := range diags {
		if want := hcl.DiagWarning; d.Summary == "Reference outside the project" {
			want = hcl.DiagError
			if d.Severity != want {
				t.Errorf("%s: severity %v, want an error", d.Summary, d.Severity)
			}
		} else if d.Severity != want {
			t.Errorf("%s: severity %v, want a warning", d.Summary, d.Severity)
		}
		got = append(got, warning{d.Summary, d.Detail, d.Subject.Start.Line})
	}
	want := []warning{
		{"Reference matches no stack", `The after entry "/nope" of stack /a matches no stack, so it orders nothing. Fix the path or remove the entry.`, 2},
		{"Reference matches no stack", `The before entry "tag:missing" of stack /a matches no stack, so it orders nothing. Fix the tag query or remove the entry.`, 3},
		{"Reference matches no stack", `The before entry "tag:" of stack /a matches no stack, so it orders nothing. Fix the tag query or remove the entry.`, 3},
		{"Reference outside the project", `The wants entry "../../up" of stack /a leaves the project root. Reference stacks inside the repository: an absolute path starts at the root, a relative one at the stack.`, 4},
		{"Reference matches no stack", `The wanted_by entry "gone" of stack /b matches no stack, so it selects nothing. Fix the path or remove the entry.`, 5},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestWantsCycles(t *testing.T) {
	_, diags := NewIndex([]Stack{
		stack("/a", wants("/b")),
		stack("/b", wants("/c")),
		stack("/c"),
		stack("/d", wantedBy("/c")),
		stack("/d/e", wants("..")),
	})
	var got []string
	for _, d := range diags {
		if d.Severity != hcl.DiagWarning || d.Summary != "Cycle in wants" {
			t.Errorf("diagnostic %q, severity %v: want a warning", d.Summary, d.Severity)
		}
		got = append(got, d.Detail)
	}
	want := []string{`Selecting any of these stacks selects all of them: /d/e -> /d/e
  /d/e -> /d/e: /d/e has wants = ".." (/d/e/stack.tm:4)
wants and wanted_by only select stacks and never order them, so this is a warning; remove an entry if the cycle is a mistake.`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	_, diags = NewIndex([]Stack{
		stack("/a", wants("/b")),
		stack("/b"),
		stack("/c", wantedBy("/b"), wants("/a")),
	})
	want = []string{`Selecting any of these stacks selects all of them: /a -> /b -> /c -> /a
  /a -> /b: /a has wants = "/b" (/a/stack.tm:4)
  /b -> /c: /c has wanted_by = "/b" (/c/stack.tm:5)
  /c -> /a: /c has wants = "/a" (/c/stack.tm:4)
wants and wanted_by only select stacks and never order them, so this is a warning; remove an entry if the cycle is a mistake.`}
	if len(diags) != 1 {
		t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
	}
	if diff := cmp.Diff(want[0], diags[0].Detail); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSelect(t *testing.T) {
	stacks := []Stack{
		stack("/app", after("/db"), wants("/cfg")),
		stack("/app/sub"),
		stack("/cfg", wants("tag:shared")),
		stack("/db", before("/cache")),
		stack("/cache"),
		stack("/lib", tags("shared")),
		stack("/lib/nested"),
		stack("/mon", wantedBy("/cfg")),
		stack("/web", after("/app/sub")),
		stack("/other"),
	}
	x, diags := NewIndex(stacks)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	for _, tc := range []struct {
		name string
		base []string
		opts SelectOptions
		want []string
	}{
		{"nothing", nil, SelectOptions{}, []string{}},
		{"no wants", []string{"/other"}, SelectOptions{}, []string{"/other"}},
		{"wants closure: wants, tag subtree, wanted_by", []string{"/app"}, SelectOptions{},
			[]string{"/app", "/cfg", "/lib", "/lib/nested", "/mon"}},
		{"wanted_by pulls the wanting stack only", []string{"/mon"}, SelectOptions{}, []string{"/mon"}},
		{"dependents: before, after and nested", []string{"/db"}, SelectOptions{WithDependents: true},
			[]string{"/app", "/app/sub", "/cache", "/cfg", "/db", "/lib", "/lib/nested", "/mon", "/web"}},
		{"dependents of a leaf", []string{"/web"}, SelectOptions{WithDependents: true}, []string{"/web"}},
		{"list: no wants closure", []string{"/app", "/cfg"}, SelectOptions{NoWants: true}, []string{"/app", "/cfg"}},
		{"list: dependents without wants", []string{"/db"}, SelectOptions{WithDependents: true, NoWants: true},
			[]string{"/app", "/app/sub", "/cache", "/db", "/web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := x.Select(tc.base, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := x.Select([]string{"/nope"}, SelectOptions{}); err == nil || err.Error() != "no stack at /nope" {
		t.Errorf("Select(/nope) error = %v, want \"no stack at /nope\"", err)
	}
}
