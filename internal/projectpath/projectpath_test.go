package projectpath

import (
	"path"
	"strings"
	"testing"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, ref, want string
		ok             bool
	}{
		{"/a/b", "/c", "/c", true},
		{"/a/b", "/x/y", "/x/y", true},
		{"/a/b", "c", "/a/b/c", true},
		{"/a/b", "../c", "/a/c", true},
		{"/a/b", "../..", "/", true},
		{"/a/b", "../../..", "", false},
		{"/a", "./x/./y/", "/a/x/y", true},
		{"/a", "./", "/a", true},
		{"/", "/../x", "", false},
		{"/", "..", "", false},
	} {
		got, ok := Join(tc.dir, tc.ref)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Join(%q, %q) = %q, %v; want %q, %v", tc.dir, tc.ref, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIsBelow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/a", "/", true}, {"/", "/", true}, {"/a", "/a", true}, {"/a/b", "/a", true},
		{"/ab", "/a", false}, {"/a", "/a/b", false}, {"/b", "/a", false},
	} {
		if got := IsBelow(tc.p, tc.dir); got != tc.want {
			t.Errorf("IsBelow(%q, %q) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}

// FuzzJoin resolves arbitrary references against arbitrary stack
// directories: the allocation-free shortcut for clean paths must agree
// with path.Clean, and nothing that leaves the root is accepted.
func FuzzJoin(f *testing.F) {
	for _, seed := range [][2]string{
		{"/a", "/b"}, {"/a", "../b"}, {"/a", "../../b"}, {"/", "."}, {"/a/b", "./c/../d"},
		{"/a", "/b/"}, {"/a", "//b"}, {"/a", "/b/.c"}, {"/a", "/.."}, {"/a", ""}, {"/a", "b/./"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, dir, ref string) {
		dir = path.Clean("/" + dir) // a stack directory is a clean project path
		got, ok := Join(dir, ref)
		full := ref
		if !strings.HasPrefix(ref, "/") {
			full = dir + "/" + ref
		}
		want := path.Clean("/" + full)
		rel := path.Clean(strings.TrimLeft(full, "/"))
		leaves := rel == ".." || strings.HasPrefix(rel, "../")
		switch {
		case leaves && ok:
			t.Fatalf("Join(%q, %q) = %q, but it leaves the root", dir, ref, got)
		case !leaves && !ok:
			t.Fatalf("Join(%q, %q) rejected a path inside the root", dir, ref)
		case ok && got != want:
			t.Fatalf("Join(%q, %q) = %q, want %q", dir, ref, got, want)
		}
	})
}
