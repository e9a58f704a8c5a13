package project

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/tmci/tmci/internal/repofile"
)

// importKey names the globals one imported file defines for one
// directory.
type importKey struct{ file, projPath string }

// importBlock resolves an import block found in a file of fromDir and
// returns the globals the imported files define for directory projPath,
// each key once. chain holds the files being imported, to detect cycles.
//
// What a file yields for a directory is computed once and kept in
// l.imported, so a diamond (two files importing a third, at every level)
// costs O(files × globals), not O(2^levels). Keeping each key's last
// definition at every level gives what keeping it once over the full
// expansion would.
func (l *loader) importBlock(block *hclsyntax.Block, fromDir, projPath string, chain []string) []*globalDef {
	attr, ok := block.Body.Attributes["source"]
	if !ok || len(block.Body.Attributes) != 1 || len(block.Body.Blocks) > 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid import",
			Detail:   `An import block holds exactly one attribute, source = "<file or glob>".`,
			Subject:  block.DefRange().Ptr(),
		})
		return nil
	}
	src, ok := l.literalString(attr)
	if !ok {
		return nil
	}
	var pattern string
	if strings.HasPrefix(src, "/") {
		pattern = filepath.Join(l.p.Root, filepath.FromSlash(src))
	} else {
		pattern = filepath.Join(fromDir, filepath.FromSlash(src))
	}
	if _, inside := projectPath(l.p.Root, pattern); !inside {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Import outside the project",
			Detail:   fmt.Sprintf("The import source %q leaves the project root; import files from inside the repository.", src),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return nil
	}
	matches, err := filepath.Glob(pattern)
	if err != nil || len(matches) == 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Import not found",
			Detail:   fmt.Sprintf("No file matches the import source %q. Fix the path: an absolute source starts at the project root, a relative one at the importing file's directory.", src),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return nil
	}
	sort.Strings(matches)
	var defs []*globalDef
	for _, m := range matches {
		if target, err := l.root.Inside(m); errors.Is(err, repofile.ErrOutside) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Import outside the project",
				Detail:   fmt.Sprintf("The import source %q matches %s, which resolves to %s through a symbolic link. Import files from inside the repository.", src, l.fileName(m), target),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		for i, c := range chain {
			if c == m {
				names := make([]string, 0, len(chain)-i+1)
				for _, f := range append(chain[i:], m) {
					names = append(names, l.fileName(f))
				}
				// The files of a cycle are config of their own directories
				// too, so the same loop is met from several entry points:
				// report it once.
				key := append([]string(nil), names[1:]...)
				sort.Strings(key)
				if l.cycles[strings.Join(key, "\x00")] {
					return defs
				}
				l.cycles[strings.Join(key, "\x00")] = true
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Import cycle",
					Detail:   "The files import each other in a loop: " + strings.Join(names, " -> ") + ". Remove one of the imports.",
					Subject:  attr.Expr.Range().Ptr(),
				})
				return defs
			}
		}
		key := importKey{m, projPath}
		if done, ok := l.imported[key]; ok {
			defs = append(defs, done...)
			continue
		}
		f := l.parse(m)
		if f == nil {
			continue
		}
		var fileDefs []*globalDef
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "stack":
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Imported stack block",
					Detail:   fmt.Sprintf("%s declares a stack and cannot be imported; declare stacks in their own directory.", l.fileName(m)),
					Subject:  b.DefRange().Ptr(),
				})
			case "globals":
				fileDefs = append(fileDefs, l.globalsBlock(b, projPath)...)
			case "import":
				fileDefs = append(fileDefs, l.importBlock(b, filepath.Dir(m), projPath, append(chain, m))...)
			}
		}
		fileDefs = dedupeGlobals(fileDefs)
		l.imported[key] = fileDefs
		defs = append(defs, fileDefs...)
	}
	return dedupeGlobals(defs)
}
