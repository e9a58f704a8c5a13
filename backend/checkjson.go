package backend

import (
	"bytes"
	"encoding/json"

	"github.com/hashicorp/hcl/v2"
)

// CheckJSON is `tmci check --json`: every problem and every set of pairs
// that share state, machine-readably. Sensitive identity parts are
// redacted.
type CheckJSON struct {
	OK           bool            `json:"ok"`
	Stacks       int             `json:"stacks"`
	Environments []string        `json:"environments"`
	Problems     []ProblemJSON   `json:"problems"`
	Collisions   []CollisionJSON `json:"collisions"`
}

// ProblemJSON is one diagnostic; File and Line are those of the template
// attribute, empty and 0 for a problem without a place (a flag, a
// variable).
type ProblemJSON struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// CollisionJSON is one state object shared by several pairs.
type CollisionJSON struct {
	Type     string     `json:"type"`
	Identity []PartJSON `json:"identity"`
	Pairs    []Pair     `json:"pairs"`
}

// PartJSON is one canonical identity part.
type PartJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Note  string `json:"note,omitempty"`
}

// JSON renders the report as CheckJSON, indented.
func (r *Report) JSON() ([]byte, error) {
	out := CheckJSON{OK: !r.Diags.HasErrors(), Stacks: r.Stacks, Environments: r.Envs,
		Problems: []ProblemJSON{}, Collisions: []CollisionJSON{}}
	if out.Environments == nil {
		out.Environments = []string{}
	}
	for _, d := range r.Diags {
		p := ProblemJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			p.Severity = "warning"
		}
		if d.Subject != nil {
			p.File, p.Line, p.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out.Problems = append(out.Problems, p)
	}
	for _, c := range r.Collisions {
		cj := CollisionJSON{Type: c.Identity.Type, Pairs: c.Pairs}
		for _, p := range c.Identity.Parts {
			v := p.Value
			if p.Sensitive {
				v = Redacted
			}
			cj.Identity = append(cj.Identity, PartJSON{Name: p.Name, Value: v, Note: p.Note})
		}
		out.Collisions = append(out.Collisions, cj)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(out)
	return b.Bytes(), err
}
