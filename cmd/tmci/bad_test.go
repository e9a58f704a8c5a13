package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
)

// TestBadInput runs every case of testdata/bad: a broken project or
// invocation must end with exit status 1, a message naming the problem,
// no panic, and nothing written outside the work directory (.tmci).
//
// A case is a txtar archive: its files are the project, and its comment
// holds directives, one per line:
//
//	args: list --run-order        tmci's arguments (split on spaces; run in the project)
//	stderr: text                  stderr must contain text (repeatable)
//	env: KEY=VALUE                set for tmci (repeatable)
//	git: init|commit              git init (and commit everything) first
//	symlink: LINK -> TARGET       create a symbolic link
//	binary: PATH                  write random-looking binary bytes to PATH
//	size: PATH BYTES              write a file of BYTES bytes of text to PATH
func TestBadInput(t *testing.T) {
	cases, err := filepath.Glob("../../testdata/bad/*.txtar")
	if err != nil || len(cases) < 40 {
		t.Fatalf("want at least 40 cases in testdata/bad, found %d (%v)", len(cases), err)
	}
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(c)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := fixture.WriteFiles(dir, ar); err != nil {
				t.Fatal(err)
			}
			var args, wantErr []string
			env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir}
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				key, val, ok := strings.Cut(line, ":")
				if !ok || strings.HasPrefix(line, "#") {
					continue
				}
				val = strings.TrimSpace(val)
				switch key {
				case "args":
					args = strings.Fields(val)
				case "stderr":
					wantErr = append(wantErr, val)
				case "env":
					k, v, _ := strings.Cut(val, "=")
					env[k] = v
				case "git":
					gitRun(t, dir, "init", "-q", "-b", "main")
					if val == "commit" {
						gitRun(t, dir, "add", "-A")
						gitRun(t, dir, "commit", "-q", "-m", "initial")
					}
				case "symlink":
					link, target, _ := strings.Cut(val, " -> ")
					if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
						t.Fatal(err)
					}
				case "binary":
					data := make([]byte, 4096)
					for i := range data {
						data[i] = byte(i*7919 + i/3)
					}
					if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(val)), data, 0o644); err != nil {
						t.Fatal(err)
					}
				case "size":
					p, n, _ := strings.Cut(val, " ")
					size, err := strconv.Atoi(n)
					if err != nil {
						t.Fatal(err)
					}
					line := []byte("# padding line of a very large config file\n")
					data := bytes.Repeat(line, size/len(line)+1)[:size]
					if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), data, 0o644); err != nil {
						t.Fatal(err)
					}
				default:
					t.Fatalf("unknown directive %q", key)
				}
			}
			if len(args) == 0 || len(wantErr) == 0 {
				t.Fatal("case needs args: and stderr: lines")
			}
			before := snapshot(t, dir)
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return env[k] }
			code := run(context.Background(), append([]string{"-C", dir}, args...), &stdout, &stderr, getenv)
			out := stderr.String()
			if code != exitFailure {
				t.Errorf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), out)
			}
			for _, w := range wantErr {
				if !strings.Contains(out, w) {
					t.Errorf("stderr lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out+stdout.String(), "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("output mentions a panic:\n%s", out)
			}
			after := snapshot(t, dir)
			if diff := diffSnapshots(before, after); diff != "" {
				t.Errorf("files changed outside .tmci:\n%s", diff)
			}
		})
	}
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// snapshot maps every path below dir, except .git and .tmci, to a digest
// of its content (or its link target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".tmci") {
			return filepath.SkipDir
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "-> " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffSnapshots(before, after map[string]string) string {
	var lines []string
	for p, v := range after {
		if b, ok := before[p]; !ok {
			lines = append(lines, "added "+p)
		} else if b != v {
			lines = append(lines, "changed "+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			lines = append(lines, "removed "+p)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
