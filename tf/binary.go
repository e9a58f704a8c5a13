// Package tf runs terraform or OpenTofu for one (stack, environment) at a
// time: binary discovery, the automation environment, a data directory per
// (stack, environment), the backend file, interruption by exactly one SIGINT
// to the command's process group, and the JSON plan summary.
package tf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
