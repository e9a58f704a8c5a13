package tf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/tmci/tmci/internal/atomicfile"
	"github.com/tmci/tmci/internal/repofile"
)

// stampName is the file in a data directory that records what the last
// successful init there depended on (see initStamp).
const stampName = "tmci-init.sha256"

// initStamp returns the SHA-256 of everything a successful init in s
// depended on and left behind:
//
//   - the binary (path, size, modification time) and init's arguments;
//   - the backend file's content;
//   - the environment terraform and tofu read (TF_*, TOFU_*, except
//     TF_LOG* and the TF_CLI_ARGS_ of other commands) and HOME;
//   - the CLI configuration file's content (provider installation);
//   - every Terraform file of the stack and of the local modules it
//     calls, and the dependency lock file (cfg.digest);
//   - what init wrote in the data directory: the backend's record
//     (terraform.tfstate) and the module manifest.
//
// Equal stamps mean init would do nothing new; a file that cannot be read
// is an error, and the caller then runs init.
func (r *Runner) initStamp(s Stack, args []string, cfg stackConfig) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "tmci init stamp 1\n%s %s\n", runtime.GOOS, runtime.GOARCH)
	bin, err := exec.LookPath(r.Bin)
	if err != nil {
		return "", err
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return "", err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "bin %q %d %d\n", bin, fi.Size(), fi.ModTime().UnixNano())
	fmt.Fprintf(h, "args %q\n", args)
	if s.BackendFile != "" {
		if err := hashFile(h, "backend", s.BackendFile, false); err != nil {
			return "", err
		}
	}
	env, err := r.Environ(s)
	if err != nil {
		return "", err
	}
	vars := initEnv(env)
	fmt.Fprintf(h, "env %q\n", vars)
	for _, cfgFile := range cliConfigFiles(vars) {
		if err := hashFile(h, "cli config", cfgFile, true); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(h, "code %s\n", cfg.digest)
	dataDir, err := filepath.Abs(s.DataDir)
	if err != nil {
		return "", err
	}
	for _, name := range []string{"terraform.tfstate", filepath.Join("modules", "modules.json")} {
		if err := hashFile(h, "data", filepath.Join(dataDir, name), true); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds the content of file to h; a missing file counts as
// absent when absentOK.
func hashFile(h hash.Hash, what, file string, absentOK bool) error {
	b, err := repofile.Read(file, maxConfigFile)
	if err != nil {
		if absentOK && os.IsNotExist(err) {
			fmt.Fprintf(h, "%s %q absent\n", what, file)
			return nil
		}
		return err
	}
	fmt.Fprintf(h, "%s %q %d\n", what, file, len(b))
	h.Write(b)
	return nil
}

// initEnv returns the variables of env that can change what init does,
// last value of each name, sorted.
func initEnv(env []string) []string {
	last := map[string]string{}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TF_LOG"):
			continue
		case strings.HasPrefix(name, "TF_CLI_ARGS_") && name != "TF_CLI_ARGS_init":
			continue
		case strings.HasPrefix(name, "TF_"), strings.HasPrefix(name, "TOFU_"),
			name == "HOME", name == "TERRAFORM_CONFIG":
			last[name] = kv
		}
	}
	out := make([]string, 0, len(last))
	for _, kv := range last {
		out = append(out, kv)
	}
	sort.Strings(out)
	return out
}

// cliConfigFiles returns the CLI configuration files terraform or tofu
// may read given the variables vars (see initEnv).
func cliConfigFiles(vars []string) []string {
	get := func(name string) string {
		for _, kv := range vars {
			if v, ok := strings.CutPrefix(kv, name+"="); ok {
				return v
			}
		}
		return ""
	}
	if f := get("TF_CLI_CONFIG_FILE"); f != "" {
		return []string{f}
	}
	if f := get("TERRAFORM_CONFIG"); f != "" {
		return []string{f}
	}
	if home := get("HOME"); home != "" {
		return []string{filepath.Join(home, ".terraformrc"), filepath.Join(home, ".tofurc")}
	}
	return nil
}

// initCurrent reports whether the data directory of s holds a successful
// init whose stamp equals stamp, with every provider of the stack's lock
// file (as cfg read it) still in place (a link into a cache that was
// emptied is not).
func initCurrent(s Stack, stamp string, cfg stackConfig) bool {
	b, err := repofile.Read(filepath.Join(s.DataDir, stampName), 1<<10)
	if err != nil || strings.TrimSpace(string(b)) != stamp {
		return false
	}
	if cfg.lockErr != nil {
		return cfg.lockMissing && len(cfg.providers) == 0
	}
	for _, p := range cfg.locked {
		entry := filepath.Join(s.DataDir, "providers", filepath.FromSlash(p.addr), p.version, runtime.GOOS+"_"+runtime.GOARCH)
		if fi, err := os.Stat(entry); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

func writeStamp(s Stack, stamp string) error {
	return atomicfile.Write(filepath.Join(s.DataDir, stampName), []byte(stamp+"\n"), 0o600)
}
