package project

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/tmci/tmci/internal/projectpath"
	"github.com/zclconf/go-cty/cty"
)

// BackendTypes are the backend types tmci knows how to isolate.
var BackendTypes = []string{"azurerm", "consul", "cos", "gcs", "http", "kubernetes", "local", "oss", "pg", "remote", "s3"}

// Config is what the tmci.hcl files of a project declare.
type Config struct {
	// Backends holds every backend template, sorted by Dir.
	Backends []*Backend
	// Environments holds the root's environment blocks in source order.
	Environments []*Environment
	// Inputs holds every inputs {} block outside environments, sorted by
	// Dir (see inputs.go).
	Inputs []*Inputs
}

// Backend is a backend "<type>" {} template of one tmci.hcl file.
type Backend struct {
	// Dir is the project path of the directory holding the tmci.hcl.
	Dir       string
	Type      string
	TypeRange hcl.Range
	DeclRange hcl.Range
	// Body holds the template's attributes and nested blocks, unevaluated.
	Body *hclsyntax.Body
}

// Environment is an environment "<name or glob>" {} block.
type Environment struct {
	// Name is the literal name, or the glob for a pattern environment.
	Name string
	// Pattern is true when Name holds * or ?.
	Pattern bool
	// Prefix is the literal part of Name before its first wildcard.
	Prefix    string
	Protected bool
	Ephemeral bool
	// Attrs holds the free attributes (account = "prod"), unevaluated.
	Attrs hclsyntax.Attributes
	// Backend is the nested backend {} override, or nil.
	Backend *hclsyntax.Body
	// Inputs holds the attributes of the environment's inputs {} blocks,
	// which override every other tmci.hcl's.
	Inputs    hclsyntax.Attributes
	NameRange hcl.Range
	DeclRange hcl.Range
}

var envNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateEnvName returns an error when name is not a valid environment name.
func ValidateEnvName(name string) error {
	if !envNamePattern.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("invalid environment name %q: use 1 to 63 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit, without \"..\"", name)
	}
	return nil
}

// Match returns the environment named name: an exact name beats a pattern,
// and among patterns the longest literal prefix wins (Load rejects patterns
// that could tie). It fails for invalid and unknown names, listing the
// known ones.
func (c *Config) Match(name string) (*Environment, error) {
	if err := ValidateEnvName(name); err != nil {
		return nil, err
	}
	var best *Environment
	for _, e := range c.Environments {
		if !e.Pattern {
			if e.Name == name {
				return e, nil
			}
			continue
		}
		if ok, _ := filepath.Match(e.Name, name); ok && (best == nil || len(e.Prefix) > len(best.Prefix)) {
			best = e
		}
	}
	if best != nil {
		return best, nil
	}
	known := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		known[i] = e.Name
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("unknown environment %q: no tmci.hcl declares an environment; add an environment %q {} block to the root tmci.hcl", name, name)
	}
	return nil, fmt.Errorf("unknown environment %q: the known environments are %s", name, strings.Join(known, ", "))
}

// BackendFor returns the nearest backend template at or above the project
// path dir, or nil when no tmci.hcl declares one.
func (c *Config) BackendFor(dir string) *Backend {
	var best *Backend
	for _, b := range c.Backends {
		if projectpath.IsBelow(dir, b.Dir) && (best == nil || len(b.Dir) > len(best.Dir)) {
			best = b
		}
	}
	return best
}

// loadTMCI parses a tmci.hcl file in directory projPath.
func (l *loader) loadTMCI(fsPath, projPath string) {
	f := l.parse(fsPath)
	if f == nil {
		return
	}
	body := f.Body.(*hclsyntax.Body)
	for _, attr := range sortedAttrs(body.Attributes) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected attribute",
			Detail:   "tmci.hcl holds backend, environment and inputs blocks only; remove " + attr.Name + ".",
			Subject:  attr.NameRange.Ptr(),
		})
	}
	var backend *Backend
	for _, block := range body.Blocks {
		switch block.Type {
		case "backend":
			b := l.backendBlock(block, projPath)
			if b == nil {
				continue
			}
			if backend != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate backend block",
					Detail:   fmt.Sprintf("This tmci.hcl already declares a backend at %s; declare one per file, and put subtree backends in a tmci.hcl of the subtree.", backend.DeclRange),
					Subject:  block.DefRange().Ptr(),
				})
				continue
			}
			backend = b
			l.p.TMCI.Backends = append(l.p.TMCI.Backends, b)
		case "inputs":
			l.inputsBlock(block, projPath)
		case "environment":
			if projPath != "/" {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Environment outside the root",
					Detail:   "Environments are declared in the root tmci.hcl only; move this block there.",
					Subject:  block.DefRange().Ptr(),
				})
				continue
			}
			if e := l.environmentBlock(block); e != nil {
				l.p.TMCI.Environments = append(l.p.TMCI.Environments, e)
			}
		default:
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported block type",
				Detail:   "tmci.hcl holds backend, environment and inputs blocks; remove the " + block.Type + " block or check its spelling.",
				Subject:  block.TypeRange.Ptr(),
			})
		}
	}
	sort.SliceStable(l.p.TMCI.Backends, func(i, j int) bool { return l.p.TMCI.Backends[i].Dir < l.p.TMCI.Backends[j].Dir })
	sort.SliceStable(l.p.TMCI.Inputs, func(i, j int) bool { return l.p.TMCI.Inputs[i].Dir < l.p.TMCI.Inputs[j].Dir })
}

