package main

import "fmt"

// cmdGraph prints the ordering graph of the selected stacks: every
// selected stack, the stacks pulled in only to order them (drawn dashed),
// and every edge with its origin.
func (a *app) cmdGraph(args []string) int {
	fs := a.flags("graph")
	format := fs.String("format", "dot", "output `FORMAT`: dot (Graphviz), mermaid (Markdown) or json")
	sel := selectionFlags(fs, false)
	changed := a.changedFlags(fs)
	_ = fs.MarkHidden("why") // list's explanation; a graph gives no reasons
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "tmci graph: unexpected argument %q\n", fs.Arg(0))
		return exitFailure
	}
	switch *format {
	case "dot", "mermaid", "json":
	default:
		fmt.Fprintf(a.stderr, "tmci graph: unknown format %q: use dot, mermaid or json\n", *format)
		return exitFailure
	}
	if err := changed.check(); err != nil {
		fmt.Fprintf(a.stderr, "tmci graph: %v\n", err)
		return exitFailure
	}
	p, stacks, code := a.loadSelected(sel, changed)
	if code != exitOK {
		return code
	}
	x, stacks, ok := sel.grow(a, p, stacks)
	if !ok {
		return exitFailure
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return exitFailure
	}
	var err error
	switch *format {
	case "dot":
		err = g.WriteDOT(a.stdout)
	case "mermaid":
		err = g.WriteMermaid(a.stdout)
	default:
		err = g.WriteJSON(a.stdout)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "tmci graph: writing the graph: %v\n", err)
		return exitFailure
	}
	return exitOK
}
