package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/funcs"
	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
)

// ConfigFileName is tmci's own configuration file, which Terramate never reads.
const ConfigFileName = "tmci.hcl"

// terramateBlocks are the top-level blocks Terramate 0.17.2 knows, its
// Catalyst blocks (define, bundle, component, scaffold, environment)
// included. tmci reads stack, globals, import and terramate; the rest are
// accepted as they are.
var terramateBlocks = map[string]bool{
	"terramate": true, "stack": true, "globals": true, "import": true,
	"generate_hcl": true, "generate_file": true, "script": true, "vendor": true,
	"assert": true, "sharing_backend": true, "input": true, "output": true,
	"define": true, "bundle": true, "component": true, "scaffold": true, "environment": true,
}

// dirConfig is what one directory's config files declare.
type dirConfig struct {
	path    string // project path
	stack   *Stack
	globals []*globalDef
	runEnv  []*hclsyntax.Attribute // terramate.config.run.env
	// sharingBackends and inputs are the directory's outputs-sharing
	// blocks (parseSharing).
	sharingBackends []*SharingBackend
	inputs          []*SharedInput
}

// loader holds the state of one Load call.
type loader struct {
	p        *Project
	diags    hcl.Diagnostics
	parsed   map[string]*hcl.File // by fs path
	cycles   map[string]bool      // import cycles reported, by their sorted files
	imported map[importKey][]*globalDef
	root     repofile.Root // the root with symbolic links resolved
	// experimental holds the blocks needing an experiment, checked once
	// the root's experiments are read; experiments are those.
	experimental []*hclsyntax.Block
	experiments  []string
	// sharing holds the outputs-sharing blocks, read once the
	// experiment is known (parseSharing).
	sharing []sharingBlock
}

// Load reads the project rooted at root (an existing directory). Every
// problem found is returned as a diagnostic; the Project is usable, but
// partial, when the diagnostics hold errors.
func Load(root string, opts Options) (*Project, hcl.Diagnostics) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid project root", Detail: err.Error()}}
	}
	p := &Project{
		Root:   abs,
		Git:    GitConfig{DefaultBranch: "main", DefaultRemote: "origin"},
		TMCI:   &Config{},
		funcs:  opts.Funcs,
		dirs:   map[string]*dirConfig{},
		byPath: map[string]*Stack{},
		stacks: &lazyValue{},
	}
	if p.funcs == nil {
		p.funcs = funcs.Table()
	}
	resolved, err := repofile.NewRoot(abs)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid project root", Detail: err.Error()}}
	}
	l := &loader{p: p, parsed: map[string]*hcl.File{}, cycles: map[string]bool{}, imported: map[importKey][]*globalDef{}, root: resolved}
	var dirs []dirFiles
	l.walk(abs, "/", &dirs)
	p.configured = len(dirs) > 0
	l.parseAll(dirs)
	for _, d := range dirs {
		if len(d.files) > 0 {
			l.loadDir(d.dir, d.projPath, d.files)
		}
		if d.hasTMCI {
			l.loadTMCI(filepath.Join(d.dir, ConfigFileName), d.projPath)
		}
	}
	l.finishStacks()
	l.readTerramateConfig()
	l.checkExperimental()
	l.parseSharing()
	l.diags = append(l.diags, p.TMCI.validate()...)
	return p, l.diags
}

// dirFiles lists the config files of one directory, in name order.
type dirFiles struct {
	dir      string // filesystem path
	projPath string
	files    []string // Terramate files
	hasTMCI  bool
}

// walk lists the config files of dir and, recursively, of its
// subdirectories in name order, appending to out. Directories whose name
// starts with "." and directories holding a .tmskip file are skipped, as
// Terramate does.
func (l *loader) walk(dir, projPath string, out *[]dirFiles) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unreadable directory",
			Detail:   err.Error() + ". Fix its permissions, or add a .tmskip file to its parent to skip it.",
		})
		return
	}
	for _, e := range entries {
		if e.Name() == ".tmskip" && !e.IsDir() {
			return
		}
	}
	d := dirFiles{dir: dir, projPath: projPath}
	var subdirs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		switch {
		case e.IsDir():
			subdirs = append(subdirs, name)
		case name == ConfigFileName:
			d.hasTMCI = true
		case strings.HasSuffix(name, ".tm") || strings.HasSuffix(name, ".tm.hcl"):
			if e.Type()&os.ModeSymlink != 0 && !l.linkInside(filepath.Join(dir, name)) {
				continue
			}
			d.files = append(d.files, name)
		}
	}
	if len(d.files) > 0 || d.hasTMCI {
		*out = append(*out, d)
	}
	for _, name := range subdirs {
		l.walk(filepath.Join(dir, name), path.Join(projPath, name), out)
	}
}

