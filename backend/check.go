package backend

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/project"
)

// CheckOptions selects what Check covers. The zero value checks every
// stack in every declared environment.
type CheckOptions struct {
	// Envs holds the environment names to check ("prod", "pr-7"). Empty
	// means every declared environment, each pattern probed with two
	// sample names. With names, the other environments are evaluated too,
	// to prove they differ, but their own problems are not reported.
	Envs []string
	// Stacks limits the stacks whose problems are reported; nil means
	// every stack. Shared state is still looked for among all stacks.
	Stacks []*project.Stack
	// Parallel bounds how many stacks are evaluated at once; 0 means
	// GOMAXPROCS.
	Parallel int
}

// Report is the outcome of Check.
type Report struct {
	// Diags holds every problem found, in a stable order.
	Diags hcl.Diagnostics
	// Stacks is the number of reported stacks that have a backend.
	Stacks int
	// Envs names the environments reported on, a pattern with its
	// sample names: "prod", "pr-* (probed as pr-x1, pr-y2)".
	Envs []string

	stacks  []*project.Stack
	probes  []probe
	results []stackResult
}

// Configs returns the resolved backends of the reported stacks in the
// checked environment env, in stack order; stacks without a backend or
// whose evaluation failed are left out.
func (r *Report) Configs(env string) []*Config {
	var out []*Config
	for i, p := range r.probes {
		if p.name != env || !p.report {
			continue
		}
		for _, res := range r.results {
			if res.report && res.configs != nil && res.configs[i] != nil {
				out = append(out, res.configs[i])
			}
		}
	}
	return out
}

// probe is one environment name to evaluate every stack with.
type probe struct {
	env    *project.Environment
	name   string
	report bool
	sample bool // a made-up name for a pattern environment
}

func (p probe) label() string {
	if p.sample {
		return fmt.Sprintf("%s (probed as %q)", p.env.Name, p.name)
	}
	return p.name
}

// stackResult is what Check learns about one stack.
type stackResult struct {
	report  bool
	configs []*Config // by probe; nil entries failed
	ids     []Identity
	diags   hcl.Diagnostics
}

// Check resolves the backend of every stack in the selected environments
// and runs the isolation checks of DESIGN.md §2:
//
//  1. within one environment no two stacks share a state object;
//  2. for every stack, every two environments use different state
//     objects (a pattern environment is probed with two sample names);
//  3. every value respects its backend type's limits;
//  4. every stack's Terraform code declares a backend block of the
//     template's type.
//
// Every problem is a diagnostic; evaluation errors (an unset env.X) are
// reported too. Every stack is evaluated, in parallel, even when
// opts.Stacks narrows the report, since a selected stack can share state
// with any other: the cost is O(stacks × environments) evaluations plus one
// read of each stack's Terraform files. The error is non-nil only when ctx
// ends.
func (r *Resolver) Check(ctx context.Context, opts CheckOptions) (*Report, error) {
	rep := &Report{stacks: r.p.Stacks}
	var diags hcl.Diagnostics
	if len(r.p.TMCI.Environments) == 0 && len(r.p.TMCI.Backends) > 0 {
		b := r.p.TMCI.Backends[0]
		rep.Diags = hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Backend without environments",
			Detail:   "A backend template is evaluated per environment, and the root tmci.hcl declares none. Add environment \"prod\" {} (and the others) to the root tmci.hcl.",
			Subject:  b.DeclRange.Ptr(),
		}}
		return rep, nil
	}
	rep.probes, diags = r.probes(opts.Envs)
	if diags.HasErrors() {
		rep.Diags = diags
		return rep, nil
	}
	rep.Envs = envLabels(rep.probes)
	report := map[string]bool{}
	for _, s := range opts.Stacks {
		report[s.Path] = true
	}
	rep.results = make([]stackResult, len(r.p.Stacks))
	g, gctx := errgroup.WithContext(ctx)
	limit := opts.Parallel
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(limit)
	for i, s := range r.p.Stacks {
		if r.p.TMCI.BackendFor(s.Path) == nil {
			continue
		}
		res := &rep.results[i]
		res.report = opts.Stacks == nil || report[s.Path]
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			r.checkStack(s, rep.probes, res)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("checking backends: %w", err)
	}
	var f folder
	for i := range rep.results {
		res := &rep.results[i]
		if res.report && res.configs != nil {
			rep.Stacks++
		}
		for _, d := range res.diags {
			f.add(d)
		}
	}
	for _, d := range rep.crossEnv() {
		f.add(d)
	}
	rep.Diags = append(diags, f.diags()...)
	rep.Diags = append(rep.Diags, rep.shared()...)
	return rep, nil
}

