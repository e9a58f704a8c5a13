package tf

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestInitStamp: the stamp changes with each input init depends on, and
// not with what init ignores; initCurrent accepts only the stamp written,
// with the lock file's providers in the data directory.
func TestInitStamp(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "tf")
	home := filepath.Join(dir, "home")
	writeTree(t, dir, map[string]string{
		"bin/tf":            "#!/bin/sh\n",
		"s/main.tf":         `resource "terraform_data" "x" {}`,
		"backend.hcl":       `path = "a"`,
		"home/.terraformrc": "# none\n",
	})
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	s := Stack{Dir: filepath.Join(dir, "s"), DataDir: filepath.Join(dir, "data"), BackendFile: filepath.Join(dir, "backend.hcl")}
	r := &Runner{Bin: bin, Env: []string{"HOME=" + home, "TF_VAR_x=1"}}
	args := []string{"init", "-input=false"}
	stamp := func() string {
		t.Helper()
		cfg, err := readStackConfig(dir, s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := r.initStamp(s, args, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st0 := stamp()
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeStamp(s, st0); err != nil {
		t.Fatal(err)
	}
	cfg, _ := readStackConfig(dir, s.Dir)
	if !initCurrent(s, st0, cfg) {
		t.Fatal("the stamp written is not current")
	}
	if initCurrent(s, st0+"0", cfg) {
		t.Error("another stamp is current")
	}

	r.Env = append(r.Env, "TF_LOG=trace", "TF_CLI_ARGS_plan=-x", "PATH_UNRELATED=1")
	if stamp() != st0 {
		t.Error("TF_LOG, another command's arguments or an unrelated variable changed the stamp")
	}
	changes := []struct {
		name   string
		change func()
	}{
		{"code", func() { writeTree(t, dir, map[string]string{"s/main.tf": `resource "terraform_data" "y" {}`}) }},
		{"lock file", func() { writeTree(t, dir, map[string]string{"s/.terraform.lock.hcl": "# locked\n"}) }},
		{"backend file", func() { writeTree(t, dir, map[string]string{"backend.hcl": `path = "b"`}) }},
		{"CLI configuration", func() { writeTree(t, dir, map[string]string{"home/.terraformrc": "# other\n"}) }},
		{"a TF_ variable", func() { r.Env = append(r.Env, "TF_VAR_x=2") }},
		{"init's arguments", func() { args = append(args, "-upgrade") }},
		{"the binary", func() {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(bin, later, later); err != nil {
				t.Fatal(err)
			}
		}},
		{"the backend's record", func() { writeTree(t, s.DataDir, map[string]string{"terraform.tfstate": "{}"}) }},
		{"the module manifest", func() { writeTree(t, s.DataDir, map[string]string{"modules/modules.json": "{}"}) }},
	}
	prev := st0
	for _, c := range changes {
		c.change()
		if st := stamp(); st == prev {
			t.Errorf("a change of %s left the stamp unchanged", c.name)
		} else {
			prev = st
		}
	}
}

// TestInitCurrentNeedsProviders: a current stamp does not do when a
// provider of the lock file is missing from the data directory, or the
// lock file is gone while the code needs a provider.
func TestInitCurrentNeedsProviders(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"s/main.tf":             `resource "fixture_counter" "c" {}`,
		"s/.terraform.lock.hcl": `provider "tmci.test/tmci/fixture" { version = "1.0.0" }`,
	})
	s := Stack{Dir: filepath.Join(dir, "s"), DataDir: filepath.Join(dir, "data")}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeStamp(s, "abc"); err != nil {
		t.Fatal(err)
	}
	cfg, err := readStackConfig(dir, s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if initCurrent(s, "abc", cfg) {
		t.Error("current without the provider in the data directory")
	}
	entry := filepath.Join(s.DataDir, "providers", "tmci.test", "tmci", "fixture", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if !initCurrent(s, "abc", cfg) {
		t.Error("not current with the provider in place")
	}
	if err := os.Remove(filepath.Join(s.Dir, lockFileName)); err != nil {
		t.Fatal(err)
	}
	if cfg, err = readStackConfig(dir, s.Dir); err != nil {
		t.Fatal(err)
	}
	if initCurrent(s, "abc", cfg) {
		t.Error("current without a lock file, for code that needs a provider")
	}
}
