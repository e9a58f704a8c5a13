package changes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
)

// moduleRef is a module block with a local source ("./x", "../x").
type moduleRef struct {
	// dir is the project path the source resolves to.
	dir string
	rng hcl.Range
}

// dirModules is what reading one directory's Terraform files found.
type dirModules struct {
	refs    []moduleRef
	diags   hcl.Diagnostics
	missing bool // the directory does not exist
}

// readModules reads the local module sources of the top-level *.tf and
// *.tofu files of project directory dir.
func readModules(p *project.Project, dir string) dirModules {
	var out dirModules
	if target, err := repofile.Inside(p.Root, p.FSPath(dir)); errors.Is(err, repofile.ErrOutside) {
		// A symbolic link on the way leaves the repository: nothing
		// there is the repository's to read or to see change.
		out.diags = append(out.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Module source outside the project",
			Detail:   fmt.Sprintf("The module directory %s resolves to %s through a symbolic link, outside the repository; change detection does not follow it. Point the source at a directory inside the repository.", dir, target),
			Subject:  fileRange(dir),
		})
		return out
	}
	entries, err := os.ReadDir(p.FSPath(dir))
	if err != nil {
		out.missing = errors.Is(err, fs.ErrNotExist)
		return out
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !isTerraformFile(name) {
			continue
		}
		file := path.Join(dir, name)
		src, err := repofile.Read(p.FSPath(file), project.MaxTerraformFileSize)
		if err != nil {
			out.diags = append(out.diags, unreadable(file, err))
			continue
		}
		out.parse(dir, file, src)
	}
	return out
}

func unreadable(file string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable Terraform file", Detail: err.Error() + ".", Subject: fileRange(file)}
}

// parse adds the local module sources of one Terraform file of dir. Files
// that do not mention "module" are not parsed.
func (out *dirModules) parse(dir, file string, src []byte) {
	if !bytes.Contains(src, []byte("module")) {
		return
	}
	f, diags := boundedhcl.ParseConfig(src, strings.TrimPrefix(file, "/"))
	if diags.HasErrors() {
		for _, d := range diags {
			d.Detail += " tmci reads module sources here to find changed local modules; fix the syntax."
		}
		out.diags = append(out.diags, diags...)
		return
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "module" {
			continue
		}
		attr, ok := b.Body.Attributes["source"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			continue // not a literal: terraform rejects it too
		}
		src := v.AsString()
		if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
			continue // a registry, git or URL source: not in this repository
		}
		modDir, ok := projectpath.Join(dir, src)
		if !ok {
			continue // outside the repository: no change to see
		}
		out.refs = append(out.refs, moduleRef{dir: modDir, rng: attr.Expr.Range()})
	}
}

// localSourcePattern finds string literals that look like local module
// sources. It over-approximates (comments, other attributes), which is
// fine for a filter: only stacks whose candidates lead to a change are
// parsed for real.
var localSourcePattern = regexp.MustCompile(`"(\.\.?/[^"\n]*)"`)

// isTerraformFile reports whether a file name is a Terraform or OpenTofu
// configuration file tmci reads module sources from.
func isTerraformFile(name string) bool {
	return !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tofu"))
}

