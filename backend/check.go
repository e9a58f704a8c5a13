package backend

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/project"
	"github.com/tmci/tmci/tf"
)

// CheckOptions selects what Check covers. The zero value checks every
// stack in every declared environment.
type CheckOptions struct {
	// Envs holds the environment names to check ("prod", "pr-7"). Empty
	// means every declared environment, each pattern probed with sample
	// names (probe.go). With names, the other environments are evaluated
	// too, to prove they differ, but their own problems are not reported.
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
	// Diags holds every problem found, in a stable order: what tmci
	// check reports. It is RunDiags and the problems of StackDiags.
	Diags hcl.Diagnostics
	// RunDiags holds the problems that make a whole run unsafe: shared
	// state, an unknown environment, a template that cannot be evaluated
	// or breaks a limit, TF_WORKSPACE. A run refuses to start on an error
	// here.
	RunDiags hcl.Diagnostics
	// StackDiags holds, by stack path, the problems of a reported stack's
	// own Terraform code, for the stacks with an error among them: files
	// that do not parse or cannot be read, a backend block that is
	// missing, of another type, or declared twice. Such a stack must not
	// run, since terraform would not use the backend tmci checked (or the
	// state object it would use is unknown), but it endangers no other:
	// its identity takes part in the shared-state check only where the
	// template alone fixes it (see checkStack). A run fails these stacks
	// alone.
	StackDiags map[string]hcl.Diagnostics
	// Stacks is the number of reported stacks that have a backend.
	Stacks int
	// Envs names the environments reported on: "prod", and a pattern
	// with the number of sample names it was probed with, "pr-* (probed
	// with 8 sample names)".
	Envs []string
	// Collisions holds every set of pairs that share one state object
	// and include a reported pair.
	Collisions []Collision

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
	// unknown is true, by probe, for an identity that depends on
	// attributes the stack's unreadable code could set: such a pair is
	// left out of the shared-state check.
	unknown []bool
	// diags are the run-wide problems; code the problems of the stack's
	// own code (ReadCode) and block those of its backend block (check
	// 4). Only reported stacks and probes fill them.
	code, diags, block hcl.Diagnostics
}

// codeProblems returns the problems of the stack's own Terraform code.
func (res *stackResult) codeProblems() hcl.Diagnostics {
	return append(res.code[:len(res.code):len(res.code)], res.block...)
}

// Check resolves the backend of every stack in the selected environments
// and runs the isolation checks of docs/architecture.md:
//
//  1. no two (stack, environment) pairs share a state object, compared
//     in canonical form (canon.go) over all pairs at once: within one
//     environment, across environments, and across both (collisions);
//     pattern environments are probed with sample names (probe.go);
//  3. every value respects its backend type's limits;
//  4. every stack's Terraform code declares a backend block of the
//     template's type;
//
// and refuses TF_WORKSPACE (tf.CheckWorkspaceEnv). Every problem is a
// diagnostic; evaluation errors (an unset env.X) are reported too. Every
// stack is evaluated, in parallel, even when opts.Stacks narrows the
// report, since a selected stack can share state with any other: the cost
// is O(stacks × probes) evaluations and hash inserts plus one read of each
// stack's Terraform files. The error is non-nil only when ctx ends.
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
		rep.RunDiags = rep.Diags
		return rep, nil
	}
	rep.probes, diags = r.probes(opts.Envs)
	if diags.HasErrors() {
		rep.Diags, rep.RunDiags = diags, diags
		return rep, nil
	}
	// tmci owns the workspace (see tf.WorkspaceEnv).
	getenv := func(k string) string { v, _ := r.lookupEnv(k); return v }
	if err := tf.CheckWorkspaceEnv(getenv); err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Workspace set by " + tf.WorkspaceEnv,
			Detail:   err.Error() + ".",
		})
	}
	if len(opts.Envs) == 0 {
		diags = append(diags, r.ambiguousJoins()...)
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
	// Both lists fold alike; Diags keeps each stack's problems in the
	// order they were found: its code, its evaluations, its block.
	var all, run folder
	rep.StackDiags = map[string]hcl.Diagnostics{}
	for i := range rep.results {
		res := &rep.results[i]
		if res.report && res.configs != nil {
			rep.Stacks++
		}
		for _, d := range res.code {
			all.add(d)
		}
		for _, d := range res.diags {
			all.add(d)
			run.add(d)
		}
		for _, d := range res.block {
			all.add(d)
		}
		if code := res.codeProblems(); code.HasErrors() {
			rep.StackDiags[r.p.Stacks[i].Path] = code
		}
	}
	collisions := rep.collisions()
	rep.Diags = append(append(diags[:len(diags):len(diags)], all.diags()...), collisions...)
	rep.RunDiags = append(append(diags[:len(diags):len(diags)], run.diags()...), collisions...)
	return rep, nil
}

