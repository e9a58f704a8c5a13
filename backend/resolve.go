// Package backend computes the backend configuration of every (stack,
// environment) pair from the tmci.hcl templates, checks that no two pairs
// share a state object, and renders the result for terraform.
//
// A Resolver is built once per command from the loaded project and the
// --backend-config values; it is safe for concurrent use as long as each
// goroutine uses its own project.Scope.
package backend

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/funcs"
	"github.com/tmci/tmci/project"
)

// Value is one resolved backend attribute.
type Value struct {
	// Val is the value without marks: a string, number, bool, or a list
	// of those.
	Val cty.Value
	// Sensitive is true for credential attribute names (SensitiveName)
	// and for values the template marks with sensitive().
	Sensitive bool
	// Range is the expression that defined the winning value: in a
	// template, an environment override or a --backend-config file. It
	// is the zero Range for a key=value flag.
	Range hcl.Range
}

// Config is the resolved backend of one stack in one environment.
type Config struct {
	Stack       *project.Stack
	Env         string // the environment name, never a pattern
	Environment *project.Environment
	Template    *project.Backend
	Type        string
	// Attrs maps attribute names to values. Attributes of a nested block
	// are named "block.attr", as in remote's "workspaces.name".
	Attrs map[string]Value

	stackDir string // the stack's filesystem path, for local paths
	canon    *canon // shared by the resolver's configs; nil: a fresh one
}

// Names returns the attribute names in rendering order: top-level
// attributes sorted, then each nested block's attributes sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Attrs))
	for n := range c.Attrs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		di, dj := strings.Contains(names[i], "."), strings.Contains(names[j], ".")
		if di != dj {
			return dj
		}
		return names[i] < names[j]
	})
	return names
}

// String returns the value of attribute name as a string, and whether it
// is set to a string, number or bool.
func (c *Config) String(name string) (string, bool) {
	v, ok := c.Attrs[name]
	if !ok {
		return "", false
	}
	return primitiveString(v.Val)
}

func primitiveString(v cty.Value) (string, bool) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), true
	case cty.Bool:
		if v.True() {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// Options tunes a Resolver. The zero value reads the process environment
// and has no overrides.
type Options struct {
	// LookupEnv reads one environment variable for env.*; nil means
	// os.LookupEnv. Only the variables an expression names are read.
	LookupEnv func(string) (string, bool)
	// BackendConfig holds the --backend-config values in command-line
	// order: "key=value" (a template evaluated per stack) or a file path
	// (relative to each stack's directory unless absolute).
	BackendConfig []string
}

// Resolver evaluates backend templates for stacks and environments.
type Resolver struct {
	p         *project.Project
	lookupEnv func(string) (string, bool)
	overrides []override

	mu    sync.Mutex
	files map[string]*fileResult // parsed --backend-config files by fs path

	// canon caches symlink lookups for canonical local paths.
	canon canon

	// exprs caches what eval learns from an expression's syntax alone
	// (hcl.Expression -> *exprInfo): templates are evaluated for every
	// stack and environment, their syntax analysed once.
	exprs sync.Map
}

// exprInfo is the syntax-only analysis of an expression.
type exprInfo struct {
	vars   []hcl.Traversal
	guards ranges

	// env and environment are true when the expression names them.
	env, environment bool

	// constant is set for an expression without variables (a literal,
	// or pure functions of literals): its value is the same everywhere,
	// so it is computed once.
	constant *constValue
}

type constValue struct {
	once  sync.Once
	val   cty.Value
	diags hcl.Diagnostics
}

func (r *Resolver) analyse(expr hcl.Expression) *exprInfo {
	if info, ok := r.exprs.Load(expr); ok {
		return info.(*exprInfo)
	}
	info := &exprInfo{vars: expr.Variables(), guards: guardedRanges(expr)}
	if len(info.vars) == 0 {
		info.constant = &constValue{}
	}
	for _, tr := range info.vars {
		info.env = info.env || tr.RootName() == "env"
		info.environment = info.environment || tr.RootName() == "environment"
	}
	actual, _ := r.exprs.LoadOrStore(expr, info)
	return actual.(*exprInfo)
}

// NewResolver returns a resolver for p. The diagnostics report malformed
// --backend-config values.
func NewResolver(p *project.Project, opts Options) (*Resolver, hcl.Diagnostics) {
	r := &Resolver{p: p, lookupEnv: opts.LookupEnv, files: map[string]*fileResult{}}
	if r.lookupEnv == nil {
		r.lookupEnv = os.LookupEnv
	}
	var diags hcl.Diagnostics
	r.overrides, diags = parseOverrides(opts.BackendConfig)
	return r, diags
}

// Project returns the project the resolver evaluates for.
func (r *Resolver) Project() *project.Project { return r.p }

// Resolve returns the backend of the scope's stack in environment envName
// (a name such as "pr-7", matched against the declared environments). It
// returns nil and no diagnostics when no backend template covers the stack.
func (r *Resolver) Resolve(sc *project.Scope, envName string) (*Config, hcl.Diagnostics) {
	e, err := r.p.TMCI.Match(envName)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid environment", Detail: err.Error() + "."}}
	}
	return r.resolve(sc, e, envName)
}

