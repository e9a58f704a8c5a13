package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
)

// flagFile is the file name given to key=value templates while parsing;
// their diagnostics lose it again, since a flag is not a file.
const flagFile = "--backend-config"

// override is one --backend-config value.
type override struct {
	raw string
	// key and expr are set for key=value.
	key  string
	expr hcl.Expression
	// path is set for a file.
	path string
}

// parseOverrides parses --backend-config values: "key=value" is a
// template evaluated per stack; anything else is a file path.
func parseOverrides(values []string) ([]override, hcl.Diagnostics) {
	var out []override
	var diags hcl.Diagnostics
	for _, raw := range values {
		key, value, isKV := strings.Cut(raw, "=")
		if !isKV {
			if raw == "" {
				diags = append(diags, flagDiag("Empty --backend-config", "Give a file path or key=value."))
				continue
			}
			out = append(out, override{raw: raw, path: raw})
			continue
		}
		if !namePattern.MatchString(key) {
			diags = append(diags, flagDiag("Invalid --backend-config key",
				fmt.Sprintf("In --backend-config=%s=..., %q is not an attribute name; use key=value with a name such as key or bucket.", key, key)))
			continue
		}
		expr, d := hclsyntax.ParseTemplate([]byte(value), flagFile, hcl.InitialPos)
		if d.HasErrors() {
			for _, e := range d {
				diags = append(diags, flagDiag("Invalid --backend-config value",
					fmt.Sprintf("In --backend-config=%s=...: %s: %s", key, e.Summary, e.Detail)))
			}
			continue
		}
		out = append(out, override{raw: raw, key: key, expr: expr})
	}
	return out, diags
}

func flagDiag(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}

// fileResult is a parsed --backend-config file, shared by every stack
// whose directory resolves the path to it.
type fileResult struct {
	file  *hcl.File
	diags hcl.Diagnostics
}

// overrideFile reads the --backend-config file path for the stack at the
// project path stackPath: a relative path is resolved against the stack's
// directory and must stay inside the project; an absolute one is used as
// it is. Each file is parsed once.
func (r *Resolver) overrideFile(path, stackPath string) (*hcl.File, hcl.Diagnostics) {
	fsPath := path
	if !filepath.IsAbs(path) {
		fsPath = filepath.Join(r.p.FSPath(stackPath), path)
		if _, inside := r.p.ProjectPath(fsPath); !inside {
			return nil, hcl.Diagnostics{flagDiag("Backend config file outside the project",
				fmt.Sprintf("--backend-config=%s resolves to %s for stack %s, outside the project root %s. Relative paths are read from each stack's directory; give an absolute path to use a file outside the project.",
					path, fsPath, stackPath, r.p.Root))}
		}
		if target, err := repofile.Inside(r.p.Root, fsPath); errors.Is(err, repofile.ErrOutside) {
			return nil, hcl.Diagnostics{flagDiag("Backend config file outside the project",
				fmt.Sprintf("--backend-config=%s resolves to %s for stack %s, a symbolic link to %s outside the project root %s. Relative paths must stay inside the repository; give an absolute path to use a file outside it.",
					path, fsPath, stackPath, target, r.p.Root))}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.files[fsPath]; ok {
		return res.file, res.diags
	}
	res := &fileResult{}
	r.files[fsPath] = res
	src, err := repofile.Read(fsPath, project.MaxConfigSize)
	if err != nil {
		detail := fmt.Sprintf("--backend-config=%s: cannot read %s for stack %s: %v.", path, fsPath, stackPath, err)
		if errors.Is(err, fs.ErrNotExist) {
			detail = fmt.Sprintf("--backend-config=%s resolves to %s for stack %s, which does not exist. Relative paths are read from each stack's directory; create the file there or give an absolute path.", path, fsPath, stackPath)
		}
		res.diags = hcl.Diagnostics{flagDiag("Unreadable backend config file", detail)}
		// A missing file is per stack: do not cache the message of another.
		delete(r.files, fsPath)
		return nil, res.diags
	}
	name := fsPath
	if pp, inside := r.p.ProjectPath(fsPath); inside {
		name = strings.TrimPrefix(pp, "/")
	}
	f, diags := boundedhcl.ParseConfig(src, name)
	if diags.HasErrors() {
		res.diags = diags
		return nil, diags
	}
	res.file = f
	return f, nil
}