// envLabels names the reported probes' environments for people: a
// pattern with the number of sample names it was probed with.
func envLabels(probes []probe) []string {
	var out []string
	at := map[*project.Environment]int{}
	count := map[*project.Environment]int{}
	for _, p := range probes {
		switch {
		case !p.report:
		case !p.sample:
			out = append(out, p.name)
		default:
			if _, ok := at[p.env]; !ok {
				at[p.env] = len(out)
				out = append(out, "")
			}
			count[p.env]++
		}
	}
	for e, i := range at {
		out[i] = fmt.Sprintf("%s (probed with %d sample names)", e.Name, count[e])
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
		sampled := samples(e, r.p.TMCI.Match, r.nameUse(e))
		if len(sampled) < 2 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Pattern without valid names",
				Detail: fmt.Sprintf("No two valid environment names (^[a-z0-9][a-z0-9._-]{0,62}$, no \"..\") match pattern %q and no other environment block, so tmci cannot prove its environments isolated. Shorten the pattern's literal part or make it match names the other blocks do not.",
					e.Name),
				Subject: e.NameRange.Ptr(),
			})
			continue
		}
		for _, n := range sampled {
			if !asked[n] {
				out = append(out, probe{env: e, name: n, report: len(names) == 0, sample: true})
			}
		}
	}
	return out, diags
}

// checkStack resolves stack s for every probe and runs checks 3 and 4.
//
// A stack whose own code has a problem (it does not parse, its backend
// block is missing, of another type or declared twice) will not run, and
// the backend attributes its code would add are unknown: its identities
// are computed from the resolved configuration alone, and one that an
// attribute the configuration leaves unset could change (the code may set
// it) is marked unknown and left out of the shared-state check. A pair
// that takes part is compared as usual, since terraform merges
// -backend-config over the code: what the configuration sets is what the
// stack would use, whatever its code says.
func (r *Resolver) checkStack(s *project.Stack, probes []probe, res *stackResult) {
	sc := r.p.Scope(s)
	res.configs = make([]*Config, len(probes))
	res.ids = make([]Identity, len(probes))
	res.unknown = make([]bool, len(probes))
	// Read the code of every stack: its literal backend attributes take
	// part in the identity even when its own problems are not reported.
	code, codeDiags := r.StackCode(s)
	var block hcl.Diagnostics
	if !codeDiags.HasErrors() {
		// With a file unparsed, the block may well be in it: say only
		// what is certain.
		block = backendBlockDiags(s, r.p.TMCI.BackendFor(s.Path), code)
	}
	broken := codeDiags.HasErrors() || block.HasErrors()
	attrs := code.Attrs
	if broken {
		attrs = nil
	}
	if res.report {
		res.code, res.block = codeDiags, block
	}
	memo := stackMemo{}
	for i, p := range probes {
		c, d := r.resolveMemo(sc, p.env, p.name, memo)
		if p.report && res.report {
			res.diags = append(res.diags, d...)
		}
		if c == nil {
			continue
		}
		res.configs[i] = c
		var fromConfig bool
		res.ids[i], fromConfig = c.identity(attrs)
		res.unknown[i] = broken && !fromConfig
		if p.report && res.report {
			if broken {
				// Whether the code sets a required attribute is unknown.
				res.diags = append(res.diags, c.valueLimits()...)
			} else {
				res.diags = append(res.diags, c.Limits(attrs)...)
			}
		}
	}
}

// StackCode reads the backend block of stack s's Terraform code.
func (r *Resolver) StackCode(s *project.Stack) (*Code, hcl.Diagnostics) {
	return ReadCode(r.p.FSPath(s.Path), r.fileName)
}

