package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/changes"
	"github.com/tmci/tmci/project"
)

// A stack the selection adds without a change (wants, --with-dependents)
// is printed with no reasons instead of breaking --why and --json.
func TestPrintChangedSelectedWithoutChange(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, dir := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "stack.tm"), []byte("stack {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	a, b := p.Stack("/a"), p.Stack("/b")
	c := &changedFlags{
		diff: &changes.Diff{Base: changes.Base{Commit: "0123456789abcdef0123456789abcdef01234567", Rev: "HEAD^", Reason: "test"}, Head: "89abcdef0123456789abcdef0123456789abcdef"},
		result: &changes.Result{Changed: []*changes.Changed{
			{Stack: a, Reasons: []changes.Reason{{Kind: changes.ReasonFile, File: "/a/main.tf", Origin: "committed"}}},
		}},
	}
	var out bytes.Buffer
	app := &app{stdout: &out, stderr: &out, wd: root}
	if code := app.printChanged(c, p, []*project.Stack{a, b}, false); code != exitOK {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	want := "a\n    changed file /a/main.tf\nb\n    not changed: selected along with a changed stack\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("--why (-want +got):\n%s", diff)
	}
	out.Reset()
	if code := app.printChanged(c, p, []*project.Stack{a, b}, true); code != exitOK {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !bytes.Contains(out.Bytes(), []byte(`"path": "/b",
      "id": "",
      "reasons": []`)) {
		t.Errorf("--json does not list /b with no reasons:\n%s", out.String())
	}
}