// terraformFiles returns the names of the top-level Terraform files of
// project directory dir, from the listing known (nil: read the directory).
func terraformFiles(p *project.Project, dir string, known map[string][]string) []string {
	if known != nil {
		return known[dir]
	}
	entries, err := os.ReadDir(p.FSPath(dir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isTerraformFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// stackScan is what the cheap scan of a stack's Terraform files found:
// the directories they might source, and the files that name them, kept
// for the exact parse.
type stackScan struct {
	dirs  []string
	files []scannedFile
	diags hcl.Diagnostics
}

type scannedFile struct {
	path string // project path
	src  []byte
}

// scanStack reads the top-level Terraform files of a stack and finds,
// without parsing, the directories they might source as local modules.
func scanStack(p *project.Project, dir string, known map[string][]string, buf []byte) stackScan {
	var out stackScan
	for _, name := range terraformFiles(p, dir, known) {
		file := path.Join(dir, name)
		src, err := repofile.ReadBuf(p.FSPath(file), buf, project.MaxTerraformFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			out.diags = append(out.diags, unreadable(file, err))
			continue
		}
		if !bytes.Contains(src, []byte("module")) {
			continue
		}
		matches := localSourcePattern.FindAllSubmatch(src, -1)
		for _, m := range matches {
			if d, ok := projectpath.Join(dir, string(m[1])); ok {
				out.dirs = append(out.dirs, d)
			}
		}
		if len(matches) > 0 {
			out.files = append(out.files, scannedFile{file, bytes.Clone(src)})
		}
	}
	return out
}

// modules marks the stacks whose local modules, followed transitively,
// hold a changed file. Module loops are tolerated.
//
// Every stack's top-level Terraform files are read, in parallel, but only
// scanned for strings that look like local sources; the directories they
// name are checked against the changed files (following modules, which are
// parsed), and only stacks with a changed candidate are parsed to confirm.
// The scan is O(stacks) reads; parsing follows the size of the change.
func (m *mapper) modules(ctx context.Context) {
	stacks := m.p.Stacks
	known := m.d.terraformFiles(m.p)
	scans := make([]stackScan, len(stacks))
	var next atomic.Int64
	eg, ectx := errgroup.WithContext(ctx)
	for range runtime.GOMAXPROCS(0) {
		eg.Go(func() error {
			buf := make([]byte, 64<<10)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(stacks) {
					return nil
				}
				if err := ectx.Err(); err != nil {
					return err
				}
				scans[i] = scanStack(m.p, stacks[i].Path, known, buf)
			}
		})
	}
	if eg.Wait() != nil {
		return // cancelled: the caller reports ctx.Err()
	}
	cache := map[string]dirModules{}
	warned := map[string]bool{}
	changedDir := map[string]bool{}
	for i, s := range stacks {
		m.diags = append(m.diags, scans[i].diags...)
		relevant := false
		for _, d := range scans[i].dirs {
			c, seen := changedDir[d]
			if !seen {
				_, _, c = m.moduleChange(moduleRef{dir: d}, map[string]bool{}, cache, nil)
				changedDir[d] = c
			}
			// A source pointing nowhere gets its warning from the parse.
			relevant = relevant || c || m.moduleDir(d, cache).missing
		}
		if !relevant {
			continue
		}
		var found dirModules
		for _, f := range scans[i].files {
			found.parse(s.Path, f.path, f.src)
		}
		m.diags = append(m.diags, found.diags...)
		for _, ref := range found.refs {
			if chain, f, ok := m.moduleChange(ref, map[string]bool{s.Path: true}, cache, warned); ok {
				m.add(s, Reason{Kind: ReasonModule, File: f.Path, Origin: f.Origin.String(), Deleted: f.Deleted, Modules: chain})
			}
		}
		for _, ref := range found.refs {
			m.warnMissing(ref, cache, warned)
		}
	}
}

// moduleChange reports whether the module ref points to holds a changed
// file, directly or through the modules it sources; chain is the path of
// module directories to the one holding file.
func (m *mapper) moduleChange(ref moduleRef, visited map[string]bool, cache map[string]dirModules, warned map[string]bool) (chain []string, file File, ok bool) {
	if visited[ref.dir] {
		return nil, File{}, false
	}
	visited[ref.dir] = true
	if f, ok := m.d.changedBelow(ref.dir); ok {
		return []string{ref.dir}, f, true
	}
	mods := m.moduleDir(ref.dir, cache)
	for _, next := range mods.refs {
		m.warnMissing(next, cache, warned)
	}
	for _, next := range mods.refs {
		if rest, f, ok := m.moduleChange(next, visited, cache, warned); ok {
			return append([]string{ref.dir}, rest...), f, true
		}
	}
	return nil, File{}, false
}

// moduleDir reads a module directory once.
func (m *mapper) moduleDir(dir string, cache map[string]dirModules) dirModules {
	mods, seen := cache[dir]
	if !seen {
		mods = readModules(m.p, dir)
		m.diags = append(m.diags, mods.diags...)
		cache[dir] = mods
	}
	return mods
}

// warnMissing warns, once per source, about a local module source that
// points to no directory and holds no deleted file.
func (m *mapper) warnMissing(ref moduleRef, cache map[string]dirModules, warned map[string]bool) {
	if warned == nil {
		return
	}
	if _, changed := m.d.changedBelow(ref.dir); changed {
		return
	}
	if !m.moduleDir(ref.dir, cache).missing {
		return
	}
	if key := ref.rng.String(); !warned[key] {
		warned[key] = true
		m.warn("Local module not found",
			"The module source points to "+ref.dir+", which does not exist; change detection cannot follow it. Fix the source path.",
			ref.rng.Ptr())
	}
}
