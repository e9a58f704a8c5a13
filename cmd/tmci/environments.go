package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/statestore"
)

// envMarker stands for the environment name while the ledger's backend is
// resolved for a whole environment block; it is a valid name that no
// template produces by accident.
const envMarker = "tmci0marker0"

// environmentJSON is one environment of tmci environments --json.
type environmentJSON struct {
	Name      string `json:"name"`
	Ephemeral bool   `json:"ephemeral"`
	Protected bool   `json:"protected"`
	// Stacks counts the stacks the ledger records as applied.
	Stacks    int        `json:"stacks"`
	LastApply *time.Time `json:"last_apply,omitempty"`
}

// cmdEnvironments is tmci environments [--json]: the environments whose
// ledger exists, found by listing the backend (local, pg and s3), with their
// last apply, so that a nightly job can tear down stale previews.
func (a *app) cmdEnvironments(args []string) int {
	fs := a.flags("environments")
	bf := a.addBackendFlags(fs)
	asJSON := fs.Bool("json", false, "print the environments as JSON")
	names := fs.Bool("names", false, "print only the names, one a line (for scripts)")
	ephemeral := fs.Bool("ephemeral", false, "only the ephemeral environments")
	olderThan := fs.Duration("older-than", 0, "only the environments not applied for `DURATION` (168h: a week), or never")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if *olderThan < 0 {
		return a.fail("tmci environments", fmt.Errorf("--older-than must not be negative, not %s", *olderThan))
	}
	if fs.NArg() > 0 || *bf.env != "" {
		return a.fail("tmci environments", errors.New("tmci environments takes no arguments and no --env: it lists every environment"))
	}
	p, err := a.loadProject()
	if err != nil {
		return a.fail("tmci environments", err)
	}
	envs, err := a.environments(p, bf)
	if err != nil {
		return a.fail("tmci environments", err)
	}
	envs = filterEnvironments(envs, *ephemeral, *olderThan, time.Now())
	switch {
	case *asJSON:
		return a.printJSON(envs)
	case *names:
		for _, e := range envs {
			fmt.Fprintln(a.stdout, e.Name)
		}
		return exitOK
	}
	if err := a.printEnvironments(envs); err != nil {
		return a.fail("tmci environments", err)
	}
	return exitOK
}

// filterEnvironments keeps the ephemeral environments only when
// ephemeral is set, and with olderThan > 0 only those not applied since
// now - olderThan, or never.
func filterEnvironments(envs []environmentJSON, ephemeral bool, olderThan time.Duration, now time.Time) []environmentJSON {
	kept := envs[:0]
	cutoff := now.Add(-olderThan)
	for _, e := range envs {
		if ephemeral && !e.Ephemeral || olderThan > 0 && e.LastApply != nil && e.LastApply.After(cutoff) {
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

// printEnvironments prints envs as a table.
func (a *app) printEnvironments(envs []environmentJSON) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tEPHEMERAL\tSTACKS\tLAST APPLY")
	for _, e := range envs {
		last := "-"
		if e.LastApply != nil {
			last = e.LastApply.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%t\t%d\t%s\n", e.Name, e.Ephemeral, e.Stacks, last)
	}
	return tw.Flush()
}

// environments finds, for every environment block, the ledgers its
// backend holds. A block whose backend cannot be listed is said on
// stderr and skipped.
func (a *app) environments(p *project.Project, bf backendFlags) ([]environmentJSON, error) {
	res := a.resolver(p, bf)
	if res == nil {
		return nil, errPrinted
	}
	out := []environmentJSON{}
	for _, decl := range p.TMCI.Environments {
		found, err := a.blockEnvironments(p, res, decl)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// blockEnvironments finds the ledgers of the environments decl declares:
// its own for a name, every one its backend holds for a pattern.
func (a *app) blockEnvironments(p *project.Project, res *backend.Resolver, decl *project.Environment) ([]environmentJSON, error) {
	sample := decl.Name
	if decl.Pattern {
		if strings.Count(decl.Name, "*") != 1 || strings.Contains(decl.Name, "?") {
			fmt.Fprintf(a.stderr, "tmci environments: %s: only patterns with one * are listed\n", decl.Name)
			return nil, nil
		}
		sample = strings.Replace(decl.Name, "*", envMarker, 1)
	}
	cfg, diags, err := ledger.Resolve(res, sample)
	a.printDiags(p, diags)
	if err != nil {
		return nil, err
	}
	marker := sample
	if decl.Pattern {
		marker = envMarker
	}
	found, err := statestore.Find(a.ctx, cfg, p.FSPath(ledger.StackPath), marker, a.getenv)
	if errors.Is(err, statestore.ErrUnsupported) {
		fmt.Fprintf(a.stderr, "tmci environments: %s: tmci cannot list %s state objects by environment\n", decl.Name, cfg.Type)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", decl.Name, err)
	}
	var out []environmentJSON
	for _, f := range found {
		name := f.Name
		if decl.Pattern {
			name = strings.Replace(decl.Name, "*", f.Name, 1)
		}
		if m, err := p.TMCI.Match(name); err != nil || m != decl {
			continue // another block's environment
		}
		entries, err := ledger.FromState(f.Data)
		if err != nil {
			return nil, fmt.Errorf("the ledger of %s: %w", name, err)
		}
		out = append(out, summarize(name, decl, entries))
	}
	return out, nil
}

// summarize is the environment name of block decl as its ledger's
// entries describe it: how many stacks are applied, and when last.
func summarize(name string, decl *project.Environment, entries ledger.Entries) environmentJSON {
	e := environmentJSON{Name: name, Ephemeral: decl.Ephemeral, Protected: decl.Protected}
	for _, en := range entries {
		if en.Verb != ledger.Applied {
			continue
		}
		e.Stacks++
		if e.LastApply == nil || en.Time.After(*e.LastApply) {
			t := en.Time
			e.LastApply = &t
		}
	}
	return e
}
