// Command sharingparity checks tmci's outputs sharing against Terramate
// 0.17.2 on the project cmd/tmci/testdata/sharing/parity.txtar:
//
//  1. `terramate generate` leaves the project's generated files as they
//     are (the stacks keep what Terramate writes);
//  2. with one environment, `tmci run` passes every consumer the same
//     TF_VAR_ values as `terramate run --enable-sharing`, compared as
//     terraform reads them (sharing.SameTFVar);
//  3. with two environments, tmci gives each consumer its own
//     environment's values, while Terramate gives every environment
//     those of whichever backend the source directories were last
//     initialised with.
//
// With -record FILE it writes Terramate's values of step 2 as the
// fixture TestSharingParity compares tmci against in CI, where Terramate
// is not installed:
//
//	go run ./bench/sharingparity -terramate /work/tm/tm.sh -tmci BIN [-tf terraform] [-record cmd/tmci/testdata/sharing/terramate-values.json]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/sharing"
)

// capture is the command both tools run in every stack: it writes the
// stack's environment, NUL-separated, to $OUT/<directory name>.env.
var capture = []string{"sh", "-c", `env -0 > "$OUT/$(basename "$PWD").env"`}

func main() {
	tm := flag.String("terramate", "terramate", "Terramate 0.17.2 `BINARY`")
	tmci := flag.String("tmci", "tmci", "tmci `BINARY`")
	tf := flag.String("tf", "terraform", "terraform `BINARY` (Terramate's sharing_backend command runs terraform)")
	record := flag.String("record", "", "write Terramate's one-environment values to `FILE` (the CI fixture)")
	archive := flag.String("project", "cmd/tmci/testdata/sharing/parity.txtar", "the project `TXTAR`")
	flag.Parse()
	if err := run(*tm, *tmci, *tf, *archive, *record); err != nil {
		fmt.Fprintln(os.Stderr, "sharingparity:", err)
		os.Exit(1)
	}
}

