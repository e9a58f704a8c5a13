package repofile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small", "hello\n")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		max     int64
		want    string
		wantErr error
		msg     string
	}{
		{"regular", small, 100, "hello\n", nil, ""},
		{"exactly the cap", small, 6, "hello\n", nil, ""},
		{"empty", write("empty", ""), 0, "", nil, ""},
		{"over the cap", small, 5, "", ErrTooLarge, "6 bytes, over the limit of 5 bytes"},
		{"symlink to a regular file", link("l", small), 100, "hello\n", nil, ""},
		{"fifo", fifo, 100, "", ErrNotRegular, "named pipe"},
		{"symlink to a fifo", link("lf", fifo), 100, "", ErrNotRegular, "named pipe"},
		{"dev zero", link("zero", "/dev/zero"), 1 << 20, "", ErrNotRegular, "character device"},
		{"dev stdin", link("stdin", "/dev/null"), 1 << 20, "", ErrNotRegular, "character device"},
		{"directory", dir, 100, "", ErrNotRegular, "directory"},
		{"missing", filepath.Join(dir, "missing"), 100, "", fs.ErrNotExist, ""},
		{"symlink loop", link("loop", "loop"), 100, "", nil, "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				defer close(done)
				got, err = Read(tt.path, tt.max)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Read blocked")
			}
			if tt.wantErr == nil && tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, string(got)); diff != "" {
					t.Errorf("content (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, read %d bytes", len(got))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q lacks %q or the path", err, tt.msg)
			}
		})
	}
}

func TestReadBufReusesBuffer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	got, err := ReadBuf(p, buf, 100)
	if err != nil || string(got) != "abc" {
		t.Fatalf("ReadBuf = %q, %v", got, err)
	}
	if &got[0] != &buf[0] {
		t.Error("ReadBuf allocated although the file fits the buffer")
	}
}

func TestInside(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "repo")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root + "/a/b", outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{root + "/a/f", outside + "/secret"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"a/in":      "b",
		"a/up":      "..",
		"out":       outside,
		"outfile":   outside + "/secret",
		"a/rel-out": "../../outside",
		"loop1":     "loop2",
		"loop2":     "loop1",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	// A root reached through a symbolic link still contains its files.
	viaLink := filepath.Join(base, "repo-link")
	if err := os.Symlink(root, viaLink); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		root, name string
		want       string // resolved, relative to root; "" for an error
		msg        string
	}{
		{root, "a/f", "a/f", ""},
		{root, "a/in", "a/b", ""},
		{root, "a/up/a/f", "a/f", ""},
		{root, root + "/a/f", "a/f", ""},
		{viaLink, "a/in", "a/b", ""},
		{viaLink, viaLink + "/a/f", "a/f", ""},
		{root, "out/secret", "", "outside the repository"},
		{root, "outfile", "", "outside the repository"},
		{root, "a/rel-out/secret", "", "outside the repository"},
		{root, "loop1", "", "too many levels of symbolic links"},
		{root, "missing", "", "no such file"},
	}
	for _, tt := range tests {
		got, err := Inside(tt.root, tt.name)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Inside(%s) = %q, %v; want an error with %q", tt.name, got, err, tt.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("Inside(%s): %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(filepath.Join(root, tt.want), got); diff != "" {
			t.Errorf("Inside(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{300: "300 bytes", 2048: "2 KiB", 1536: "1.5 KiB", 4 << 20: "4 MiB", 3 << 19: "1.5 MiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
