package boundedhcl

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/json"
)

// ParseJSON checks src against MaxNesting and parses it as a JSON config
// file (*.tf.json) known as filename. The JSON parser recurses on each
// array and object, and a string holding "${" or "%{" is parsed as a
// template, by recursion too, when evaluated; so ParseJSON refuses, with
// a diagnostic at the offending byte, arrays and objects nested deeper
// than MaxNesting, and a template string that withinLimits does not pass
// (over MaxNesting bytes that can open a level, or MaxStatementTokens/2
// bytes long). On any error the file is nil.
func ParseJSON(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if d := checkJSON(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	f, diags := json.Parse(src, filename)
	diags = Truncate(diags, MaxDiags, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	return f, diags
}

// checkJSON returns the diagnostic for the first place src passes the
// limits of ParseJSON, or nil. It does not validate JSON: the parser does.
func checkJSON(src []byte, filename string) *hcl.Diagnostic {
	at := func(i int, summary, detail string) *hcl.Diagnostic {
		pos := hcl.InitialPos
		pos.Line += bytes.Count(src[:i], []byte("\n"))
		pos.Column = i - bytes.LastIndexByte(src[:i], '\n')
		pos.Byte = i
		end := pos
		end.Byte++
		end.Column++
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail,
			Subject: &hcl.Range{Filename: filename, Start: pos, End: end}}
	}
	depth := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '[', '{':
			if depth++; depth > MaxNesting {
				return at(i, "Too deeply nested", fmt.Sprintf("Arrays and objects nest over %d levels deep here; flatten the file.", MaxNesting))
			}
		case ']', '}':
			depth--
		case '"':
			start := i
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			if i > len(src) {
				i = len(src)
			}
			s := src[start+1 : i]
			if (bytes.Contains(s, []byte("${")) || bytes.Contains(s, []byte("%{"))) && !withinLimits(s) {
				return at(start, "Template too complex", fmt.Sprintf("This string's template is over %d bytes long or may nest over %d levels deep; split it.", MaxStatementTokens/2, MaxNesting))
			}
		}
	}
	return nil
}
