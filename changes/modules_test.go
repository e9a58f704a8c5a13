package changes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
)

func TestReadBuf(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 15, 16, 17, 100} {
		want := bytes.Repeat([]byte("x"), size)
		name := filepath.Join(dir, "f")
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := repofile.ReadBuf(name, make([]byte, 16), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: read %d bytes", size, len(got))
		}
	}
	if _, err := repofile.ReadBuf(filepath.Join(dir, "missing"), make([]byte, 16), 1<<20); !os.IsNotExist(err) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestLocalSourcePattern(t *testing.T) {
	src := []byte(`module "a" { source = "./a" }
module "b" { source = "../../modules/b" }
module "r" { source = "terraform-aws-modules/vpc/aws" }
# module "c" { source = "../c" }
locals { p = ".hidden/x" }
`)
	var got []string
	for _, m := range localSourcePattern.FindAllSubmatch(src, -1) {
		got = append(got, string(m[1]))
	}
	// The comment is a false positive on purpose: the exact parse drops it.
	want := []string{"./a", "../../modules/b", "../c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestModuleDirOutside reads a local module directory that is a symbolic
// link out of the repository: tmci neither reads its files nor follows
// it, and warns.
func TestModuleDirOutside(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "main.tf"), []byte("module \"x\" {\n  source = \"./y\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := readModules(p, "/lib")
	if len(got.refs) != 0 {
		t.Errorf("module sources read outside the repository: %v", got.refs)
	}
	if len(got.diags) != 1 || got.diags[0].Summary != "Module source outside the project" || got.diags[0].Severity != hcl.DiagWarning {
		t.Errorf("diagnostics = %v, want one warning", got.diags)
	}
}