// resolve evaluates the template, the environment's override and the
// flags for environment e under the name envName. Only the winning
// definition of each attribute is evaluated, so an overridden template
// value cannot fail (on an unset env.X, say) where it does not count.
func (r *Resolver) resolve(sc *project.Scope, e *project.Environment, envName string) (*Config, hcl.Diagnostics) {
	return r.resolveMemo(sc, e, envName, nil)
}

// stackMemo holds the values of one stack's expressions that name neither
// env nor environment: they are the same in every environment, so Check
// evaluates them once per stack instead of once per probe. Not safe for
// concurrent use.
type stackMemo map[hcl.Expression]memoValue

type memoValue struct {
	val   cty.Value
	diags hcl.Diagnostics
}

// resolveMemo is resolve with the stack's memo (nil: none).
func (r *Resolver) resolveMemo(sc *project.Scope, e *project.Environment, envName string, memo stackMemo) (*Config, hcl.Diagnostics) {
	s := sc.Stack()
	tpl := r.p.TMCI.BackendFor(s.Path)
	if tpl == nil {
		return nil, nil
	}
	defs := map[string]definition{}
	diags := collect(defs, tpl.Body, "")
	if e.Backend != nil && r.overrideApplies(tpl) {
		diags = append(diags, collect(defs, e.Backend, "")...)
	}
	for _, o := range r.overrides {
		if o.expr != nil {
			defs[o.key] = definition{expr: o.expr, flag: o.key}
			continue
		}
		f, d := r.overrideFile(o.path, s.Path)
		diags = append(diags, d...)
		if f != nil {
			diags = append(diags, collect(defs, f.Body.(*hclsyntax.Body), "")...)
		}
	}
	ev := &evaluator{r: r, sc: sc, env: e, name: envName, envAttrs: map[string]cty.Value{}, envDiags: map[string]hcl.Diagnostics{}, memo: memo}
	c := &Config{Stack: s, Env: envName, Environment: e, Template: tpl, Type: tpl.Type, Attrs: map[string]Value{},
		stackDir: r.p.FSPath(s.Path), canon: &r.canon}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		diags = append(diags, ev.set(c, n, defs[n])...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return c, diags
}

// namePattern is what backend attribute and block names look like.
var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// invalidName reports a name that no rendered file could hold; the HCL
// parser lets some through (bytes that are not UTF-8).
func invalidName(name string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid attribute name",
		Detail:   fmt.Sprintf("%q is not a valid name; use letters, digits, '_' and '-', starting with a letter.", name),
		Subject:  rng.Ptr(),
	}
}

// definition is the expression that sets one attribute.
type definition struct {
	expr hcl.Expression
	// flag is the key of the --backend-config=key=value that set it, or
	// "" for a definition in a file.
	flag string
}

