// Package repofile reads files whose names come from an untrusted
// repository or from a command-line flag, and decides whether a path stays
// inside the repository once symbolic links are resolved.
//
// A pull request can commit a symbolic link to /dev/zero, a FIFO or a file
// outside the checkout under any name tmci reads. Read never blocks on a
// FIFO or device (it opens with O_NONBLOCK and checks the opened file's
// type), never reads more than its cap, and reads only regular files;
// Inside resolves every symbolic link before comparing with the root, so a
// link is held to the same rule as its lexical "../" form.
package repofile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotRegular is wrapped by Read's error for a FIFO, device, socket or
// directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by Read's error for a file over the cap.
var ErrTooLarge = errors.New("file too large")

// ErrOutside is wrapped by Inside's error for a path that leaves the root.
var ErrOutside = errors.New("outside the repository")

// Read returns the content of the regular file at name, following symbolic
// links, when it holds at most max bytes. It is Read into a fresh buffer.
func Read(name string, max int64) ([]byte, error) {
	return ReadBuf(name, nil, max)
}

// ReadBuf is Read reusing buf when the file fits in it; the result then
// aliases buf. It costs stat, open, fstat, read(s) and close.
//
// The stat refuses a device before opening it: opening some has effects
// (a watchdog arms, a tape rewinds). The open does not block on a FIFO
// swapped in after the stat, and the fstat of the opened file decides.
func ReadBuf(name string, buf []byte, max int64) ([]byte, error) {
	// A failed stat is left for the open to report.
	if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular(name, fi.Mode())
	}
	f, err := openNonblocking(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(name, fi.Mode())
	}
	if fi.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: %s, over the limit of %s", ErrTooLarge, Size(fi.Size()), Size(max))}
	}
	if int64(cap(buf)) < fi.Size()+1 {
		buf = make([]byte, 0, fi.Size()+1) // +1 sees EOF without growing
	}
	// The file may grow between fstat and read: read at most max+1 bytes.
	data, err := readAll(io.LimitReader(f, max+1), buf[:0])
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: over the limit of %s", ErrTooLarge, Size(max))}
	}
	return data, nil
}

// readAll appends what r yields to buf until EOF.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func notRegular(name string, m fs.FileMode) error {
	return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w but %s", ErrNotRegular, describe(m))}
}

// describe names a non-regular file type for an error message.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// Size renders a byte count for messages: "4 MiB", "1.5 MiB", "300 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Inside resolves every symbolic link of name, which must exist, and
// returns the resolved path when it lies within root (itself resolved).
// The error wraps ErrOutside when it does not, and the operating system's
// error for a missing path or a symbolic link loop.
//
// It costs one lstat per path component of root and name; callers that
// check many paths under one root should resolve the root once and use
// Root.
func Inside(root, name string) (string, error) {
	r, err := NewRoot(root)
	if err != nil {
		return "", err
	}
	return r.Inside(name)
}

// Root is a repository root with its symbolic links resolved, to check
// many paths against. The zero value is not usable; it is immutable and
// safe for concurrent use.
type Root struct {
	lexical  string // as given, absolute and clean
	resolved string
}

// NewRoot resolves root, an existing directory.
func NewRoot(root string) (Root, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Root{}, err
	}
	res, err := evalSymlinks(abs)
	if err != nil {
		return Root{}, err
	}
	return Root{lexical: abs, resolved: res}, nil
}

// Inside is the package's Inside for this root. A relative name is taken
// from the root. With ErrOutside, the resolved path is returned too.
func (r Root) Inside(name string) (string, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(r.lexical, name)
	}
	res, err := evalSymlinks(name)
	if err != nil {
		return "", err
	}
	if !within(r.resolved, res) {
		return res, &fs.PathError{Op: "resolve", Path: name, Err: fmt.Errorf("%w: it resolves to %s", ErrOutside, res)}
	}
	return res, nil
}

// ErrLoop is wrapped by Inside's error for a chain of symbolic links that
// does not end.
var ErrLoop = errors.New("too many levels of symbolic links (a link loop)")

// evalSymlinks is filepath.EvalSymlinks with an error naming the path for
// a link loop too.
func evalSymlinks(name string) (string, error) {
	res, err := filepath.EvalSymlinks(name)
	if err != nil {
		if _, ok := err.(*fs.PathError); !ok {
			err = &fs.PathError{Op: "resolve", Path: name, Err: ErrLoop}
		}
		return "", err
	}
	return res, nil
}

// within reports whether the clean absolute path p is dir or below it.
func within(dir, p string) bool {
	if p == dir || dir == string(filepath.Separator) {
		return true
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}
