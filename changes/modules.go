package changes

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

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
// *.tofu files of project directory dir. Files that do not mention
// "module" are not parsed, which keeps the scan over every stack cheap.
func readModules(p *project.Project, dir string) dirModules {
	var out dirModules
	entries, err := os.ReadDir(p.FSPath(dir))
	if err != nil {
		out.missing = errors.Is(err, fs.ErrNotExist)
		return out
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !(strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tofu")) {
			continue
		}
		file := path.Join(dir, name)
		src, err := os.ReadFile(p.FSPath(file))
		if err != nil {
			out.diags = append(out.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable Terraform file", Detail: err.Error() + ".", Subject: fileRange(file)})
			continue
		}
		if !bytes.Contains(src, []byte("module")) {
			continue
		}
		f, diags := hclsyntax.ParseConfig(src, strings.TrimPrefix(file, "/"), hcl.InitialPos)
		if diags.HasErrors() {
			for _, d := range diags {
				d.Detail += " tmci reads module sources here to find changed local modules; fix the syntax."
			}
			out.diags = append(out.diags, diags...)
			continue
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
			modDir, ok := project.JoinPath(dir, src)
			if !ok {
				continue // outside the repository: no change to see
			}
			out.refs = append(out.refs, moduleRef{dir: modDir, rng: attr.Expr.Range()})
		}
	}
	return out
}

// modules marks the stacks whose local modules, followed transitively,
// hold a changed file. Stacks are scanned in parallel; module directories
// are read once each. Module loops are tolerated.
func (m *mapper) modules(ctx context.Context) {
	stacks := m.p.Stacks
	found := make([]dirModules, len(stacks))
	eg, _ := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i, s := range stacks {
		eg.Go(func() error {
			found[i] = readModules(m.p, s.Path)
			return nil
		})
	}
	_ = eg.Wait() // the workers never fail
	cache := map[string]dirModules{}
	warned := map[string]bool{}
	for i, s := range stacks {
		m.diags = append(m.diags, found[i].diags...)
		for _, ref := range found[i].refs {
			chain, f, ok := m.moduleChange(ref, map[string]bool{s.Path: true}, cache, warned)
			if ok {
				m.add(s, Reason{Kind: ReasonModule, File: f.Path, Origin: f.Origin.String(), Deleted: f.Deleted, Modules: chain})
			}
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
	mods, seen := cache[ref.dir]
	if !seen {
		mods = readModules(m.p, ref.dir)
		m.diags = append(m.diags, mods.diags...)
		cache[ref.dir] = mods
	}
	if mods.missing {
		if key := ref.rng.String(); !warned[key] {
			warned[key] = true
			m.warn("Local module not found",
				"The module source points to "+ref.dir+", which does not exist; change detection cannot follow it. Fix the source path.",
				ref.rng.Ptr())
		}
		return nil, File{}, false
	}
	for _, next := range mods.refs {
		if rest, f, ok := m.moduleChange(next, visited, cache, warned); ok {
			return append([]string{ref.dir}, rest...), f, true
		}
	}
	return nil, File{}, false
}
