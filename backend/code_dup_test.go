package backend

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadCodeDuplicateBackend: terraform refuses a module with two
// backend or cloud blocks, so ReadCode keeps the first and reports every
// further one at its own block, whether in the same file or another;
// an override file's block replaces the primary one without a problem.
func TestReadCodeDuplicateBackend(t *testing.T) {
	type diag struct {
		Summary, File string
		Line          int
	}
	for _, tc := range []struct {
		name     string
		files    map[string]string
		wantType string
		want     []diag
	}{
		{
			name:     "one backend",
			files:    map[string]string{"main.tf": "terraform {\n  backend \"pg\" {}\n}\n"},
			wantType: "pg",
		},
		{
			name:     "two in one block",
			files:    map[string]string{"main.tf": "terraform {\n  backend \"pg\" {}\n  backend \"s3\" {}\n}\n"},
			wantType: "pg",
			want:     []diag{{"Duplicate backend block", "main.tf", 3}},
		},
		{
			name: "second file",
			files: map[string]string{
				"a.tf": "terraform {\n  backend \"local\" {}\n}\n",
				"b.tf": "\nterraform {\n  backend \"pg\" {}\n}\n",
			},
			wantType: "local",
			want:     []diag{{"Duplicate backend block", "b.tf", 3}},
		},
		{
			name:  "cloud then backend",
			files: map[string]string{"main.tf": "terraform {\n  cloud {}\n}\nterraform {\n  backend \"pg\" {}\n}\n"},
			want:  []diag{{"Duplicate backend block", "main.tf", 5}},
		},
		{
			// Terraform merges an override file's block over the primary one.
			name: "override file",
			files: map[string]string{
				"main.tf":     "terraform {\n  backend \"local\" {}\n}\n",
				"override.tf": "terraform {\n  backend \"pg\" {}\n}\n",
			},
			wantType: "pg",
		},
		{
			name: "override file sorting first",
			files: map[string]string{
				"a_override.tf": "terraform {\n  backend \"pg\" {}\n}\n",
				"b.tf":          "terraform {\n  backend \"local\" {}\n}\n",
			},
			wantType: "pg",
		},
		{
			name:     "json",
			files:    map[string]string{"main.tf.json": `{"terraform":[{"backend":{"s3":{}}},{"backend":{"gcs":{}}}]}`},
			wantType: "s3",
			want:     []diag{{"Duplicate backend block", "main.tf.json", 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, diags := ReadCode(dir, filepath.Base)
			if code.Type != tc.wantType {
				t.Errorf("backend type %q, want %q", code.Type, tc.wantType)
			}
			var got []diag
			for _, d := range diags {
				if d.Subject == nil {
					t.Fatalf("diagnostic without a range: %v", d)
				}
				got = append(got, diag{d.Summary, d.Subject.Filename, d.Subject.Start.Line})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