// envLabels names the reported probes' environments for people.
func envLabels(probes []probe) []string {
	var out []string
	at := map[*project.Environment]int{}
	for _, p := range probes {
		switch {
		case !p.report:
		case !p.sample:
			out = append(out, p.name)
		default:
			if i, ok := at[p.env]; ok {
				out[i] = strings.TrimSuffix(out[i], ")") + ", " + p.name + ")"
				continue
			}
			at[p.env] = len(out)
			out = append(out, p.env.Name+" (probed as "+p.name+")")
		}
	}
	return out
}

// probes returns the environments to evaluate for the names asked.
func (r *Resolver) probes(names []string) ([]probe, hcl.Diagnostics) {
	var out []probe
	var diags hcl.Diagnostics
	asked := map[string]bool{}
	for _, n := range names {
		e, err := r.p.TMCI.Match(n)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid environment", Detail: err.Error() + "."})
			continue
		}
		if !asked[n] {
			asked[n] = true
			out = append(out, probe{env: e, name: n, report: true})
		}
	}
	for _, e := range r.p.TMCI.Environments {
		if !e.Pattern {
			if !asked[e.Name] {
				out = append(out, probe{env: e, name: e.Name, report: len(names) == 0})
			}
			continue
		}
		for _, n := range r.samples(e) {
			if !asked[n] {
				out = append(out, probe{env: e, name: n, report: len(names) == 0, sample: true})
			}
		}
	}
	return out, diags
}

// samples returns two names pattern environment e matches, for probing:
// each wildcard filled with different text, so a template that ignores
// environment.name gives both the same state.
func (r *Resolver) samples(e *project.Environment) []string {
	fills := [][2]string{{"x1", "x"}, {"y2", "y"}, {"q7", "q"}, {"z9", "z"}, {"k3", "k"}}
	var out []string
	for _, f := range fills {
		n := strings.NewReplacer("*", f[0], "?", f[1]).Replace(e.Name)
		if m, err := r.p.TMCI.Match(n); err == nil && m == e {
			out = append(out, n)
			if len(out) == 2 {
				break
			}
		}
	}
	return out
}

// checkStack resolves stack s for every probe and runs checks 3 and 4.
func (r *Resolver) checkStack(s *project.Stack, probes []probe, res *stackResult) {
	sc := r.p.Scope(s)
	res.configs = make([]*Config, len(probes))
	res.ids = make([]Identity, len(probes))
	// Read the code of every stack: its literal backend attributes take
	// part in the identity even when its own problems are not reported.
	code, codeDiags := r.StackCode(s)
	var attrs map[string]cty.Value
	if code != nil {
		attrs = code.Attrs
	}
	if res.report {
		res.diags = append(res.diags, codeDiags...)
	}
	for i, p := range probes {
		c, d := r.resolve(sc, p.env, p.name)
		if p.report && res.report {
			res.diags = append(res.diags, d...)
		}
		if c == nil {
			continue
		}
		res.configs[i] = c
		res.ids[i] = c.Identity(attrs)
		if p.report && res.report {
			res.diags = append(res.diags, c.Limits(attrs)...)
		}
	}
	if code != nil && res.report {
		res.diags = append(res.diags, backendBlockDiags(s, r.p.TMCI.BackendFor(s.Path), code)...)
	}
}

// StackCode reads the backend block of stack s's Terraform code.
func (r *Resolver) StackCode(s *project.Stack) (*Code, hcl.Diagnostics) {
	return ReadCode(r.p.FSPath(s.Path), r.fileName)
}

// fileName names a file in diagnostics: relative to the root when inside.
func (r *Resolver) fileName(fsPath string) string {
	if pp, ok := r.p.ProjectPath(fsPath); ok {
		return strings.TrimPrefix(pp, "/")
	}
	return fsPath
}

// backendBlockDiags is check 4: the stack's code must declare a backend
// block of the template's type, or terraform ignores -backend-config.
func backendBlockDiags(s *project.Stack, tpl *project.Backend, code *Code) hcl.Diagnostics {
	switch {
	case code.Cloud:
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cloud block instead of a backend",
			Detail: fmt.Sprintf("Stack %s uses terraform { cloud {} }, which -backend-config cannot configure, while tmci.hcl (%s) gives it a %s backend. Replace the cloud block with backend %q {}.",
				s.Path, tpl.DeclRange, tpl.Type, tpl.Type),
			Subject: code.Range.Ptr(),
		}}
	case code.Type == "":
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Missing backend block",
			Detail: fmt.Sprintf("Stack %s declares no terraform { backend %q {} } block in its *.tf files, so terraform would ignore -backend-config and keep the state in a local file. Add terraform { backend %q {} } to a .tf file of the stack.",
				s.Path, tpl.Type, tpl.Type),
			Subject: tpl.TypeRange.Ptr(),
			Extra:   fold{"no backend block", s.Path},
		}}
	case code.Type != tpl.Type:
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Backend type mismatch",
			Detail: fmt.Sprintf("Stack %s declares backend %q, but the tmci.hcl template (%s) is %q, so its -backend-config attributes do not fit. Use the same type in both.",
				s.Path, code.Type, tpl.DeclRange, tpl.Type),
			Subject: code.Range.Ptr(),
		}}
	}
	return nil
}