func run(tm, tmci, tf, archive, record string) error {
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sharingparity-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := fixture.WriteFiles(dir, ar); err != nil {
		return err
	}
	sh := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "CHECKPOINT_DISABLE=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	for _, c := range [][]string{{"git", "init", "-q"}, {"git", "add", "-A"}, {"git", "commit", "-qm", "project"}} {
		if _, err := sh(c[0], c[1:]...); err != nil {
			return err
		}
	}
	// 1. The generated files are Terramate's.
	if _, err := sh(tm, "generate"); err != nil {
		return err
	}
	if st, err := sh("git", "status", "--porcelain"); err != nil || st != "" {
		return fmt.Errorf("terramate generate changed the project's generated files:\n%s%v", st, err)
	}
	fmt.Println("RESULT generate unchanged")

	// 2. One environment.
	if _, err := sh(tmci, "apply", "--env=parity", "--log-mode=quiet"); err != nil {
		return err
	}
	sources := []string{"network", "app/api"}
	tmVals, err := terramateValues(dir, sh, tm, tf, sources, "parity")
	if err != nil {
		return err
	}
	tmciVals, err := tmciValues(dir, sh, tmci, "parity")
	if err != nil {
		return err
	}
	same, total := compare(tmVals, tmciVals, func(s string) string { return s })
	fmt.Printf("RESULT one-environment %d/%d TF_VAR_ values the same as terramate run --enable-sharing\n", same, total)
	if record != "" {
		data, err := json.MarshalIndent(tmVals, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(record, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if same != total {
		return fmt.Errorf("%d of %d values differ", total-same, total)
	}

	// 3. Two environments.
	for _, e := range []string{"pr-1", "pr-2"} {
		if _, err := sh(tmci, "apply", "--env="+e, "--log-mode=quiet"); err != nil {
			return err
		}
	}
	tmLast, err := terramateValues(dir, sh, tm, tf, sources, "pr-2") // pr-2 initialised last
	if err != nil {
		return err
	}
	for _, e := range []string{"pr-1", "pr-2"} {
		got, err := tmciValues(dir, sh, tmci, e)
		if err != nil {
			return err
		}
		own := func(s string) string { return strings.ReplaceAll(s, "parity", e) }
		s, n := compare(tmVals, got, own)
		fmt.Printf("RESULT two-environments tmci %s: %d/%d values are %s's own\n", e, s, n, e)
		if s != n {
			return fmt.Errorf("tmci gave %s %d values of another environment", e, n-s)
		}
		ts, _ := compare(tmVals, tmLast, own)
		fmt.Printf("RESULT two-environments terramate (one value per input for every environment): %d/%d values are %s's\n", ts, n, e)
	}
	return nil
}

// terramateValues initialises each source directory with the backend
// file tmci wrote for env (Terramate knows no environments: its
// sharing_backend command reads whatever the directory was initialised
// with), runs terramate run --enable-sharing with the capture and
// returns the TF_VAR_ values per stack directory name.
func terramateValues(dir string, sh func(string, ...string) (string, error), tm, tf string, sources []string, env string) (map[string]map[string]string, error) {
	for _, s := range sources {
		bf := filepath.Join(dir, ".tmci", env, s, ".tmci.tfbackend")
		cmd := exec.Command(tf, "init", "-input=false", "-reconfigure", "-backend-config="+bf)
		cmd.Dir = filepath.Join(dir, s)
		cmd.Env = append(os.Environ(), "TF_DATA_DIR=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("init %s: %w\n%s", s, err, out)
		}
	}
	out, err := os.MkdirTemp("", "tm-capture-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	os.Setenv("OUT", out)
	if _, err := sh(tm, append([]string{"run", "--enable-sharing", "--quiet", "--"}, capture...)...); err != nil {
		return nil, err
	}
	return readCaptures(out, nil)
}

// tmciValues runs tmci run --env=env with the capture and returns the
// TF_VAR_ values per stack directory name, without those of tmci.hcl's
// inputs (Terramate has none).
func tmciValues(dir string, sh func(string, ...string) (string, error), tmci, env string) (map[string]map[string]string, error) {
	out, err := os.MkdirTemp("", "tmci-capture-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	os.Setenv("OUT", out)
	if _, err := sh(tmci, append([]string{"run", "--env=" + env, "--log-mode=quiet", "--"}, capture...)...); err != nil {
		return nil, err
	}
	return readCaptures(out, map[string]bool{"TF_VAR_env": true})
}

func readCaptures(dir string, skip map[string]bool) (map[string]map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.env"))
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		vals := map[string]string{}
		for _, kv := range bytes.Split(data, []byte{0}) {
			k, v, ok := strings.Cut(string(kv), "=")
			if ok && strings.HasPrefix(k, "TF_VAR_") && !skip[k] {
				vals[k] = v
			}
		}
		out[strings.TrimSuffix(filepath.Base(f), ".env")] = vals
	}
	return out, nil
}

// compare counts the values of want that got has, the same as terraform
// reads them once own rewrote want's; a missing or extra variable
// counts as different.
func compare(want, got map[string]map[string]string, own func(string) string) (same, total int) {
	stacks := make([]string, 0, len(want))
	for s := range want {
		stacks = append(stacks, s)
	}
	sort.Strings(stacks)
	for _, s := range stacks {
		names := map[string]bool{}
		for k := range want[s] {
			names[k] = true
		}
		for k := range got[s] {
			names[k] = true
		}
		for k := range names {
			total++
			w, okw := want[s][k]
			g, okg := got[s][k]
			if okw && okg {
				if eq, err := sharing.SameTFVar(own(w), g); err == nil && eq {
					same++
					continue
				}
			}
			fmt.Printf("  %s %s: want %q, got %q\n", s, k, own(w), g)
		}
	}
	return same, total
}
