// Package projectpath is the arithmetic of project paths: slash-separated
// paths from the project root ("/stacks/app"), which stack references,
// watch lists, module sources and --stack values all resolve to. project,
// dag and changes share it so that a reference means the same stack
// everywhere.
package projectpath

import (
	"path"
	"strings"
)

// Join resolves ref against the project directory dir, a clean project
// path: an absolute ref ("/a/b") is taken from the root, a relative one
// from dir. ok is false when the result would leave the root ("..",
// above "/"), which path.Clean alone would silently clamp. A ref that is
// already clean and absolute, the common case, is answered without
// allocating.
func Join(dir, ref string) (string, bool) {
	if isClean(ref) {
		return ref, true
	}
	if !strings.HasPrefix(ref, "/") {
		ref = dir + "/" + ref
	}
	rel := path.Clean(strings.TrimLeft(ref, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	if rel == "." {
		return "/", true
	}
	return "/" + rel, true
}

// isClean reports whether p is an absolute path that path.Clean keeps as
// it is.
func isClean(p string) bool {
	if p == "/" {
		return true
	}
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i-1] == '/' && (p[i] == '/' || p[i] == '.') {
			return false
		}
	}
	return true
}

// IsBelow reports whether project path p is dir or lies below it. It
// does not allocate.
func IsBelow(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || (len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir)
}