// linkInside reports whether the symbolic link fsPath, a config file,
// resolves inside the project, and reports it when it leaves. A link that
// does not resolve (missing, a loop) counts as inside: reading it reports
// why. Directories are never followed, so only a file's own link can
// leave.
func (l *loader) linkInside(fsPath string) bool {
	target, err := l.root.Inside(fsPath)
	if !errors.Is(err, repofile.ErrOutside) {
		return true
	}
	name := l.fileName(fsPath)
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Config file outside the project",
		Detail:   fmt.Sprintf("%s is a symbolic link to %s, outside the repository. Config files must lie inside it; replace the link with the file.", name, target),
		Subject:  &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos},
	})
	return false
}

// parseAll reads and parses every file of dirs on all CPUs, then records
// the results (and their diagnostics, in walk order) as parse would.
// Parsing dominates loading large projects, and files are independent.
func (l *loader) parseAll(dirs []dirFiles) {
	var paths []string
	for _, d := range dirs {
		for _, f := range d.files {
			paths = append(paths, filepath.Join(d.dir, f))
		}
		if d.hasTMCI {
			paths = append(paths, filepath.Join(d.dir, ConfigFileName))
		}
	}
	type result struct {
		file  *hcl.File
		diags hcl.Diagnostics
	}
	results := make([]result, len(paths))
	var g errgroup.Group
	next := atomic.Int64{}
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return nil
				}
				f, diags := parseFile(paths[i], l.fileName(paths[i]))
				results[i] = result{f, diags}
			}
		})
	}
	_ = g.Wait() // the workers return no errors
	for i, p := range paths {
		l.record(p, results[i].file, results[i].diags)
	}
}

// parse parses a config file once; later calls return the cached result.
// It returns nil when the file cannot be read or does not parse.
func (l *loader) parse(fsPath string) *hcl.File {
	if f, ok := l.parsed[fsPath]; ok {
		return f
	}
	f, diags := parseFile(fsPath, l.fileName(fsPath))
	return l.record(fsPath, f, diags)
}

// record caches the outcome of parsing fsPath and keeps its diagnostics.
func (l *loader) record(fsPath string, f *hcl.File, diags hcl.Diagnostics) *hcl.File {
	l.diags = append(l.diags, diags...)
	l.parsed[fsPath] = f
	return f
}

// MaxConfigSize is the largest config file tmci reads. Real Terramate and
// tmci.hcl files are a few KiB; a larger one is generated or misplaced
// data, and parsing it would cost seconds and hundreds of MiB.
const MaxConfigSize = 4 << 20

// maxFileDiags bounds the diagnostics reported for one file: a binary or
// badly broken file would otherwise print thousands of lines.
const maxFileDiags = boundedhcl.MaxDiags

// parseFile reads and parses one config file, known in diagnostics as
// name. It reads regular files only (a committed link to /dev/zero or a
// FIFO is an error, never a hang) of up to MaxConfigSize, and refuses
// nesting that would exhaust the parser's stack. It returns a nil file on
// any error. It is safe for concurrent use.
func parseFile(fsPath, name string) (*hcl.File, hcl.Diagnostics) {
	start := &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}
	fail := func(summary, detail string) (*hcl.File, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: start}}
	}
	src, err := repofile.Read(fsPath, MaxConfigSize)
	switch {
	case errors.Is(err, repofile.ErrTooLarge):
		return fail("Config file too large", err.Error()+". Split it, or rename it so its name does not end in .tm or .tm.hcl.")
	case errors.Is(err, repofile.ErrNotRegular):
		return fail("Not a regular file", err.Error()+". Config files are regular files; remove it, or rename it so its name does not end in .tm or .tm.hcl.")
	case err != nil:
		return fail("Unreadable config file", err.Error()+".")
	}
	if bytes.IndexByte(src, 0) >= 0 || !utf8.Valid(src) {
		return fail("Not a text file", name+" holds binary data or is not UTF-8 text. Config files are HCL text; rename this file so its name does not end in .tm or .tm.hcl.")
	}
	return boundedhcl.ParseConfig(src, name)
}

// fileName is the name a file is known by in diagnostics: relative to the
// root, slash-separated.
func (l *loader) fileName(fsPath string) string {
	if pp, ok := projectPath(l.p.Root, fsPath); ok {
		return strings.TrimPrefix(pp, "/")
	}
	return fsPath
}

