package main

import (
	"encoding/json"
	"fmt"

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
	changed := a.changedFlags(fs)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "tmci list: unexpected argument %q\n", fs.Arg(0))
		return exitFailure
	}
	if err := changed.check(); err != nil {
		fmt.Fprintf(a.stderr, "tmci list: %v\n", err)
		return exitFailure
	}
	p, stacks, code := a.loadSelected(sel, changed)
	if code != exitOK {
		return code
	}
	stacks, waves, ok := a.orderedStacks(p, sel, stacks)
	if !ok {
		return exitFailure
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