// collect records the attributes of b in defs, replacing earlier
// definitions, and the attributes of its nested blocks under "block."
// names.
func collect(defs map[string]definition, b *hclsyntax.Body, prefix string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for n, attr := range b.Attributes {
		if !namePattern.MatchString(n) {
			diags = append(diags, invalidName(n, attr.NameRange))
			continue
		}
		defs[prefix+n] = definition{expr: attr.Expr}
	}
	for _, blk := range b.Blocks {
		switch {
		case !namePattern.MatchString(blk.Type):
			diags = append(diags, invalidName(blk.Type, blk.TypeRange))
		case prefix != "":
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested block too deep",
				Detail:   "Backend blocks nest one level (remote's workspaces {}); move the attributes of " + blk.Type + " up.",
				Subject:  blk.TypeRange.Ptr(),
			})
		case len(blk.Labels) > 0:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unexpected block label",
				Detail:   "A nested backend block takes no label; write " + blk.Type + " { ... }.",
				Subject:  blk.LabelRanges[0].Ptr(),
			})
		default:
			diags = append(diags, collect(defs, blk.Body, blk.Type+".")...)
		}
	}
	return diags
}

// overrideApplies reports whether environments' backend {} overrides
// apply to template tpl. An override has no type label: it is written for
// the root template's type, so a subtree template of another type (a local
// backend under an s3 project) does not get attributes it cannot take.
// Without a root template, overrides apply everywhere.
func (r *Resolver) overrideApplies(tpl *project.Backend) bool {
	root := r.p.TMCI.BackendFor("/")
	return root == nil || root.Type == tpl.Type
}

// evaluator evaluates expressions for one stack and environment.
type evaluator struct {
	r    *Resolver
	sc   *project.Scope
	env  *project.Environment
	name string

	envAttrs map[string]cty.Value // evaluated environment attributes
	envDiags map[string]hcl.Diagnostics
	memo     stackMemo // may be nil
}

// set evaluates the definition d and stores it as attribute name of c. A
// null value leaves the attribute unset, which is how an environment
// override drops an attribute the template sets.
func (ev *evaluator) set(c *Config, name string, d definition) hcl.Diagnostics {
	v, diags := ev.eval(d.expr, true)
	rng := d.expr.Range()
	if d.flag != "" {
		// A flag is not a file: say which flag instead.
		rng = hcl.Range{}
		// Copies: a constant's diagnostics are shared between stacks.
		out := make(hcl.Diagnostics, len(diags))
		for i, e := range diags {
			c := *e
			if c.Subject != nil && c.Subject.Filename == flagFile {
				c.Detail = fmt.Sprintf("In --backend-config=%s=...: %s", d.flag, c.Detail)
				c.Subject, c.Context = nil, nil
			}
			out[i] = &c
		}
		diags = out
	}
	if diags.HasErrors() {
		return diags
	}
	v, marks := v.UnmarkDeep()
	if v.IsNull() {
		return diags
	}
	if !v.IsWhollyKnown() || !validValue(v) {
		detail := fmt.Sprintf("Backend attribute %s of stack %s is %s; use a string, number, bool or a list of those.", name, c.Stack.Path, friendlyType(v))
		if t := v.Type(); (t.IsObjectType() || t.IsMapType()) && !strings.Contains(name, ".") {
			detail += fmt.Sprintf(" Write a group of values as a block, %s { name = value }: tmci passes it on in the form the backend takes (s3's endpoints as endpoints = { ... }).", name)
		}
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid backend value",
			Detail:   detail,
			Subject:  subject(rng),
		})
	}
	_, marked := marks[funcs.Sensitive]
	c.Attrs[name] = Value{Val: v, Sensitive: marked || SensitiveName(name), Range: rng}
	return diags
}

func validValue(v cty.Value) bool {
	ty := v.Type()
	switch {
	case ty == cty.Number:
		return !v.AsBigFloat().IsInf() // no file or JSON can hold infinity
	case ty == cty.String || ty == cty.Bool:
		return true
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || !validValue(e) || !(e.Type().IsPrimitiveType()) {
				return false
			}
		}
		return true
	}
	return false
}

