package main

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzStacksFrom runs `tmci list --stacks-from FILE` with an arbitrary
// file: exit status 0 with only stacks of the project printed, or 1 with
// a message naming the flag; never a panic.
func FuzzStacksFrom(f *testing.F) {
	for _, seed := range []string{
		"stacks/a\n/stacks/b # comment\n\n", "# only a comment\n", "stacks/a/\r\n", "../../etc/passwd\n",
		"/\n", "stacks/nope\n", "  stacks/b  \t\n#stacks/a", "stacks/a\x00\n", strings.Repeat("stacks/a\n", 100),
		"stacks/./a\nstacks/b/../a\n",
	} {
		f.Add([]byte(seed))
	}
	root := f.TempDir()
	for _, name := range []string{".git/HEAD", "stacks/a/stack.tm", "stacks/b/stack.tm", "stacks/b/c/stack.tm"} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		data := "stack {}\n"
		if name == ".git/HEAD" {
			data = "ref: refs/heads/main\n"
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	getenv := func(string) string { return "" }
	var all bytes.Buffer
	if code := run(context.Background(), []string{"-C", root, "list"}, &all, os.Stderr, getenv, os.Environ); code != 0 {
		f.Fatalf("tmci list: exit %d", code)
	}
	stacks := strings.Fields(all.String())
	f.Fuzz(func(t *testing.T, list []byte) {
		file := filepath.Join(t.TempDir(), "stacks.txt")
		if err := os.WriteFile(file, list, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-C", root, "list", "--stacks-from", file}, &stdout, &stderr, getenv, os.Environ)
		switch code {
		case 0:
			listed := strings.Fields(stdout.String())
			for _, line := range listed {
				if !slices.Contains(stacks, line) {
					t.Fatalf("listed %q, not a stack of %v", line, stacks)
				}
			}
			// Every line named a stack, so every one is listed.
			for _, line := range strings.Split(string(list), "\n") {
				ref, _, _ := strings.Cut(line, "#")
				if ref = strings.TrimSpace(ref); ref != "" && !slices.Contains(listed, path.Clean(strings.TrimPrefix(ref, "/"))) {
					t.Fatalf("%q was accepted but not listed: %v", ref, listed)
				}
			}
		case 1:
			if !strings.Contains(stderr.String(), file) && !strings.Contains(stderr.String(), "--stacks-from") {
				t.Fatalf("the error names neither the file nor the flag:\n%s", stderr.String())
			}
		default:
			t.Fatalf("exit %d:\n%s", code, stderr.String())
		}
	})
}