// crossEnv is check 2: for each stack, two environments that resolve to
// the same state object. Diagnostics fold per pair of environment blocks,
// so pr-7 against both samples of pr-* is one problem.
func (rep *Report) crossEnv() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for si, res := range rep.results {
		if !res.report || res.configs == nil {
			continue
		}
		for i := range rep.probes {
			for j := i + 1; j < len(rep.probes); j++ {
				a, b := rep.probes[i], rep.probes[j]
				if !a.report && !b.report {
					continue
				}
				ca, cb := res.configs[i], res.configs[j]
				if ca == nil || cb == nil || res.ids[i].Key() != res.ids[j].Key() {
					continue
				}
				c := ca
				if !a.report {
					c = cb
				}
				subj, where := c.primarySubject()
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "State shared between environments",
					Detail: fmt.Sprintf("Stack %s resolves to the same state (%s) in environments %s and %s: one would overwrite the other's state. Include ${environment.name} in %s%s.",
						rep.stacks[si].Path, res.ids[i], a.label(), b.label(), specs[c.Type].primary, where),
					Subject: subj,
					Extra:   fold{"env " + a.env.Name + "," + b.env.Name, rep.stacks[si].Path},
				})
			}
		}
	}
	return diags
}

// shared is check 1: stacks that share a state object within one
// environment. Each group is one diagnostic naming every stack.
func (rep *Report) shared() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for pi, p := range rep.probes {
		if !p.report {
			continue
		}
		groups := map[string][]int{}
		var order []string
		for si, res := range rep.results {
			if res.configs == nil || res.configs[pi] == nil {
				continue
			}
			k := res.ids[pi].Key()
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], si)
		}
		for _, k := range order {
			g := groups[k]
			reported := false
			for _, si := range g {
				reported = reported || rep.results[si].report
			}
			if len(g) < 2 || !reported {
				continue
			}
			paths := make([]string, len(g))
			for i, si := range g {
				paths[i] = rep.stacks[si].Path
			}
			first := rep.results[g[0]]
			c := first.configs[pi]
			subj, where := c.primarySubject()
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Shared state",
				Detail: fmt.Sprintf("In environment %s, stacks %s all resolve to the same state (%s): they would overwrite each other. Include ${terramate.stack.path.relative} (or the stack id) in %s%s.",
					p.label(), listStacks(paths), first.ids[pi], specs[c.Type].primary, where),
				Subject: subj,
			})
		}
	}
	return diags
}

// listStacks names up to five stacks and counts the rest.
func listStacks(paths []string) string {
	const show = 5
	if len(paths) <= show {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:show], ", "), len(paths)-show)
}

// folder merges diagnostics that repeat for many stacks with one cause
// (they carry the same fold key and subject) into the first one, noting
// how many more stacks it concerns. Others pass through in order, exact
// repeats dropped.
type folder struct {
	out    hcl.Diagnostics
	seen   map[string]int          // fold key -> index in out
	stacks map[int]map[string]bool // index in out -> stacks concerned
}

func (f *folder) add(d *hcl.Diagnostic) {
	if f.seen == nil {
		f.seen, f.stacks = map[string]int{}, map[int]map[string]bool{}
	}
	at := ""
	if d.Subject != nil {
		at = "@" + d.Subject.String()
	}
	k, ok := d.Extra.(fold)
	if !ok {
		// Drop exact repeats, such as a constant's error in every stack.
		key := "\x00" + d.Summary + "\x00" + d.Detail + at
		if _, dup := f.seen[key]; !dup {
			f.seen[key] = len(f.out)
			f.out = append(f.out, d)
		}
		return
	}
	key := k.key + at
	i, ok := f.seen[key]
	if !ok {
		i = len(f.out)
		f.seen[key] = i
		f.stacks[i] = map[string]bool{}
		f.out = append(f.out, d)
	}
	f.stacks[i][k.stack] = true
}

func (f *folder) diags() hcl.Diagnostics {
	for i, stacks := range f.stacks {
		n := len(stacks) - 1
		if n <= 0 {
			continue
		}
		d := *f.out[i]
		d.Detail += fmt.Sprintf(" The same holds for %d more %s.", n, plural(n, "stack", "stacks"))
		f.out[i] = &d
	}
	return f.out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