// loadDir parses the Terramate files of one directory into a dirConfig.
func (l *loader) loadDir(dir, projPath string, files []string) {
	dc := &dirConfig{path: projPath}
	own := map[string]*globalDef{}
	for _, name := range files {
		f := l.parse(filepath.Join(dir, name))
		if f == nil {
			continue
		}
		body := f.Body.(*hclsyntax.Body)
		for _, attr := range body.Attributes {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unexpected attribute",
				Detail:   "Terramate config files hold blocks only; move " + attr.Name + " into a globals block.",
				Subject:  attr.NameRange.Ptr(),
			})
		}
		for _, block := range body.Blocks {
			switch block.Type {
			case "stack":
				l.stackBlock(dc, block)
			case "globals":
				for _, g := range l.globalsBlock(block, projPath) {
					key := g.key()
					if prev, dup := own[key]; dup {
						l.diags = append(l.diags, &hcl.Diagnostic{
							Severity: hcl.DiagError,
							Summary:  "Duplicate global",
							Detail:   "global." + key + " is already defined in this directory at " + prev.rng.String() + "; keep one definition.",
							Subject:  g.rng.Ptr(),
						})
						continue
					}
					own[key] = g
					dc.globals = append(dc.globals, g)
				}
			case "terramate":
				dc.runEnv = append(dc.runEnv, runEnvAttrs(block)...)
			case "input":
				// Terramate's outputs-sharing input: experimental too.
				l.experimental = append(l.experimental, block)
				l.sharing = append(l.sharing, sharingBlock{dc, block})
			case "import":
				imported := l.importBlock(block, dir, projPath, []string{filepath.Join(dir, name)})
				dc.globals = append(imported, dc.globals...)
			default:
				if _, ok := experimentalBlocks[block.Type]; ok {
					l.experimental = append(l.experimental, block)
				}
				if block.Type == "sharing_backend" || block.Type == "output" {
					l.sharing = append(l.sharing, sharingBlock{dc, block})
				}
				if !terramateBlocks[block.Type] {
					l.diags = append(l.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Unsupported block type",
						Detail:   "Terramate has no block named " + block.Type + "; remove it or check its spelling.",
						Subject:  block.TypeRange.Ptr(),
					})
				}
			}
		}
	}
	// Own definitions override imported ones of the same name: keep the last.
	dc.globals = dedupeGlobals(dc.globals)
	l.p.dirs[projPath] = dc
	if dc.stack != nil {
		l.p.byPath[projPath] = dc.stack
		l.p.Stacks = append(l.p.Stacks, dc.stack)
	}
}

// dedupeGlobals keeps, for every key, the last definition in gs.
func dedupeGlobals(gs []*globalDef) []*globalDef {
	last := make(map[string]int, len(gs))
	for i, g := range gs {
		last[g.key()] = i
	}
	if len(last) == len(gs) {
		return gs
	}
	out := gs[:0:0]
	for i, g := range gs {
		if last[g.key()] == i {
			out = append(out, g)
		}
	}
	return out
}

// finishStacks sorts the stacks and checks ids for uniqueness.
func (l *loader) finishStacks() {
	stacks := l.p.Stacks
	sort.Slice(stacks, func(i, j int) bool { return stacks[i].Path < stacks[j].Path })
	seen := map[string]*Stack{}
	for _, s := range stacks {
		if s.ID == "" {
			continue
		}
		key := strings.ToLower(s.ID)
		if prev, ok := seen[key]; ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate stack id",
				Detail:   "Stack " + s.Path + " has id " + quote(s.ID) + ", which stack " + prev.Path + " already uses (ids are compared ignoring case). Give each stack its own id.",
				Subject:  s.ranges["id"].Ptr(),
			})
			continue
		}
		seen[key] = s
	}
}

// readTerramateConfig reads terramate.config.git and
// terramate.config.experiments from the root directory and checks its
// terramate.required_version.
func (l *loader) readTerramateConfig() {
	for fsPath, f := range l.parsed {
		if f == nil || filepath.Dir(fsPath) != l.p.Root {
			continue
		}
		for _, tm := range f.Body.(*hclsyntax.Body).Blocks {
			if tm.Type != "terramate" {
				continue
			}
			l.readRequiredVersion(tm)
			l.readExperiments(tm)
			for _, git := range nestedBlocks(tm, "config", "git") {
				for name, attr := range git.Body.Attributes {
					var dst *string
					switch name {
					case "default_branch":
						dst = &l.p.Git.DefaultBranch
					case "default_remote":
						dst = &l.p.Git.DefaultRemote
					default:
						continue
					}
					if s, ok := l.literalString(attr); ok {
						*dst = s
					}
				}
			}
		}
	}
}

// literalString evaluates attr with functions only and wants a string.
func (l *loader) literalString(attr *hclsyntax.Attribute) (string, bool) {
	v, diags := attr.Expr.Value(&hcl.EvalContext{Functions: l.p.funcs})
	if diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return "", false
	}
	if v.IsNull() || !v.IsKnown() || v.Type().FriendlyName() != "string" {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + attr.Name,
			Detail:   attr.Name + " must be a string.",
			Subject:  attr.Expr.Range().Ptr(),
		})
		return "", false
	}
	return v.AsString(), true
}

func quote(s string) string { return `"` + s + `"` }