func (l *loader) backendBlock(block *hclsyntax.Block, projPath string) *Backend {
	if len(block.Labels) != 1 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing backend type",
			Detail:   `A backend block takes one label, its type: backend "s3" { ... }.`,
			Subject:  block.DefRange().Ptr(),
		})
		return nil
	}
	typ := block.Labels[0]
	i := sort.SearchStrings(BackendTypes, typ)
	if i == len(BackendTypes) || BackendTypes[i] != typ {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown backend type",
			Detail:   fmt.Sprintf("tmci does not know the backend type %q; use one of %s.", typ, strings.Join(BackendTypes, ", ")),
			Subject:  block.LabelRanges[0].Ptr(),
		})
		return nil
	}
	return &Backend{Dir: projPath, Type: typ, TypeRange: block.LabelRanges[0], DeclRange: block.DefRange(), Body: block.Body}
}

func (l *loader) environmentBlock(block *hclsyntax.Block) *Environment {
	if len(block.Labels) != 1 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing environment name",
			Detail:   `An environment block takes one label, its name or glob: environment "prod" { ... }.`,
			Subject:  block.DefRange().Ptr(),
		})
		return nil
	}
	name := block.Labels[0]
	e := &Environment{
		Name:      name,
		Pattern:   strings.ContainsAny(name, "*?"),
		Attrs:     hclsyntax.Attributes{},
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange(),
	}
	e.Prefix = name
	if i := strings.IndexAny(name, "*?"); i >= 0 {
		e.Prefix = name[:i]
	}
	// A pattern is valid when the names it stands for can be valid:
	// check it with each wildcard replaced by a letter.
	if err := ValidateEnvName(strings.NewReplacer("*", "x", "?", "x").Replace(name)); err != nil || strings.ContainsAny(name, "[]\\") {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid environment name",
			Detail:   fmt.Sprintf("The environment name %q must be 1 to 63 characters from a-z, 0-9, '.', '_' and '-', start with a letter or digit and hold no \"..\"; a pattern may use * and ?.", name),
			Subject:  block.LabelRanges[0].Ptr(),
		})
		return nil
	}
	for _, attr := range sortedAttrs(block.Body.Attributes) {
		switch attr.Name {
		case "protected", "ephemeral":
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() || v.IsNull() || v.Type() != cty.Bool {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid " + attr.Name,
					Detail:   attr.Name + " must be true or false.",
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			if attr.Name == "protected" {
				e.Protected = v.True()
			} else {
				e.Ephemeral = v.True()
			}
		case "name":
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reserved environment attribute",
				Detail:   "environment.name is the --env value; rename this attribute.",
				Subject:  attr.NameRange.Ptr(),
			})
		default:
			e.Attrs[attr.Name] = attr
		}
	}
	for _, b := range block.Body.Blocks {
		if b.Type == "inputs" {
			if e.Inputs == nil {
				e.Inputs = hclsyntax.Attributes{}
			}
			l.inputAttrs(b, e.Inputs)
			continue
		}
		if b.Type != "backend" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported block type",
				Detail:   "An environment block holds attributes, one backend {} override and inputs {} blocks; remove the " + b.Type + " block.",
				Subject:  b.TypeRange.Ptr(),
			})
			continue
		}
		if len(b.Labels) > 0 {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unexpected backend label",
				Detail:   "An environment's backend override takes no label: its type is the template's. Write backend { ... }.",
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if e.Backend != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate backend block",
				Detail:   "An environment holds one backend override; merge the two.",
				Subject:  b.DefRange().Ptr(),
			})
			continue
		}
		e.Backend = b.Body
	}
	return e
}

// validate checks what needs every environment at once: duplicate names
// and patterns that could tie.
func (c *Config) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*Environment{}
	for _, e := range c.Environments {
		if prev, ok := seen[e.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate environment",
				Detail:   fmt.Sprintf("The environment %q is already declared at %s; declare it once.", e.Name, prev.DeclRange),
				Subject:  e.NameRange.Ptr(),
			})
			continue
		}
		seen[e.Name] = e
	}
	for i, a := range c.Environments {
		for _, b := range c.Environments[:i] {
			if !a.Pattern || !b.Pattern || a.Name == b.Name || len(a.Prefix) != len(b.Prefix) {
				continue
			}
			if globsOverlap(a.Name, b.Name) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Ambiguous environment patterns",
					Detail: fmt.Sprintf("The patterns %q and %q (declared at %s) can match the same name with literal prefixes of equal length, so neither wins. Make one prefix longer or declare the shared names exactly.",
						a.Name, b.Name, b.DeclRange),
					Subject: a.NameRange.Ptr(),
				})
			}
		}
	}
	return diags
}

// globsOverlap reports whether some string matches both globs, where * is
// any run of characters and ? any one character. It runs in O(len(a)*len(b))
// over the pairs of positions reachable in both patterns at once.
func globsOverlap(a, b string) bool {
	type state struct{ i, j int }
	seen := map[state]bool{}
	var visit func(i, j int) bool
	visit = func(i, j int) bool {
		s := state{i, j}
		if seen[s] {
			return false
		}
		seen[s] = true
		if i == len(a) && j == len(b) {
			return true
		}
		// A star may match nothing.
		if i < len(a) && a[i] == '*' && visit(i+1, j) {
			return true
		}
		if j < len(b) && b[j] == '*' && visit(i, j+1) {
			return true
		}
		if i == len(a) || j == len(b) {
			return false
		}
		// Consume one character that both positions accept.
		ca, cb := a[i], b[j]
		if ca != '*' && ca != '?' && cb != '*' && cb != '?' && ca != cb {
			return false
		}
		ni, nj := i+1, j+1
		if ca == '*' {
			ni = i
		}
		if cb == '*' {
			nj = j
		}
		return visit(ni, nj)
	}
	return visit(0, 0)
}
