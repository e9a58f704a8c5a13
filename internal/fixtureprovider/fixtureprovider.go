// Package fixtureprovider builds the Terraform provider of
// testdata/provider (terraform-plugin-framework, padded to a real
// provider's size) and publishes it into a filesystem mirror, for tests
// and benchmarks of provider installation. The provider is its own Go
// module, so that the framework and its gRPC stack stay out of tmci's
// dependencies; building it needs the Go toolchain and its modules.
package fixtureprovider

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tmci/tmci/internal/atomicfile"
)

// Address is the provider's source address: a made-up host that no
// registry answers, so terraform can only install it from a mirror.
const Address = "tmci.test/tmci/fixture"

// Build compiles the provider from src (testdata/provider) into the file
// out, with version baked in and padBytes of embedded padding, running
// the go command with the environment env (os.Environ(), say). The
// padding is pseudo-random with about four bits of entropy a byte, so
// that, like a real provider, the binary compresses about 2:1. The
// source is copied to a temporary directory first: the padding file is
// generated, never part of the repository.
func Build(ctx context.Context, env []string, src, out, version string, padBytes int) error {
	tmp, err := os.MkdirTemp("", "tmci-fixture-provider-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read the provider's source: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, n), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "pad.bin"), padding(padBytes), 0o644); err != nil {
		return err
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -X main.version="+version, "-o", out, ".")
	cmd.Dir = tmp
	cmd.Env = append(append([]string{}, env...), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the fixture provider: %w\n%s", err, b)
	}
	return nil
}

func padding(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32() & 0x0f)
	}
	return b
}

// Publish writes the provider binary into the filesystem mirror dir in
// the packed layout terraform and tofu read:
// <dir>/tmci.test/tmci/fixture/terraform-provider-fixture_<version>_<os>_<arch>.zip,
// and returns the archive's path.
func Publish(dir, binary, version string) (string, error) {
	pkgDir := filepath.Join(dir, filepath.FromSlash(Address))
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		return "", err
	}
	name := filepath.Join(pkgDir, fmt.Sprintf("terraform-provider-fixture_%s_%s_%s.zip", version, runtime.GOOS, runtime.GOARCH))
	bin, err := os.ReadFile(binary)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "terraform-provider-fixture_v" + version, Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bin)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = atomicfile.Write(name, buf.Bytes(), 0o644)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// CLIConfig returns a CLI configuration (TF_CLI_CONFIG_FILE) that
// installs the provider from the mirror at dir and every other provider
// as usual.
func CLIConfig(dir string) string {
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["tmci.test/*/*"]
  }
  direct {
    exclude = ["tmci.test/*/*"]
  }
}
`, dir)
}

// Setup builds the provider (see Build) from src with padBytes of padding, publishes
// version 1.0.0 into dir/mirror and writes dir/cli.tfrc (CLIConfig); it
// returns the CLI configuration file's path, for TF_CLI_CONFIG_FILE.
func Setup(ctx context.Context, env []string, src, dir string, padBytes int) (cliConfig string, err error) {
	bin := filepath.Join(dir, "terraform-provider-fixture")
	if err := Build(ctx, env, src, bin, "1.0.0", padBytes); err != nil {
		return "", err
	}
	mirror := filepath.Join(dir, "mirror")
	if _, err := Publish(mirror, bin, "1.0.0"); err != nil {
		return "", err
	}
	cliConfig = filepath.Join(dir, "cli.tfrc")
	return cliConfig, os.WriteFile(cliConfig, []byte(CLIConfig(mirror)), 0o644)
}
