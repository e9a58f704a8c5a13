package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/printable"
)

// TestReadCode reads a stack's backend block as terraform merges its
// files: one block among the primary files, replaced whole by the last
// override file's.
func TestReadCode(t *testing.T) {
	type want struct {
		Type   string
		Cloud  bool
		Attrs  map[string]string
		Errors []string // "file:line: summary"
	}
	for _, c := range []struct {
		name  string
		files string
		want  want
	}{{
		name: "one block",
		files: `-- main.tf --
terraform {
  backend "s3" {
    key    = "app.tfstate"
    region = var.region
  }
}
`,
		want: want{Type: "s3", Attrs: map[string]string{"key": "app.tfstate"}},
	}, {
		name: "override replaces the block whole",
		files: `-- main.tf --
terraform {
  backend "s3" {
    key = "app.tfstate"
  }
}
-- a_override.tf --
terraform {
  backend "local" {
    path = "a.tfstate"
  }
}
-- override.tf.json --
{"terraform": {"backend": {"local": {"workspace_dir": "w"}}}}
`,
		want: want{Type: "local", Attrs: map[string]string{"workspace_dir": "w"}},
	}, {
		name: "override cloud over backend",
		files: `-- main.tf --
terraform {
  backend "local" {}
}
-- cloud_override.tofu --
terraform {
  cloud {}
}
`,
		want: want{Cloud: true, Attrs: map[string]string{}},
	}, {
		name: "second block in another file",
		files: `-- a.tf --
terraform {
  backend "local" {}
}
-- b.tf.json --
{"terraform": {"backend": {"s3": {}}}}
`,
		want: want{Type: "local", Attrs: map[string]string{}, Errors: []string{"b.tf.json:1: Duplicate backend block"}},
	}, {
		name: "a file that does not parse",
		files: `-- main.tf --
terraform {
  backend "local" {}
}
-- broken.tf --
resource "terraform_data" "x" {
  input =
}
-- notes.tf --
this file never names the t-word, so it is not read
`,
		want: want{Type: "local", Attrs: map[string]string{}, Errors: []string{"broken.tf:2: Invalid expression"}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeArchive(t, txtar.Parse([]byte(c.files)))
			code, diags := ReadCode(dir, func(fsPath string) string { return fsPath[len(dir)+1:] })
			got := want{Type: code.Type, Cloud: code.Cloud, Attrs: map[string]string{}}
			for n, v := range code.Attrs {
				got.Attrs[n], _ = primitiveString(v)
			}
			for _, d := range diags {
				got.Errors = append(got.Errors, fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadCodeUnreadable: a file the stack cannot read (here a link to a
// device) is a problem of the stack at that file, never a hang; its name
// reaches the diagnostic as one inert line.
func TestReadCodeUnreadable(t *testing.T) {
	dir := writeArchive(t, txtar.Parse([]byte("-- main.tf --\nterraform {\n  backend \"local\" {}\n}\n")))
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero\n::error::x.tf")); err != nil {
		t.Fatal(err)
	}
	code, diags := ReadCode(dir, func(fsPath string) string { return printable.String(fsPath[len(dir)+1:]) })
	if code.Type != "local" || len(diags) != 1 {
		t.Fatalf("type %q, diagnostics %v; want local and one problem", code.Type, diags)
	}
	d := diags[0]
	if d.Summary != "Unreadable Terraform file" || d.Subject == nil || d.Subject.Filename != `zero\n::error::x.tf` || d.Subject.Start.Line != 1 || strings.ContainsAny(d.Detail, "\n\x1b") {
		t.Errorf("diagnostic %+v (subject %+v)", d, d.Subject)
	}
}
