// Package tf runs terraform or OpenTofu for one (stack, environment) at a
// time: binary discovery, the automation environment, a data directory per
// (stack, environment), the backend file, interruption by exactly one SIGINT
// to the command's process group, and the JSON plan summary.
package tf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
)

// Versions names the terraform and OpenTofu versions tmci works with, for
// messages and the README: what the tests run, and the oldest releases
// whose flags and JSON plan tmci relies on.
const Versions = "terraform 1.5 or later (tested: 1.5.7) or OpenTofu 1.6 or later (tested: 1.6.3)"

// BinEnv names the environment variable that selects the binary when
// --tf-bin is not given.
const BinEnv = "TMCI_TF_BIN"

// FindBinary returns the absolute path of the terraform or tofu binary to
// run: flag (--tf-bin) if set, else $TMCI_TF_BIN, else terraform, else tofu
// on $PATH. A value with a path separator names a file; a bare name is
// looked up on $PATH. getenv supplies TMCI_TF_BIN and PATH.
func FindBinary(flag string, getenv func(string) string) (string, error) {
	path := getenv("PATH")
	for _, c := range []struct{ value, source string }{
		{flag, "--tf-bin"},
		{getenv(BinEnv), BinEnv},
	} {
		if c.value == "" {
			continue
		}
		bin, err := lookPath(c.value, path)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", c.source, c.value, err)
		}
		return bin, nil
	}
	for _, name := range []string{"terraform", "tofu"} {
		if bin, err := lookPath(name, path); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("neither terraform nor tofu is on PATH: install " + Versions + ", or name it with --tf-bin or " + BinEnv)
}

// lookPath is exec.LookPath with an explicit PATH, so that the caller's
// environment, not the process's, decides.
func lookPath(name, path string) (string, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		return executable(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		if bin, err := executable(filepath.Join(dir, name)); err == nil {
			return bin, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH", name)
}

func executable(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return "", &fs.PathError{Op: "run", Path: abs, Err: errors.New("not an executable file")}
	}
	return abs, nil
}

// Identify asks bin for its name and version (`bin version`, whose first
// line is "Terraform v1.5.7" or "OpenTofu v1.6.3"), with the command
// environment env. A go-installed release says "-dev" after the version;
// the prerelease is dropped, as it is the release itself. It fails for
// output it does not recognise.
func Identify(ctx context.Context, bin string, env []string) (name string, v *version.Version, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version")
	// terraform's version command also asks HashiCorp's checkpoint
	// service whether a newer release exists; tmci needs only the line.
	cmd.Env = append(env[:len(env):len(env)], "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s version: %w", filepath.Base(bin), err)
	}
	return parseVersionLine(string(out))
}

func parseVersionLine(out string) (string, *version.Version, error) {
	first, _, _ := strings.Cut(out, "\n")
	fields := strings.Fields(first)
	if len(fields) == 2 && strings.HasPrefix(fields[1], "v") {
		name := map[string]string{"Terraform": "terraform", "OpenTofu": "tofu"}[fields[0]]
		if v, err := version.NewVersion(fields[1]); err == nil && name != "" {
			return name, v.Core(), nil
		}
	}
	return "", nil, fmt.Errorf("not a terraform or OpenTofu version: %q", first)
}
