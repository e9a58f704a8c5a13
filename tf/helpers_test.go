package tf_test

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/tf"
)

// binaries are the real binaries the integration tests run: terraform
// 1.5.7 and OpenTofu 1.6.3 in CI.
var binaries = []string{"terraform", "tofu"}

// requireBinary returns the path of name on PATH.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, "%s is not on PATH: install it (see .ci/run) to run this test", name)
	}
	return bin
}

// newRunner returns a Runner for bin with a hermetic CLI configuration:
// no user config, no version check over the network.
func newRunner(t testing.TB, bin string, extraEnv ...string) *tf.Runner {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "cli.tfrc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1")
	return &tf.Runner{Bin: bin, Env: append(env, extraEnv...)}
}

// newDatabase creates a PostgreSQL database for one test, dropped at the
// end, and returns its connection string; its advisory locks are then the
// test's alone.
func newDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabase(t, "tmci_tf_")
}

func openDB(t testing.TB, conn string) *sql.DB { return pgtest.Open(t, conn) }

// writeFiles writes files (relative path to content) below dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listFiles returns the paths of the regular files below dir, relative and
// sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
