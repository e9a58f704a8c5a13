package changes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 15, 16, 17, 100} {
		want := bytes.Repeat([]byte("x"), size)
		name := filepath.Join(dir, "f")
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readFile(name, make([]byte, 16))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: read %d bytes", size, len(got))
		}
	}
	if _, err := readFile(filepath.Join(dir, "missing"), make([]byte, 16)); !os.IsNotExist(err) {
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
