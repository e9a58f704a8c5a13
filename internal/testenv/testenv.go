// Package testenv is what tests need from the machine they run on: the
// one policy for a missing tool or service, and git with a hermetic
// configuration.
//
// The policy: a test that needs something absent (terraform, tofu, git,
// PostgreSQL, root) skips with a message saying how to provide it, except
// under TMCI_TEST_REQUIRE_ALL=1 (CI), where nothing may be skipped and the
// test fails with the same message. A missing privilege (root, the right
// to mount) is the one exception: see Unprivileged.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireAllEnv names the variable that forbids skipping.
const RequireAllEnv = "TMCI_TEST_REQUIRE_ALL"

// RequireAll reports whether nothing may be skipped.
func RequireAll() bool { return os.Getenv(RequireAllEnv) == "1" }

// Missing skips t with the message, or fails it under RequireAll. It
// does not return.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if RequireAll() {
		t.Fatal(msg + " (" + RequireAllEnv + "=1 forbids skipping)")
	}
	t.Skip(msg)
}

// Unprivileged skips t because the test needs a privilege of the machine
// (root, the right to mount) rather than a tool or service, and it does
// not return. It is the one exception to the policy, deliberately: CI
// runs the suite as an ordinary user or in a container without
// CAP_SYS_ADMIN, where no setting can grant the privilege, so
// TMCI_TEST_REQUIRE_ALL cannot demand it. The message must say how to run
// the test (as root, with the right to mount).
func Unprivileged(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Skip(fmt.Sprintf(format, args...) + " (a privilege, not a tool: skipped even under " + RequireAllEnv + "=1)")
}

// Git runs git with args in dir and returns its output, trimmed; it
// fails t when git fails. The configuration is hermetic: no system or
// user configuration (HOME is dir), a fixed identity and no signing, so
// a developer's settings cannot change what a test builds.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=tmci", "GIT_AUTHOR_EMAIL=tmci@example.com",
		"GIT_COMMITTER_NAME=tmci", "GIT_COMMITTER_EMAIL=tmci@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// WriteFiles writes files, contents by slash-separated path, below root,
// creating their directories; it fails t on any error.
func WriteFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
