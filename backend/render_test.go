package backend

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backend.prod.tfbackend")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new\n" {
		t.Fatalf("content = %q, %v; want \"new\\n\"", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o, want 600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
	// A directory that cannot be written to fails cleanly.
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("writing into a missing directory: want an error")
	}
}

// TestTFBackendObjectAttributes checks that a nested group terraform
// declares as an object attribute is written name = { ... }, which tofu
// 1.6.3 requires ("Blocks of type "endpoints" are not expected here"),
// while remote's workspaces stays a block, as its schema has it.
func TestTFBackendObjectAttributes(t *testing.T) {
	for _, tt := range []struct{ typ, body, want string }{
		{"s3", "bucket = \"b\"\nkey = \"k\"\nsecret_key = \"s\"\nendpoints {\ns3 = \"http://127.0.0.1:9000\"\n}\nassume_role {\nrole_arn = \"arn:r\"\n}",
			"bucket     = \"b\"\nkey        = \"k\"\nsecret_key = \"<redacted>\"\nassume_role = {\n  role_arn = \"arn:r\"\n}\nendpoints = {\n  s3 = \"http://127.0.0.1:9000\"\n}\n"},
		{"remote", "organization = \"acme\"\nworkspaces {\nname = \"x\"\n}",
			"organization = \"acme\"\nworkspaces {\n  name = \"x\"\n}\n"},
	} {
		got := string(resolveType(t, tt.typ, tt.body).TFBackend("", false))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.typ, diff)
		}
	}
}
