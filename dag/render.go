package dag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The pictures draw an arrow from a stack to one that runs after it.
// Stacks pulled in only for ordering are dashed and grey; parent edges are
// dotted, after and before edges solid.

// WriteDOT writes the graph in Graphviz DOT.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph stacks {\n  node [shape=box];\n")
	for _, n := range g.Nodes() {
		fmt.Fprintf(&b, "  %s", dotQuote(n.Path))
		if !n.Selected {
			b.WriteString(` [style=dashed, color=gray50, fontcolor=gray50, tooltip="pulled in for ordering, not selected"]`)
		}
		b.WriteString(";\n")
	}
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "  %s -> %s [", dotQuote(e.From), dotQuote(e.To))
		if e.Origin == OriginParent {
			b.WriteString("style=dotted, ")
		}
		fmt.Fprintf(&b, "tooltip=%s];\n", dotQuote(e.describe()))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// describe says in words why an edge exists.
func (e Edge) describe() string {
	var s string
	switch e.Origin {
	case OriginParent:
		s = fmt.Sprintf("%s is nested in %s", e.To, e.From)
	case OriginInput:
		s = fmt.Sprintf("%s reads input %s from %s", e.DeclaredBy, e.Entry, e.From)
	default:
		s = fmt.Sprintf("%s has %s = %q", e.DeclaredBy, e.Origin, e.Entry)
	}
	if e.Range.Filename != "" {
		s += " (" + where(e.Range) + ")"
	}
	return s
}

// WriteMermaid writes the graph as a Mermaid flowchart, which GitHub and
// GitLab render in Markdown inside a ```mermaid block.
func (g *Graph) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	ids := make(map[string]string, len(g.nodes))
	pulled := false
	for i, n := range g.Nodes() {
		id := fmt.Sprintf("s%d", i)
		ids[n.Path] = id
		fmt.Fprintf(&b, "  %s[\"%s\"]", id, strings.ReplaceAll(n.Path, `"`, "#quot;"))
		if !n.Selected {
			b.WriteString(":::pulled")
			pulled = true
		}
		b.WriteByte('\n')
	}
	for _, e := range g.Edges() {
		arrow := "-->"
		if e.Origin == OriginParent {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", ids[e.From], arrow, ids[e.To])
	}
	if pulled {
		b.WriteString("  classDef pulled stroke-dasharray: 5 5,color:#777\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON is the machine-readable form of a Graph.
type JSON struct {
	// Nodes holds every stack in path order.
	Nodes []NodeJSON `json:"nodes"`
	// Edges holds every edge; From runs before To.
	Edges []EdgeJSON `json:"edges"`
	// Order holds the selected stacks in run order.
	Order []string `json:"order"`
	// Waves groups the selected stacks into waves that can run together.
	Waves [][]string `json:"waves"`
}

// NodeJSON is one stack of JSON.
type NodeJSON struct {
	Path     string `json:"path"`
	Selected bool   `json:"selected"`
	// Wave is the 1-based wave of a selected stack, 0 for pulled-in ones.
	Wave int `json:"wave,omitempty"`
}

// EdgeJSON is one edge of JSON.
type EdgeJSON struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Origin     string `json:"origin"`
	DeclaredBy string `json:"declared_by"`
	Entry      string `json:"entry,omitempty"`
	File       string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
}

// JSON returns the graph's machine-readable form.
func (g *Graph) JSON() JSON {
	out := JSON{Nodes: []NodeJSON{}, Edges: []EdgeJSON{}, Order: g.Order(), Waves: g.Waves()}
	for i, n := range g.Nodes() {
		out.Nodes = append(out.Nodes, NodeJSON{Path: n.Path, Selected: n.Selected, Wave: int(g.wave[i]) + 1})
	}
	for _, e := range g.Edges() {
		out.Edges = append(out.Edges, EdgeJSON{
			From: e.From, To: e.To, Origin: e.Origin.String(), DeclaredBy: e.DeclaredBy,
			Entry: e.Entry, File: e.Range.Filename, Line: e.Range.Start.Line,
		})
	}
	if out.Waves == nil {
		out.Waves = [][]string{}
	}
	return out
}

// WriteJSON writes g.JSON() as indented JSON.
func (g *Graph) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g.JSON())
}