// fileName names a file in diagnostics: relative to the root when
// inside, as one inert line (the name comes from the repository and the
// diagnostics reach consoles and CI annotations).
func (r *Resolver) fileName(fsPath string) string {
	if pp, ok := r.p.ProjectPath(fsPath); ok {
		return printable.String(strings.TrimPrefix(pp, "/"))
	}
	return printable.String(fsPath)
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

// Pair is one (stack, environment) pair of a Collision.
type Pair struct {
	Stack string `json:"stack"`
	// Env is the environment name; for a pattern environment, a sample
	// name Check made up.
	Env string `json:"environment"`
	// Block is the environment block's name: Env, or the pattern.
	Block string `json:"environment_block"`
	// At is the file:line of the template attribute that set the state's
	// primary identity attribute, or "--backend-config" for a flag.
	At string `json:"at"`
}

// Collision is a set of (stack, environment) pairs that resolve to one
// state object.
type Collision struct {
	Identity Identity
	Pairs    []Pair
}

// pairRef indexes one (stack, probe) pair of a Report.
type pairRef struct{ stack, probe int }

// collisions is check 1 over every pair at once: all (stack, probe) pairs
// are hashed by canonical identity, so the cost is O(stacks × probes)
// whatever the number of environments, and two pairs that share state are
// found whether they share the stack, the environment, or neither. A
// group with a reported pair becomes a Collision and diagnostics:
//
//   - stacks sharing state within one environment: "Shared state";
//   - one stack sharing state across environments: "State shared between
//     environments", once per pair of environments (folded over stacks);
//   - pairs joined by neither (stack eu-app in prod meets stack app in
//     prod-eu): "State shared across stacks and environments".
func (rep *Report) collisions() hcl.Diagnostics {
	groups := map[string][]pairRef{}
	var order []string
	for si, res := range rep.results {
		if res.configs == nil {
			continue
		}
		for pi := range rep.probes {
			if res.configs[pi] == nil || res.unknown[pi] {
				continue
			}
			k := res.ids[pi].Key()
			g, ok := groups[k]
			if !ok {
				order = append(order, k)
			}
			groups[k] = append(g, pairRef{si, pi})
		}
	}
	var diags hcl.Diagnostics
	var f folder
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 || !rep.anyReported(g) {
			continue
		}
		first := rep.results[g[0].stack].configs[g[0].probe]
		col := Collision{Identity: rep.results[g[0].stack].ids[g[0].probe]}
		for _, pr := range g {
			col.Pairs = append(col.Pairs, rep.pair(pr))
		}
		rep.Collisions = append(rep.Collisions, col)
		diags = append(diags, rep.sharedInEnv(g)...)
		for _, d := range rep.sharedAcrossEnvs(g) {
			f.add(d)
		}
		for _, d := range rep.sharedAcross(g, first) {
			f.add(d)
		}
	}
	return append(f.diags(), diags...)
}

func (rep *Report) reported(pr pairRef) bool {
	return rep.results[pr.stack].report && rep.probes[pr.probe].report
}

// orient returns a and b with a reported pair first; ok is false when
// neither is reported.
func (rep *Report) orient(a, b pairRef) (pairRef, pairRef, bool) {
	if !rep.reported(a) {
		a, b = b, a
	}
	return a, b, rep.reported(a)
}

func (rep *Report) anyReported(g []pairRef) bool {
	for _, pr := range g {
		if rep.reported(pr) {
			return true
		}
	}
	return false
}

func (rep *Report) config(pr pairRef) *Config { return rep.results[pr.stack].configs[pr.probe] }

func (rep *Report) pair(pr pairRef) Pair {
	c := rep.config(pr)
	at := "--backend-config"
	if subj, _ := c.primarySubject(); subj != nil {
		at = fmt.Sprintf("%s:%d", subj.Filename, subj.Start.Line)
	}
	p := rep.probes[pr.probe]
	return Pair{Stack: rep.stacks[pr.stack].Path, Env: p.name, Block: p.env.Name, At: at}
}

// setAt names the template attributes that set the primary identity
// attribute of prs when they are not all one, so that every line to fix is
// named: " (set at tmci.hcl:3 for /a in prod, sub/tmci.hcl:2 for /b in
// prod)".
func (rep *Report) setAt(prs ...pairRef) string {
	var sites []string
	seen := map[string]bool{}
	for _, pr := range prs {
		p := rep.pair(pr)
		if !seen[p.At] {
			seen[p.At] = true
			sites = append(sites, fmt.Sprintf("%s for %s in %s", p.At, p.Stack, p.Env))
		}
	}
	if len(sites) < 2 {
		return ""
	}
	return " (set at " + strings.Join(sites, ", ") + ")"
}

