package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MarkerName is the file tmci writes into a work directory it creates.
// A work directory without it holds entries tmci did not make (a
// repository may commit a .tmci/ full of symbolic links pointing at
// files outside it), so a run refuses it rather than write through them.
const MarkerName = ".tmci-workdir"

const markerText = "This directory was created by tmci for data directories, plans, logs and reports.\n" +
	"tmci refuses a work directory without this file; do not commit it.\n"

// ClaimWorkDir makes sure the work directory work (holding the
// environment directory envDir) is tmci's before anything is written
// into it, and creates envDir, 0700. It refuses:
//
//   - a symbolic link on the way: any component of work below the
//     project root (the whole of work when it lies outside the root),
//     and envDir itself;
//   - a work directory that git tracks anything in (a committed .tmci/);
//   - an existing, non-empty work directory without MarkerName.
//
// An empty or missing work directory is claimed: tmci writes the marker.
// Entries inside an accepted directory were created by tmci or the
// terraform it ran; tmci's own writes there do not follow symbolic links
// (O_NOFOLLOW).
func ClaimWorkDir(ctx context.Context, root, work, envDir string) error {
	if err := noSymlinks(root, work); err != nil {
		return err
	}
	if err := notTracked(ctx, root, work); err != nil {
		return err
	}
	entries, err := os.ReadDir(work)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(work, 0o700); err != nil {
			return fmt.Errorf("create the work directory: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read the work directory: %w", err)
	case len(entries) > 0:
		fi, err := os.Lstat(filepath.Join(work, MarkerName))
		if err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("the work directory %s holds files tmci did not create (it has no %s): remove it, or give tmci an empty or new --work-dir", work, MarkerName)
		}
	}
	if err := writeMarker(filepath.Join(work, MarkerName)); err != nil {
		return err
	}
	if fi, err := os.Lstat(envDir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("the work directory %s is a symbolic link: tmci never writes through one; remove it", envDir)
	}
	if err := os.MkdirAll(envDir, 0o700); err != nil {
		return fmt.Errorf("create the work directory: %w", err)
	}
	return os.Chmod(envDir, 0o700)
}

func writeMarker(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|noFollow, 0o600)
	if err != nil {
		return fmt.Errorf("mark the work directory: %w", err)
	}
	_, err = f.WriteString(markerText)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// noSymlinks refuses a symbolic link among the components of dir below
// root, or of dir as a whole when it is not below root.
func noSymlinks(root, dir string) error {
	base := root
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		base, rel = filepath.Dir(dir), filepath.Base(dir)
	}
	p := base
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		if c == "." || c == "" {
			continue
		}
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check the work directory: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link: tmci never writes its work directory through one; remove it or give another --work-dir", p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory: remove it or give another --work-dir", p)
		}
	}
	return nil
}

// notTracked refuses a work directory inside root's git repository that
// git tracks anything in. Outside a repository, or without git, there is
// nothing committed to refuse.
func notTracked(ctx context.Context, root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--", filepath.ToSlash(rel))
	out, err := cmd.Output()
	if err != nil {
		return nil // not a repository: nothing is committed
	}
	if len(out) > 0 {
		first, _, _ := bytes.Cut(out, []byte{0})
		return fmt.Errorf("the work directory %s is committed to git (%q is tracked): tmci's work directory must be its own; remove it from the repository (git rm -r --cached %s) and add it to .gitignore",
			dir, string(first), filepath.ToSlash(rel))
	}
	return nil
}
