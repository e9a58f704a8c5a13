package project

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/tmci/tmci/internal/projectpath"
)

// Inputs is an inputs { name = expr } block of a tmci.hcl outside an
// environment: terraform variables for the stacks of its subtree
// (DESIGN.md §8). Several blocks of one file merge; a name is declared
// once per file.
type Inputs struct {
	// Dir is the project path of the directory holding the tmci.hcl.
	Dir   string
	Attrs hclsyntax.Attributes
}

// inputNamePattern is what terraform accepts as a variable name; the
// name also becomes part of an environment variable, TF_VAR_<name>, so
// nothing else may pass.
var inputNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

// reservedInputNames are names terraform refuses for a variable: no
// stack can declare them, so an input of that name is a mistake.
var reservedInputNames = map[string]bool{
	"count": true, "depends_on": true, "for_each": true, "lifecycle": true,
	"locals": true, "providers": true, "source": true, "version": true,
}

// ValidateInputName returns why name cannot be an input, or nil. The
// prefix tmci_ is tmci's own: the variables tmci may pass itself
// (outputs sharing's are named by Terramate's input blocks, which a
// stack declares apart), so a project cannot shadow them.
func ValidateInputName(name string) error {
	switch {
	case !inputNamePattern.MatchString(name):
		return fmt.Errorf("%q is not a terraform variable name: use up to 128 letters, digits, '_' and '-', starting with a letter or '_'", name)
	case reservedInputNames[name]:
		return fmt.Errorf("terraform reserves the name %q: no variable can have it", name)
	case strings.HasPrefix(strings.ToLower(name), "tmci_"):
		return fmt.Errorf("names starting with tmci_ are tmci's own; rename %q", name)
	}
	return nil
}

// inputsBlock records an inputs {} block of the tmci.hcl in projPath,
// merging it with the file's earlier ones.
func (l *loader) inputsBlock(block *hclsyntax.Block, projPath string) {
	var in *Inputs
	for _, prev := range l.p.TMCI.Inputs {
		if prev.Dir == projPath {
			in = prev
		}
	}
	if in == nil {
		in = &Inputs{Dir: projPath, Attrs: hclsyntax.Attributes{}}
		l.p.TMCI.Inputs = append(l.p.TMCI.Inputs, in)
	}
	l.inputAttrs(block, in.Attrs)
}

// inputAttrs checks an inputs block and adds its attributes to into.
func (l *loader) inputAttrs(block *hclsyntax.Block, into hclsyntax.Attributes) {
	if len(block.Labels) > 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected inputs label",
			Detail:   "An inputs block takes no label; write inputs { name = value }.",
			Subject:  block.LabelRanges[0].Ptr(),
		})
		return
	}
	for _, b := range block.Body.Blocks {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   "An inputs block holds attributes only (name = value); write " + b.Type + " = { ... } for an object.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	for _, attr := range sortedAttrs(block.Body.Attributes) {
		if err := ValidateInputName(attr.Name); err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid input name",
				Detail:   err.Error() + ".",
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		if prev, ok := into[attr.Name]; ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate input",
				Detail:   fmt.Sprintf("The input %s is already set at %s; set it once per file (a subtree's tmci.hcl or an environment may override it).", attr.Name, prev.NameRange),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		into[attr.Name] = attr
	}
}

// InputsFor returns the input definitions that apply to the stack at
// project path dir in environment e (nil: none), by name: the nearest
// tmci.hcl's beat those above it, and e's beat them all.
func (c *Config) InputsFor(dir string, e *Environment) map[string]*hclsyntax.Attribute {
	out := map[string]*hclsyntax.Attribute{}
	// c.Inputs is sorted by Dir, so an ancestor comes before its
	// descendants and each nearer block overwrites.
	for _, in := range c.Inputs {
		if projectpath.IsBelow(dir, in.Dir) {
			for n, a := range in.Attrs {
				out[n] = a
			}
		}
	}
	if e != nil {
		for n, a := range e.Inputs {
			out[n] = a
		}
	}
	return out
}

// SortedInputNames returns the names of m in order.
func SortedInputNames(m map[string]*hclsyntax.Attribute) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SharedInput returns where the stack at project path stackPath declares
// Terramate's input "<name>" block: outputs sharing passes that
// variable, so a tmci.hcl input of the same name would fight it.
func (p *Project) SharedInput(stackPath, name string) (hcl.Range, bool) {
	for _, in := range p.SharedInputs(stackPath) {
		if in.Name == name {
			return in.DeclRange, true
		}
	}
	return hcl.Range{}, false
}
