package tf_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/tmci/tmci/tf"
)

// missing skips the test, or fails it when TMCI_TEST_REQUIRE_ALL=1 (CI),
// where nothing may be skipped.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("TMCI_TEST_REQUIRE_ALL") == "1" {
		t.Fatalf(format+" (TMCI_TEST_REQUIRE_ALL=1 forbids skipping)", args...)
	}
	t.Skipf(format, args...)
}

// binaries are the real binaries the integration tests run: terraform
// 1.5.7 and OpenTofu 1.6.3 in CI.
var binaries = []string{"terraform", "tofu"}

// requireBinary returns the path of name on PATH.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s is not on PATH: install it (see .ci/run) to run this test", name)
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
	admin := os.Getenv("TMCI_TEST_PG")
	if admin == "" {
		missing(t, "TMCI_TEST_PG is not set: give it a PostgreSQL connection string to run this test")
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tmci_tf_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func openDB(t testing.TB, conn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

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
