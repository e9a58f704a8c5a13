package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/pflag"
	"github.com/tmci/tmci/project"
)

// stackJSON is a stack as tmci list --json prints it.
type stackJSON struct {
	Path        string   `json:"path"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	After       []string `json:"after"`
	Before      []string `json:"before"`
	Wants       []string `json:"wants"`
	WantedBy    []string `json:"wanted_by"`
	Watch       []string `json:"watch"`
}

func newStackJSON(s *project.Stack) stackJSON {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return stackJSON{
		Path:        s.Path,
		ID:          s.ID,
		Name:        s.Name,
		Description: s.Description,
		Tags:        nonNil(s.Tags),
		After:       nonNil(s.After),
		Before:      nonNil(s.Before),
		Wants:       nonNil(s.Wants),
		WantedBy:    nonNil(s.WantedBy),
		Watch:       nonNil(s.Watch),
	}
}

func (a *app) cmdList(args []string) int {
	fs := a.flags("list")
	asJSON := fs.Bool("json", false, "print a JSON array of stack objects")
	sel := selectionFlags(fs, true)
	sel.noWants = true
	changed := a.changedFlags(fs)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	p, stacks, waves, err := a.listStacks(fs, sel, changed)
	if err != nil {
		return a.fail("tmci list", err)
	}
	if changed.changed && (changed.why || *asJSON && waves == nil) {
		return a.printChanged(changed, p, stacks, *asJSON)
	}
	if *asJSON && waves != nil {
		return a.printJSON(newOrderedJSON(stacks, waves))
	}
	if *asJSON {
		out := make([]stackJSON, len(stacks))
		for i, s := range stacks {
			out[i] = newStackJSON(s)
		}
		return a.printJSON(out)
	}
	for _, s := range stacks {
		fmt.Fprintln(a.stdout, a.relPath(p, s.Path))
	}
	return exitOK
}

// listStacks is the selection of tmci list: the stacks to print, and with
// --run-order or --reverse their waves.
func (a *app) listStacks(fs *pflag.FlagSet, sel *selection, changed *changedFlags) (*project.Project, []*project.Stack, []int, error) {
	if fs.NArg() > 0 {
		return nil, nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := changed.check(); err != nil {
		return nil, nil, nil, err
	}
	p, stacks, err := a.loadSelected(sel, changed)
	if err != nil {
		return nil, nil, nil, err
	}
	stacks, waves, err := a.orderedStacks(p, sel, stacks)
	return p, stacks, waves, err
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) int {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(a.stderr, "tmci: writing JSON: %v\n", err)
		return exitFailure
	}
	return exitOK
}
