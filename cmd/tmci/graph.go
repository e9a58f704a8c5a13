package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

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
	if err := a.graph(fs, *format, sel, changed); err != nil {
		return a.fail("tmci graph", err)
	}
	return exitOK
}

// graph is tmci graph after its flags are parsed.
func (a *app) graph(fs *pflag.FlagSet, format string, sel *selection, changed *changedFlags) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch format {
	case "dot", "mermaid", "json":
	default:
		return fmt.Errorf("unknown format %q: use dot, mermaid or json", format)
	}
	if err := changed.check(); err != nil {
		return err
	}
	p, stacks, err := a.loadSelected(sel, changed)
	if err != nil {
		return err
	}
	x, stacks, err := sel.grow(a, p, stacks)
	if err != nil {
		return err
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return errPrinted
	}
	switch format {
	case "dot":
		err = g.WriteDOT(a.stdout)
	case "mermaid":
		err = g.WriteMermaid(a.stdout)
	default:
		err = g.WriteJSON(a.stdout)
	}
	if err != nil {
		return fmt.Errorf("writing the graph: %w", err)
	}
	return nil
}
