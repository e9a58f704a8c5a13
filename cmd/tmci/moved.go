package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/changes"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/project"
)

// moveEffect is what a stack's move does to its state in one environment.
type moveEffect struct {
	env      string // an environment name (a pattern's sample name)
	pattern  string // the pattern env stands for, or ""
	old, now backend.Identity
	err      error // the identity could not be resolved
}

// label names the environment in messages: its name, or its pattern.
func (e moveEffect) label() string {
	if e.pattern != "" {
		return e.pattern
	}
	return e.env
}

// moved reports whether the state identity differs between the paths.
func (e moveEffect) moved() bool { return e.err == nil && e.old.Key() != e.now.Key() }

// moveEffects resolves, for every environment tmci.hcl declares, the
// state identity of the moved stack at its old path and at its new one.
// The old one is resolved in today's project with the stack placed at
// its old path (the template, globals and tmci.hcl of today, which is
// what the next run uses). nil without a backend template: the state is
// then wherever the stack's own code keeps it. A pattern environment is
// resolved for a sample name made from its pattern.
func (a *app) moveEffects(p *project.Project, m changes.Moved) []moveEffect {
	s := p.Stack(m.To)
	if s == nil || len(p.TMCI.Backends) == 0 {
		return nil
	}
	r, diags := backend.NewResolver(p, backend.Options{LookupEnv: func(k string) (string, bool) {
		v := a.getenv(k)
		return v, v != ""
	}})
	if diags.HasErrors() {
		return []moveEffect{{err: fmt.Errorf("the backend template does not load; run tmci check")}}
	}
	code, _ := r.StackCode(s)
	var attrs map[string]cty.Value
	if code != nil {
		attrs = code.Attrs
	}
	old := *s
	old.Path = m.From
	var out []moveEffect
	for _, e := range p.TMCI.Environments {
		eff := moveEffect{env: e.Name}
		if e.Pattern {
			eff.env, eff.pattern = strings.NewReplacer("*", "sample", "?", "x").Replace(e.Name), e.Name
		}
		name := eff.env
		cNow, dNow := r.Resolve(p.Scope(s), name)
		cOld, dOld := r.Resolve(p.Scope(&old), name)
		if dNow.HasErrors() || dOld.HasErrors() || cNow == nil || cOld == nil {
			eff.err = fmt.Errorf("the backend of %s does not resolve in %s; run tmci backend --env=%s --stack %s", m.To, name, name, m.To)
		} else {
			eff.now, eff.old = cNow.Identity(attrs), cOld.Identity(attrs)
		}
		out = append(out, eff)
	}
	return out
}

// moveSummary is the one-line verdict on a move's state for the warning
// every --changed command logs.
func moveSummary(effects []moveEffect) string {
	if effects == nil {
		return "no tmci.hcl backend template: the state is wherever the stack's code keeps it"
	}
	var moved []string
	for _, e := range effects {
		if e.moved() || e.err != nil {
			moved = append(moved, e.label())
		}
	}
	if len(moved) == 0 {
		return "its state identity is the same in every environment (the backend key does not use the path): nothing to do"
	}
	return "its state identity changes in " + strings.Join(moved, ", ") + " (the backend key uses the path): migrate the state before applying, see tmci list --changed --why"
}

// printMove writes the --why explanation of a move: per environment,
// whether the state follows, and the commands that carry it over when
// it does not (the old state is read from a worktree of the base
// revision, which still has the stack at its old path).
func (a *app) printMove(w io.Writer, p *project.Project, m changes.Moved, base string) {
	fmt.Fprintf(w, "%s (moved to %s)\n", printable.String(a.relPath(p, m.From)), a.relPath(p, m.To))
	fmt.Fprintf(w, "    stack id %q moved from %s to %s since %s\n", m.ID, printable.String(m.From), m.To, base[:12])
	effects := a.moveEffects(p, m)
	if effects == nil {
		fmt.Fprintf(w, "    %s\n", moveSummary(nil))
		return
	}
	worktree := ".tmci/base-" + base[:12]
	oldDir := worktree + m.From
	newDir := strings.TrimPrefix(m.To, "/")
	var migrate []moveEffect
	for _, e := range effects {
		switch {
		case e.err != nil:
			fmt.Fprintf(w, "    %s: %v\n", e.label(), e.err)
		case e.moved():
			fmt.Fprintf(w, "    %s: state orphaned: it was %s, it is now %s\n", e.label(), e.old, e.now)
			migrate = append(migrate, e)
		default:
			fmt.Fprintf(w, "    %s: state unchanged (%s): nothing to do\n", e.label(), e.now)
		}
	}
	if len(migrate) == 0 {
		return
	}
	fmt.Fprintf(w, "    to carry the state over, run at the project root before applying:\n")
	fmt.Fprintf(w, "        git worktree add %s %s\n", worktree, base)
	for _, e := range migrate {
		if e.pattern != "" {
			fmt.Fprintf(w, "        # for each environment matching %s that has state; %s stands for its name\n", e.pattern, e.env)
		}
		file := fmt.Sprintf("%s.%s.tfstate", strings.ReplaceAll(strings.TrimPrefix(m.From, "/"), "/", "_"), e.env)
		fmt.Fprintf(w, "        tmci -C %s exec --env=%s -- terraform init -input=false\n", oldDir, e.env)
		fmt.Fprintf(w, "        tmci -C %s exec --env=%s -- terraform state pull > %s\n", oldDir, e.env, file)
		fmt.Fprintf(w, "        tmci -C %s exec --env=%s -- terraform init -input=false\n", newDir, e.env)
		// exec runs in the stack's directory: name the file from there.
		up := strings.Repeat("../", strings.Count(newDir, "/")+1)
		fmt.Fprintf(w, "        tmci -C %s exec --env=%s -- terraform state push %s%s\n", newDir, e.env, up, file)
	}
	fmt.Fprintf(w, "        git worktree remove --force %s\n", worktree)
}
