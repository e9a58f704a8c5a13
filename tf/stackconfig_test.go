package tf

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadStackConfig: the providers a stack's code needs, through local
// modules, and the cases that must be doubts (init then runs alone).
func TestReadStackConfig(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		providers []string
		remote    bool
		doubt     bool
	}{
		{
			name:  "terraform_data needs no provider",
			files: map[string]string{"s/main.tf": `resource "terraform_data" "x" {}`},
		},
		{
			name: "required, implied and aliased",
			files: map[string]string{"s/main.tf": `
terraform {
  required_providers {
    fixture = { source = "tmci.test/tmci/fixture", version = "1.0.0" }
    aws     = { source = "hashicorp/aws" }
    legacy  = "~> 1.0"
  }
}
resource "random_id" "x" {}
data "fixture_build" "b" {}
resource "null_resource" "n" { provider = other.west }
provider "google" {}
`},
			providers: []string{"hashicorp/aws", "hashicorp/google", "hashicorp/legacy", "hashicorp/other", "hashicorp/random", "tmci.test/tmci/fixture"},
		},
		{
			name: "local modules, followed transitively, JSON too",
			files: map[string]string{
				"s/main.tf":          `module "a" { source = "../mods/a" }`,
				"mods/a/a.tf":        `module "b" { source = "./b" }`,
				"mods/a/b/b.tf.json": `{"resource": {"fixture_counter": {"c": {"name": "x", "value": 1}}}}`,
				"mods/a/b/.x.tf":     `this is ignored: a hidden file`,
			},
			providers: []string{"hashicorp/fixture"},
		},
		{
			name:   "a remote module",
			files:  map[string]string{"s/main.tf": `module "a" { source = "acme/thing/aws" }`},
			remote: true,
		},
		{name: "a check block", files: map[string]string{"s/main.tf": `check "c" {}`}, doubt: true},
		{name: "a file that does not parse", files: map[string]string{"s/main.tf": `resource "x" {`}, doubt: true},
		{name: "a computed source", files: map[string]string{"s/main.tf": `terraform {
  required_providers {
    x = { source = var.src }
  }
}`}, doubt: true},
		{name: "deeply nested JSON", files: map[string]string{"s/main.tf.json": `{"locals": {"a": ` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + `}}`}, doubt: true},
		{name: "a test file", files: map[string]string{"s/main.tf": `resource "terraform_data" "x" {}`, "s/x.tftest.hcl": `run "r" {}`}, doubt: true},
		{name: "a test file in tests", files: map[string]string{"s/main.tf": `resource "terraform_data" "x" {}`, "s/tests/x.tofutest.hcl": `run "r" {}`}, doubt: true},
		{name: "a missing module", files: map[string]string{"s/main.tf": `module "a" { source = "./nope" }`}, doubt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.files)
			c, err := readStackConfig(root, filepath.Join(root, "s"))
			if tt.doubt {
				if err == nil {
					t.Fatalf("no doubt, want one; providers %v", sortedKeys(c.providers))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.providers, sortedKeys(c.providers), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("providers (-want +got):\n%s", diff)
			}
			if c.remoteModules != tt.remote {
				t.Errorf("remote modules %v, want %v", c.remoteModules, tt.remote)
			}
		})
	}
}

// TestReadStackConfigSymlinkOut: a module reached through a symbolic link
// out of the repository is a doubt, never read.
func TestReadStackConfigSymlinkOut(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"m/main.tf": `resource "terraform_data" "x" {}`})
	root := t.TempDir()
	writeTree(t, root, map[string]string{"s/main.tf": `module "a" { source = "./m" }`})
	if err := os.Symlink(filepath.Join(outside, "m"), filepath.Join(root, "s", "m")); err != nil {
		t.Fatal(err)
	}
	if _, err := readStackConfig(root, filepath.Join(root, "s")); err == nil {
		t.Fatal("a module outside the repository was read")
	}
}

// TestReadStackConfigDigest: the digest changes with any Terraform file
// of the stack or its modules and with the lock file, not with others.
func TestReadStackConfigDigest(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"s/main.tf":   `module "a" { source = "../m" }`,
		"m/main.tf":   `resource "terraform_data" "x" {}`,
		"s/README.md": "notes",
	})
	digest := func() string {
		c, err := readStackConfig(root, filepath.Join(root, "s"))
		if err != nil {
			t.Fatal(err)
		}
		return c.digest
	}
	d0 := digest()
	writeTree(t, root, map[string]string{"s/README.md": "other notes", "s/#x.tf#": "emacs", "s/y.tf~": "vim"})
	if digest() != d0 {
		t.Error("a file terraform does not read changed the digest")
	}
	for _, change := range []map[string]string{
		{"m/main.tf": `resource "terraform_data" "y" {}`},
		{"s/.terraform.lock.hcl": `# locked`},
		{"s/extra.tofu": `locals {}`},
		// terraform reads a name that starts with "#" unless it also
		// ends with "#".
		{"s/#x.tf": `locals {}`},
	} {
		writeTree(t, root, change)
		d := digest()
		if d == d0 {
			t.Errorf("%v left the digest unchanged", change)
		}
		d0 = d
	}
}