// groupBy partitions g by key, keys in order of first appearance.
func groupBy(g []pairRef, key func(pairRef) int) (keys []int, groups map[int][]int) {
	groups = map[int][]int{}
	for i, pr := range g {
		k := key(pr)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	return keys, groups
}

func byStack(pr pairRef) int { return pr.stack }
func byProbe(pr pairRef) int { return pr.probe }

// sharedInEnv: per probe, the stacks of g in it.
func (rep *Report) sharedInEnv(g []pairRef) hcl.Diagnostics {
	probes, idx := groupBy(g, byProbe)
	var diags hcl.Diagnostics
	for _, pi := range probes {
		prs := pick(g, idx[pi])
		if len(prs) < 2 || !rep.probes[pi].report || !rep.anyReported(prs) {
			continue
		}
		paths := make([]string, len(prs))
		for i, pr := range prs {
			paths[i] = rep.stacks[pr.stack].Path
		}
		c := rep.config(prs[0])
		subj, where := c.primarySubject()
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Shared state",
			Detail: fmt.Sprintf("In environment %s, stacks %s all resolve to the same state (%s): they would overwrite each other. Include ${terramate.stack.path.relative} (or the stack id) in %s%s%s.",
				rep.probes[pi].label(), listStacks(paths), rep.results[prs[0].stack].ids[pi], specs[c.Type].primary, where, rep.setAt(prs...)),
			Subject: subj,
		})
	}
	return diags
}

// sharedAcrossEnvs: per stack, every two probes of g it appears in.
func (rep *Report) sharedAcrossEnvs(g []pairRef) hcl.Diagnostics {
	stacks, idx := groupBy(g, byStack)
	var diags hcl.Diagnostics
	for _, si := range stacks {
		prs := pick(g, idx[si])
		if !rep.results[si].report {
			continue
		}
		for i := range prs {
			for j := i + 1; j < len(prs); j++ {
				subjPair, other, ok := rep.orient(prs[i], prs[j])
				if !ok {
					continue
				}
				a, b := rep.probes[prs[i].probe], rep.probes[prs[j].probe]
				c := rep.config(subjPair)
				subj, where := c.primarySubject()
				fix := "Include ${environment.name} in"
				if a.env == b.env {
					// Two samples of one pattern: the name is there but cut
					// or transformed.
					fix = "Two names of " + a.env.Name + " meet: the template cuts or transforms the name. Keep all of it, or a hash of all of it (substr(sha256(environment.name), 0, 16)), in"
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "State shared between environments",
					Detail: fmt.Sprintf("Stack %s resolves to the same state (%s) in environments %s and %s: one would overwrite the other's state. %s %s%s%s.",
						rep.stacks[si].Path, rep.results[si].ids[prs[i].probe], a.label(), b.label(), fix, specs[c.Type].primary, where, rep.setAt(subjPair, other)),
					Subject: subj,
					Extra:   fold{"env " + a.env.Name + "," + b.env.Name, rep.stacks[si].Path},
				})
			}
		}
	}
	return diags
}

// pick returns the pairs of g at the indexes idx.
func pick(g []pairRef, idx []int) []pairRef {
	out := make([]pairRef, len(idx))
	for i, j := range idx {
		out[i] = g[j]
	}
	return out
}

// sharedAcross reports the pairs of g that share neither stack nor
// environment with one another, directly or through other pairs of g: the
// pairs form a graph joined by a common stack or probe, and one pair of
// the first component is named against one of every other component.
// Cost: O(len(g)).
func (rep *Report) sharedAcross(g []pairRef, first *Config) hcl.Diagnostics {
	_, stacks := groupBy(g, byStack)
	_, probes := groupBy(g, byProbe)
	comp := make([]int, len(g))
	for i := range comp {
		comp[i] = -1
	}
	var diags hcl.Diagnostics
	for start := range g {
		if comp[start] >= 0 {
			continue
		}
		comp[start] = start
		queue := []int{start}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, nbrs := range [][]int{stacks[g[i].stack], probes[g[i].probe]} {
				for _, j := range nbrs {
					if comp[j] < 0 {
						comp[j] = start
						queue = append(queue, j)
					}
				}
			}
			// Each stack's and probe's list is walked once.
			delete(stacks, g[i].stack)
			delete(probes, g[i].probe)
		}
		if start == 0 {
			continue
		}
		a, b, ok := rep.orient(g[0], g[start])
		if !ok {
			continue
		}
		pa, pb := rep.probes[a.probe], rep.probes[b.probe]
		c := rep.config(a)
		subj, where := c.primarySubject()
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "State shared across stacks and environments",
			Detail: fmt.Sprintf("Stack %s in environment %s and stack %s in environment %s resolve to the same state (%s): one would overwrite the other's state. Separate the environment name from the stack path by a character neither can hold, as in \"${environment.name}/${terramate.stack.path.relative}\", in %s%s%s.",
				rep.stacks[a.stack].Path, pa.label(), rep.stacks[b.stack].Path, pb.label(), rep.results[a.stack].ids[a.probe], specs[first.Type].primary, where, rep.setAt(a, b)),
			Subject: subj,
			Extra:   fold{"across " + pa.env.Name + "," + pb.env.Name, rep.stacks[a.stack].Path + "|" + rep.stacks[b.stack].Path},
		})
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
