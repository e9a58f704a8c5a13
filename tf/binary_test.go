package tf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmci/tmci/tf"
)

// fakeBins creates executable files named names in a new directory.
func fakeBins(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinary(t *testing.T) {
	t.Parallel()
	both := fakeBins(t, "terraform", "tofu")
	onlyTofu := fakeBins(t, "tofu")
	custom := fakeBins(t, "tf-1.5")
	notExec := t.TempDir()
	if err := os.WriteFile(filepath.Join(notExec, "terraform"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "terraform first", env: map[string]string{"PATH": onlyTofu + ":" + both}, want: filepath.Join(both, "terraform")},
		{name: "tofu when no terraform", env: map[string]string{"PATH": notExec + ":" + onlyTofu}, want: filepath.Join(onlyTofu, "tofu")},
		{name: "env names a file", env: map[string]string{"PATH": both, "TMCI_TF_BIN": filepath.Join(custom, "tf-1.5")}, want: filepath.Join(custom, "tf-1.5")},
		{name: "env names a command", env: map[string]string{"PATH": both, "TMCI_TF_BIN": "tofu"}, want: filepath.Join(both, "tofu")},
		{name: "flag beats env", flag: "tofu", env: map[string]string{"PATH": both, "TMCI_TF_BIN": "terraform"}, want: filepath.Join(both, "tofu")},
		{name: "flag not found", flag: "terraform-9", env: map[string]string{"PATH": both}, wantErr: "--tf-bin=terraform-9: terraform-9 not found on PATH"},
		{name: "env not executable", env: map[string]string{"TMCI_TF_BIN": filepath.Join(notExec, "terraform")},
			wantErr: "TMCI_TF_BIN=" + filepath.Join(notExec, "terraform") + ": run " + filepath.Join(notExec, "terraform") + ": not an executable file"},
		{name: "none", env: map[string]string{"PATH": notExec}, wantErr: "neither terraform nor tofu is on PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tf.FindBinary(tt.flag, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestWriteBackendFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "work", "pr-1", "stack.tfbackend")
	for _, content := range []string{"path = \"a\"\n", "path = \"b\"\n"} {
		if err := tf.WriteBackendFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("content %q, %v; want %q", got, err, content)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("mode %o, want 600", mode)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only the backend file", entries, err)
	}
}

// TestIdentify asks the real binaries their name and version, and refuses
// what is neither.
func TestIdentify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, want string }{{"terraform", "1.5.7"}, {"tofu", "1.6.3"}} {
		bin := requireBinary(t, c.name)
		name, v, err := tf.Identify(t.Context(), bin, append(os.Environ(), "CHECKPOINT_DISABLE=1"))
		if err != nil || name != c.name || v.String() != c.want {
			t.Errorf("%s: got %s %v, %v; want %s %s", bin, name, v, err, c.name, c.want)
		}
	}
	if name, _, err := tf.Identify(t.Context(), "/bin/echo", nil); err == nil {
		t.Errorf("echo identified as %s", name)
	}
}