func friendlyType(v cty.Value) string {
	if !v.IsWhollyKnown() {
		return "not known"
	}
	name := v.Type().FriendlyName()
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// subject returns a pointer to rng, or nil for the zero range of a flag.
func subject(rng hcl.Range) *hcl.Range {
	if rng.Filename == "" {
		return nil
	}
	return rng.Ptr()
}

// ref is a reference to env.NAME or environment.NAME that cannot be
// satisfied: the variable is unset, or the environment has no such
// attribute.
type ref struct {
	root, name string
	rng        hcl.Range
	guarded    bool // inside try() or can()
}

// eval evaluates expr in the stack's scope with environment.* and env.*.
// withAttrs is false while evaluating an environment attribute, which may
// only use environment.name.
func (ev *evaluator) eval(expr hcl.Expression, withAttrs bool) (cty.Value, hcl.Diagnostics) {
	info := ev.r.analyse(expr)
	if c := info.constant; c != nil {
		c.once.Do(func() { c.val, c.diags = ev.sc.Eval(expr, nil) })
		return c.val, c.diags
	}
	if ev.memo != nil && !info.env && !info.environment {
		if m, ok := ev.memo[expr]; ok {
			return m.val, m.diags
		}
		v, d := ev.sc.Eval(expr, nil)
		ev.memo[expr] = memoValue{v, d}
		return v, d
	}
	var diags hcl.Diagnostics
	envVars := map[string]cty.Value{}
	envObj := map[string]cty.Value{"name": cty.StringVal(ev.name)}
	var missing []ref
	guards := info.guards
	for _, tr := range info.vars {
		root := tr.RootName()
		if root != "env" && root != "environment" {
			continue
		}
		name, ok := project.TraversalStep(tr)
		if !ok {
			if root == "environment" && withAttrs {
				// The whole object: evaluate every attribute.
				for n := range ev.env.Attrs {
					v, d := ev.envAttr(n)
					diags = append(diags, d...)
					envObj[n] = v
				}
				continue
			}
			if root == "env" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid env reference",
					Detail:   "Name one environment variable, as in env.AWS_REGION; tmci reads only the variables a template names.",
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
		}
		rng := tr.SourceRange()
		if root == "env" {
			if v, set := ev.r.lookupEnv(name); set && v != "" {
				envVars[name] = cty.StringVal(v)
			} else {
				missing = append(missing, ref{root, name, rng, guards.contain(rng)})
			}
			continue
		}
		if name == "name" || !ok {
			continue
		}
		if _, declared := ev.env.Attrs[name]; !declared || !withAttrs {
			missing = append(missing, ref{root, name, rng, guards.contain(rng)})
			continue
		}
		v, d := ev.envAttr(name)
		diags = append(diags, d...)
		envObj[name] = v
	}
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	// Only the namespaces the expression names are built: most template
	// attributes name one or none, and building objects dominates the
	// cost of evaluating thousands of stacks.
	var vars map[string]cty.Value
	if info.env || info.environment {
		vars = make(map[string]cty.Value, 2)
		if info.env {
			vars["env"] = cty.ObjectVal(envVars)
		}
		if info.environment {
			vars["environment"] = cty.ObjectVal(envObj)
		}
	}
	v, d := ev.sc.Eval(expr, vars)
	// Replace HCL's "Unsupported attribute" on a missing reference with
	// a message that says what is missing and how to fix it.
	var out hcl.Diagnostics
	for _, m := range missing {
		if !m.guarded {
			out = append(out, ev.missingDiag(m))
		}
	}
	for _, e := range d {
		if e.Severity == hcl.DiagError && e.Subject != nil && coveredBy(*e.Subject, missing) {
			continue
		}
		out = append(out, e)
	}
	scrub(out, envVars, envObj)
	if out.HasErrors() {
		return cty.DynamicVal, append(diags, out...)
	}
	return v, append(diags, out...)
}

// scrub replaces, in HCL's messages (which quote arguments: `cannot
// convert "hunter2" to number`), the values of environment variables
// (any may hold a credential) and every string of an environment
// attribute marked sensitive() (its mark does not reach HCL's message)
// with Redacted. Unmarked values shorter than four bytes are left, as
// replacing them would garble the message for nothing.
func scrub(diags hcl.Diagnostics, envVars, envAttrs map[string]cty.Value) {
	var secrets []string
	for _, v := range envVars {
		if s := v.AsString(); len(s) >= 4 {
			secrets = append(secrets, s)
		}
	}
	for _, v := range envAttrs {
		if !v.IsWhollyKnown() {
			continue
		}
		u, marks := v.UnmarkDeep()
		if _, marked := marks[funcs.Sensitive]; marked {
			secrets = append(secrets, stringsOf(u)...)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, d := range diags {
		for _, s := range secrets {
			if s != "" {
				d.Summary = strings.ReplaceAll(d.Summary, s, Redacted)
				d.Detail = strings.ReplaceAll(d.Detail, s, Redacted)
			}
		}
	}
}

func (ev *evaluator) missingDiag(m ref) *hcl.Diagnostic {
	s := ev.sc.Stack().Path
	if m.root == "env" {
		at := fmt.Sprintf(" (at %s)", m.rng)
		if m.rng.Filename == flagFile {
			at = ""
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unset environment variable",
			Detail: fmt.Sprintf("Stack %s needs env.%s%s, but the variable %s is not set or is empty. Set it, or give a default with try(env.%s, \"...\").",
				s, m.name, at, m.name, m.name),
			Subject: m.rng.Ptr(),
			Extra:   fold{"env." + m.name, s},
		}
	}
	if _, declared := ev.env.Attrs[m.name]; declared {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid environment reference",
			Detail:   fmt.Sprintf("An environment attribute may use environment.name only, not environment.%s.", m.name),
			Subject:  m.rng.Ptr(),
		}
	}
	known := make([]string, 0, len(ev.env.Attrs)+1)
	known = append(known, "name")
	for n := range ev.env.Attrs {
		known = append(known, n)
	}
	sort.Strings(known[1:])
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unknown environment attribute",
		Detail: fmt.Sprintf("Environment %q (%s) has no attribute %q; it has %s. Declare it in every environment block, or write try(environment.%s, \"...\").",
			ev.env.Name, ev.env.DeclRange, m.name, strings.Join(known, ", "), m.name),
		Subject: m.rng.Ptr(),
		Extra:   fold{"environment." + m.name + "@" + ev.env.Name, s},
	}
}

// envAttr evaluates the environment attribute n once per evaluator.
func (ev *evaluator) envAttr(n string) (cty.Value, hcl.Diagnostics) {
	if v, ok := ev.envAttrs[n]; ok {
		return v, ev.envDiags[n]
	}
	v, d := ev.eval(ev.env.Attrs[n].Expr, false)
	if d.HasErrors() {
		v = cty.DynamicVal
	}
	ev.envAttrs[n], ev.envDiags[n] = v, d
	return v, d
}

// ranges is a set of source ranges.
type ranges []hcl.Range

func (rs ranges) contain(r hcl.Range) bool {
	for _, g := range rs {
		if g.Filename == r.Filename && g.Start.Byte <= r.Start.Byte && r.End.Byte <= g.End.Byte {
			return true
		}
	}
	return false
}

func coveredBy(r hcl.Range, refs []ref) bool {
	for _, m := range refs {
		if ranges([]hcl.Range{m.rng}).contain(r) {
			return true
		}
	}
	return false
}

// guardedRanges returns the ranges of the arguments of try() and can()
// calls in expr: a missing reference there is how users give defaults.
func guardedRanges(expr hcl.Expression) ranges {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var out ranges
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok {
			return nil
		}
		switch strings.TrimPrefix(call.Name, "tm_") {
		case "try", "can":
			for _, a := range call.Args {
				out = append(out, a.Range())
			}
		}
		return nil
	})
	return out
}

// fold marks a diagnostic that repeats for many stacks with the same
// cause (key); Check prints it once, saying how many more stacks it
// concerns.
type fold struct{ key, stack string }
