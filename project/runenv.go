package project

import (
	"path"
	"sort"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// nestedBlocks returns the blocks reached from b by the block types path,
// e.g. nestedBlocks(tm, "config", "run", "env"), in source order.
func nestedBlocks(b *hclsyntax.Block, path ...string) []*hclsyntax.Block {
	level := []*hclsyntax.Block{b}
	for _, typ := range path {
		var next []*hclsyntax.Block
		for _, parent := range level {
			for _, child := range parent.Body.Blocks {
				if child.Type == typ {
					next = append(next, child)
				}
			}
		}
		level = next
	}
	return level
}

// runEnvAttrs returns the attributes of the terramate.config.run.env
// blocks inside one terramate block.
func runEnvAttrs(tm *hclsyntax.Block) []*hclsyntax.Attribute {
	var out []*hclsyntax.Attribute
	for _, env := range nestedBlocks(tm, "config", "run", "env") {
		for _, attr := range env.Body.Attributes {
			out = append(out, attr)
		}
	}
	return out
}

// RunEnv returns the terramate { config { run { env { ... } } } }
// attributes that apply to the stack at projectPath, unevaluated, sorted
// by name: the root's, overridden per name by those of each directory
// down to the stack's own, as Terramate merges them. Evaluate each with
// Scope.Eval and an env namespace holding the process environment.
func (p *Project) RunEnv(projectPath string) []*hclsyntax.Attribute {
	var dirs []string
	for d := projectPath; ; d = path.Dir(d) {
		dirs = append(dirs, d)
		if d == "/" {
			break
		}
	}
	byName := map[string]*hclsyntax.Attribute{}
	for i := len(dirs) - 1; i >= 0; i-- {
		if dc := p.dirs[dirs[i]]; dc != nil {
			for _, attr := range dc.runEnv {
				byName[attr.Name] = attr
			}
		}
	}
	out := make([]*hclsyntax.Attribute, 0, len(byName))
	for _, attr := range byName {
		out = append(out, attr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
