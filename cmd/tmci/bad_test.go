package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
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
//	stackdir: "DIR"               create DIR (Go-quoted: it may hold control characters)
//	                              holding a stack.tm with an empty stack block
//	noline: text                  no line of stdout or stderr starts with text
//	absent: text                  (Go-quoted or plain) neither stdout, stderr nor any file tmci wrote under .tmci
//	                              (but the secret-holding backend files, data directories
//	                              and plans) may contain text (repeatable)
//	env: KEY=VALUE                set for tmci and its commands (repeatable)
//	git: init|commit|none         git init (and commit everything) first;
//	                              without the directive, git init (tmci
//	                              needs a repository or a Terramate root)
//	symlink: LINK -> TARGET       create a symbolic link
//	binary: PATH                  write random-looking binary bytes to PATH
//	size: PATH BYTES              write a file of BYTES bytes of text to PATH
//	fifo: PATH                    create a named pipe (nothing ever writes to it)
//	template: PATH                expand the archive's file PATH as a Go text/template
//	                              with repeat N S, seq A B (A..B) and sub A B, to
//	                              write large hostile inputs compactly
//
// Every case must end within maxBadCaseTime and print at most
// maxBadCaseLines lines: a hostile input is never a hang or a flood.
func TestBadInput(t *testing.T) {
	t.Parallel()
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
			var args, wantErr, absent, noLine []string
			env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir}
			if !strings.Contains(string(ar.Comment), "\ngit:") && !strings.HasPrefix(string(ar.Comment), "git:") {
				testenv.Git(t, dir, "init", "-q", "-b", "main")
			}
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
				case "absent":
					if uq, err := strconv.Unquote(val); err == nil {
						val = uq
					}
					absent = append(absent, val)
				case "noline":
					noLine = append(noLine, val)
				case "stackdir":
					d, err := strconv.Unquote(val)
					if err != nil {
						t.Fatalf("stackdir %s: %v", val, err)
					}
					full := filepath.Join(dir, filepath.FromSlash(d))
					if err := os.MkdirAll(full, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(full, "stack.tm"), []byte("stack {}\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				case "env":
					k, v, _ := strings.Cut(val, "=")
					env[k] = v
				case "git":
					if val == "none" {
						continue
					}
					testenv.Git(t, dir, "init", "-q", "-b", "main")
					if val == "commit" {
						testenv.Git(t, dir, "add", "-A")
						testenv.Git(t, dir, "commit", "-q", "-m", "initial")
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
				case "fifo":
					if err := syscall.Mkfifo(filepath.Join(dir, filepath.FromSlash(val)), 0o644); err != nil {
						t.Fatal(err)
					}
				case "template":
					if err := expandTemplate(filepath.Join(dir, filepath.FromSlash(val))); err != nil {
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
			// The commands tmci starts see the env: lines too.
			environ := func() []string {
				out := os.Environ()
				for k, v := range env {
					out = append(out, k+"="+v)
				}
				return out
			}
			start := time.Now()
			done := make(chan int, 1)
			go func() {
				done <- run(context.Background(), append([]string{"-C", dir}, args...), &stdout, &stderr, getenv, environ)
			}()
			var code int
			select {
			case code = <-done:
			case <-time.After(maxBadCaseTime):
				t.Fatalf("tmci did not end in %v", maxBadCaseTime)
			}
			if d := time.Since(start); d > maxBadCaseTime/2 {
				t.Errorf("tmci took %v", d)
			}
			out := stderr.String()
			first, _, _ := strings.Cut(out, "\n")
			t.Logf("exit %d in %v: %s", code, time.Since(start).Round(time.Millisecond), first)
			if n := strings.Count(out, "\n"); n > maxBadCaseLines {
				t.Errorf("%d lines on stderr, over %d", n, maxBadCaseLines)
			}
			if code != exitFailure {
				t.Errorf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), out)
			}
			for _, w := range wantErr {
				if !strings.Contains(out, w) {
					t.Errorf("stderr lacks %q:\n%s", w, out)
				}
			}
			for _, line := range strings.Split(stdout.String()+out, "\n") {
				for _, prefix := range noLine {
					if strings.HasPrefix(line, prefix) {
						t.Errorf("an output line starts with %q: %q", prefix, line)
					}
				}
			}
			written := readWorkDir(t, filepath.Join(dir, ".tmci"))
			for _, text := range absent {
				if strings.Contains(out+stdout.String(), text) {
					t.Errorf("the output holds %q:\n%s%s", text, stdout.String(), out)
				}
				for name, data := range written {
					if strings.Contains(data, text) {
						t.Errorf("%s holds %q:\n%s", name, text, data)
					}
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

// maxBadCaseTime and maxBadCaseLines bound how long a bad-input case may
// take (it fails at half of the former, and stops waiting at the full
// time) and how much it may print.
const (
	maxBadCaseTime  = 20 * time.Second
	maxBadCaseLines = 300
)

// expandTemplate rewrites the file name as the text/template it holds.
func expandTemplate(name string) error {
	src, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	tmpl, err := template.New(filepath.Base(name)).Funcs(template.FuncMap{
		"repeat": func(n int, s string) string { return strings.Repeat(s, n) },
		"seq": func(a, b int) []int {
			var out []int
			for i := a; i <= b; i++ {
				out = append(out, i)
			}
			return out
		},
		"sub": func(a, b int) int { return a - b },
	}).Parse(string(src))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, nil); err != nil {
		return err
	}
	return os.WriteFile(name, out.Bytes(), 0o644)
}

// readWorkDir returns the content of every regular file below dir but
// those that hold secrets by design, 0600 in 0700 directories: backend
// files, terraform's data directories and saved plans.
func readWorkDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			if os.IsNotExist(err) {
				return nil
			}
			return err
		case d.IsDir() && (d.Name() == ".terraform" || d.Name() == "plans"):
			return filepath.SkipDir
		case !d.Type().IsRegular() || d.Name() == ".tmci.tfbackend":
			return nil
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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
		case !d.Type().IsRegular():
			out[rel] = "special " + d.Type().String() // never read: a FIFO blocks
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
