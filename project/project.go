// Package project loads a Terramate project as it is on disk: its stacks,
// globals, imports, git settings and tmci.hcl files.
//
// Loading parses every config file once and validates stack blocks and
// tmci.hcl; globals are evaluated lazily, per stack, by a Scope. A Project is
// immutable after Load and safe for concurrent use; a Scope is not.
package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
)

// Project is a loaded Terramate project.
type Project struct {
	// Root is the absolute, clean filesystem path of the project root.
	Root string
	// Stacks holds every stack, sorted by Path.
	Stacks []*Stack
	// Git holds terramate.config.git settings, with defaults applied.
	Git GitConfig
	// TMCI holds what the tmci.hcl files declare; never nil.
	TMCI *Config
	// RequiredVersion is the root's terramate.required_version, or nil.
	RequiredVersion *RequiredVersion

	funcs  map[string]function.Function
	dirs   map[string]*dirConfig
	byPath map[string]*Stack

	// stacks caches terramate.stacks.list; a pointer, so that a copy of
	// the Project shares it.
	stacks *lazyValue
	// configured is true when some directory holds a Terramate file or
	// a tmci.hcl.
	configured bool
}

// Configured reports whether the project holds any configuration: a
// Terramate file (*.tm, *.tm.hcl) or a tmci.hcl anywhere below the root.
// A git repository without one is no Terramate project at all, which a
// command should say rather than succeed doing nothing.
func (p *Project) Configured() bool { return p.configured }

// lazyValue is a value computed once, on first use, by any goroutine.
type lazyValue struct {
	once sync.Once
	v    cty.Value
}

// GitConfig is the terramate { config { git { ... } } } block of the root.
type GitConfig struct {
	DefaultBranch string
	DefaultRemote string
}

// Options tunes Load. The zero value is ready to use.
type Options struct {
	// Funcs is the function table to evaluate expressions with. Nil means
	// funcs.Table(); pass one table to share it between several loads.
	Funcs map[string]function.Function
}

// FindRoot returns the project root for dir, as Terramate finds it: the
// nearest directory at or above dir whose config holds a
// terramate { config { ... } } block, when there is one inside the git
// repository; else the git top-level (the nearest directory holding a .git
// entry); else, outside any git repository, the nearest such directory
// above dir. A root below the git top-level is how a Terramate project
// nested in a larger repository (like examples/ here) is used on its own.
//
// Outside a git repository with no such block, or when the root would be
// the filesystem root, FindRoot fails: loading would walk every file of
// the machine.
func FindRoot(dir string) (string, error) {
	return checkRoot(findRoot(dir))
}

func findRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", errors.New(abs + " is not a directory")
	}
	configRoot := ""
	for d := abs; ; {
		if configRoot == "" && hasRootConfig(d) {
			configRoot = d
		}
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			if configRoot != "" {
				return configRoot, nil
			}
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			if configRoot != "" {
				return configRoot, nil
			}
			return "", fmt.Errorf("%s is not in a git repository and no directory above it holds a terramate { config {} } block; run tmci inside a repository (git init), or add that block to the project's root directory", abs)
		}
		d = parent
	}
}

// checkRoot refuses the filesystem root as a project root.
func checkRoot(root string, err error) (string, error) {
	if err == nil && filepath.Dir(root) == root {
		return "", fmt.Errorf("the project root would be %s, the whole filesystem; run tmci in a repository below it", root)
	}
	return root, err
}

// hasRootConfig reports whether the Terramate files of dir declare a
// terramate { config { ... } } block. Files that do not parse are ignored
// here; Load reports them.
func hasRootConfig(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !(strings.HasSuffix(name, ".tm") || strings.HasSuffix(name, ".tm.hcl")) {
			continue
		}
		src, err := repofile.Read(filepath.Join(dir, name), MaxConfigSize)
		if err != nil || !bytes.Contains(src, []byte("terramate")) {
			continue
		}
		f, diags := boundedhcl.ParseConfig(src, name)
		if diags.HasErrors() {
			continue
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "terramate" {
				continue
			}
			for _, c := range b.Body.Blocks {
				if c.Type == "config" {
					return true
				}
			}
		}
	}
	return false
}

// Stack returns the stack at the project path p ("/stacks/app"), or nil.
func (p *Project) Stack(projectPath string) *Stack {
	return p.byPath[projectPath]
}

// StackOf returns the nearest stack whose directory holds the project path
// p (the stack itself, or an ancestor), or nil when p is in no stack.
func (p *Project) StackOf(projectPath string) *Stack {
	for d := projectPath; ; d = path.Dir(d) {
		if s := p.byPath[d]; s != nil {
			return s
		}
		if d == "/" {
			return nil
		}
	}
}

// Funcs returns the function table expressions are evaluated with.
func (p *Project) Funcs() map[string]function.Function { return p.funcs }

// ProjectPath converts an absolute filesystem path inside the root to a
// project path ("/a/b"). ok is false when fsPath is outside the root.
func (p *Project) ProjectPath(fsPath string) (string, bool) {
	return projectPath(p.Root, fsPath)
}

// FSPath converts a project path to an absolute filesystem path.
func (p *Project) FSPath(projectPath string) string {
	return filepath.Join(p.Root, filepath.FromSlash(projectPath))
}

func projectPath(root, fsPath string) (string, bool) {
	rel, err := filepath.Rel(root, fsPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return path.Clean("/" + filepath.ToSlash(rel)), true
}

// StacksBelow returns the stacks at or below project path dir, in path order.
func (p *Project) StacksBelow(dir string) []*Stack {
	i := sort.Search(len(p.Stacks), func(i int) bool { return p.Stacks[i].Path >= dir })
	var out []*Stack
	for ; i < len(p.Stacks); i++ {
		s := p.Stacks[i]
		if projectpath.IsBelow(s.Path, dir) {
			out = append(out, s)
		} else if !strings.HasPrefix(s.Path, dir) {
			break
		}
	}
	return out
}