// TestReadLockFile reads providers, versions and hashes, and refuses a
// lock file whose addresses or versions could leave the cache directory.
func TestReadLockFile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{lockFileName: `
provider "tmci.test/tmci/Fixture" {
  version     = "1.0.0"
  constraints = "1.0.0"
  hashes = [
    "h1:abc=",
    "zh:def",
  ]
}
`})
	readLockFile := func(dir string) ([]lockedProvider, error) {
		name := filepath.Join(dir, lockFileName)
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return parseLockFile(src, name)
	}
	got, err := readLockFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []lockedProvider{{addr: "tmci.test/tmci/fixture", version: "1.0.0", hashes: []string{"h1:abc=", "zh:def"}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(lockedProvider{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`provider "../../x" { version = "1" }`,
		`provider "a/b/c" { version = "../1" }`,
		`provider "a/b/c" { version = var.v }`,
		`provider "a/b/c" {}`,
	} {
		writeTree(t, dir, map[string]string{lockFileName: bad})
		if _, err := readLockFile(dir); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestInitEnv keeps what changes init and drops what does not.
func TestInitEnv(t *testing.T) {
	got := initEnv([]string{
		"TF_PLUGIN_CACHE_DIR=/a", "TF_LOG=debug", "TF_CLI_ARGS_plan=-x", "TF_CLI_ARGS_init=-y",
		"HOME=/h", "GITHUB_STEP_SUMMARY=/s", "TF_PLUGIN_CACHE_DIR=/b", "TOFU_X=1",
	})
	want := []string{"HOME=/h", "TF_CLI_ARGS_init=-y", "TF_PLUGIN_CACHE_DIR=/b", "TOFU_X=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPluginCacheDir: TF_PLUGIN_CACHE_DIR, else the CLI configuration's
// plugin_cache_dir with variables expanded, else none.
func TestPluginCacheDir(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"cli.tfrc":          "plugin_cache_dir = \"$CACHE_ROOT/plugins\"\n",
		"empty.tfrc":        "",
		"home/.tofurc":      "plugin_cache_dir = \"/from/tofurc\"\n",
		"home/.terraformrc": "# no cache here\n",
	})
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"the variable wins", []string{"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc"), "TF_PLUGIN_CACHE_DIR=/v"}, "/v"},
		{"an empty variable set last leaves the CLI configuration's", []string{"TF_PLUGIN_CACHE_DIR=/v", "TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc"), "CACHE_ROOT=/r", "TF_PLUGIN_CACHE_DIR="}, "/r/plugins"},
		{"the CLI configuration, expanded", []string{"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc"), "CACHE_ROOT=/r"}, "/r/plugins"},
		{"a configuration without a cache", []string{"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "empty.tfrc"), "HOME=" + filepath.Join(dir, "home")}, ""},
		{"the home directory's files", []string{"HOME=" + filepath.Join(dir, "home")}, "/from/tofurc"},
		{"nothing", []string{"HOME=" + filepath.Join(dir, "nohome")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{Env: tt.env}
			if got := r.pluginCacheDir(Stack{}); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadStackConfigHostileFiles: a FIFO, a device, an oversized file or
// a link out of the repository among a stack's Terraform files or as its
// lock file is a doubt, at once, never a hang or a read without end.
func TestReadStackConfigHostileFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, s string) error
	}{
		{"a FIFO .tf file", func(t *testing.T, s string) error { return syscall.Mkfifo(filepath.Join(s, "fifo.tf"), 0o644) }},
		{"a FIFO lock file", func(t *testing.T, s string) error { return syscall.Mkfifo(filepath.Join(s, lockFileName), 0o644) }},
		{"a .tf file linked out of the repository", func(t *testing.T, s string) error {
			out := filepath.Join(t.TempDir(), "out.tf")
			writeTree(t, filepath.Dir(out), map[string]string{"out.tf": `locals {}`})
			return os.Symlink(out, filepath.Join(s, "out.tf"))
		}},
		{"a lock file linked out of the repository", func(t *testing.T, s string) error {
			out := filepath.Join(t.TempDir(), lockFileName)
			writeTree(t, filepath.Dir(out), map[string]string{lockFileName: "# locked\n"})
			return os.Symlink(out, filepath.Join(s, lockFileName))
		}},
		{"a lock file linked to /dev/zero", func(t *testing.T, s string) error { return os.Symlink("/dev/zero", filepath.Join(s, lockFileName)) }},
		{"an oversized .tf file", func(t *testing.T, s string) error {
			return os.Truncate(filepath.Join(s, "main.tf"), maxConfigFile+1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"s/main.tf": `resource "terraform_data" "x" {}`})
			s := filepath.Join(root, "s")
			if err := tc.make(t, s); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := readStackConfig(root, s); done <- err }()
			select {
			case err := <-done:
				if err == nil {
					t.Error("no doubt")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("readStackConfig hangs")
			}
		})
	}
}
