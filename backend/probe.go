package backend

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/project"
)

// Probing pattern environments
//
// A pattern such as pr-* stands for up to 36^60 names; Check evaluates
// every stack with a few of them (samples) and compares the identities.
// The samples are chosen so that, for the templates below, two names of
// the pattern share state for one stack only if two samples do. Let A be
// the pattern's literal prefix and v = len(A) the first position a name
// can vary at; names are at most 63 characters.
//
//   - base, end, start: three names of maximum length (63) equal but for
//     the last variable character (end) or the first (start); start only
//     when the name reaches a transforming call (below), since plain
//     interpolation keeps every character.
//     substr(x, o, l) with o >= 0 on the name (or on a position-preserving
//     transform of it: lower, upper, one-character replace) either leaves
//     out position v (o > v: start collides with base), or ends before
//     position 62 (o+l < 63: end collides with base), or keeps the whole
//     variable part after a common literal prefix, and then it is
//     injective. A template that ignores the name makes all three collide.
//   - min: the shortest name (every * empty), which the name rule may
//     reject (then it is skipped).
//   - when the name reaches a function call that is not injective on names
//     (anything but lower, upper, md5, sha1, sha256, sha512, tostring):
//     min1 (the last * as "0"), separator names (the last * as "a-0",
//     "a_0", "a.0"; slug and character-class replaces map them onto one
//     another), and for every string literal s among that call's arguments
//     the names with the last * as "a"+s+"0", "a"+s, "a0", "a" and with
//     the first * as s' + A + "a" (s' = s without the prefix A):
//     trimsuffix(x, s) maps "a"+s onto "a", trimprefix(x, s) maps
//     s'+A+"a" onto A+"a", replace(x, s, r) maps "a"+s+"0" onto "a"+r+"0".
//   - for every other environment, a name sharing the longest prefix with
//     its declared name or literal prefix that the pattern admits
//     (substr(x, 0, l) makes pr-1x of pr-* meet a declared pr-1), and that
//     name or prefix followed by each separator (slug makes pr-1- meet
//     pr-1).
//   - lookup(map, x, d) with a constant default d maps every two names
//     outside the map onto d, and base and end are two such names unless
//     the map's keys are pattern names.
//
// Not proven, and documented for users (docs/isolation.md): substr with a
// negative offset, lookups whose default depends on the name or whose keys
// are names of the pattern, regexes other than character classes, hashes
// cut short (a 32-bit hash collides by chance, not by structure, and no
// sampling finds that), and the name joined to stack-derived text by '-',
// '.' or '_': "${environment.name}-${terramate.stack.name}" gives pr-1 with
// stack eu-app the state of pr-1-eu with stack app. Declared environments
// are compared against every stack directly, so for them the last case is
// found; for patterns, separate the two with '/', which neither can hold
// at that place.

// ambiguousJoins warns about template attributes that join a name-derived
// interpolation to a stack- or globals-derived one with nothing or only
// '-', '.' or '_' between them, when a pattern environment exists: such a
// join lets a longer pattern name meet another stack ("pr-1" + "-eu-app"
// is "pr-1-eu" + "-app"), which sampling does not prove absent (see
// above). Declared names are compared directly and need no warning.
func (r *Resolver) ambiguousJoins() hcl.Diagnostics {
	pattern := false
	for _, e := range r.p.TMCI.Environments {
		pattern = pattern || e.Pattern
	}
	if !pattern {
		return nil
	}
	var diags hcl.Diagnostics
	check := func(expr hclsyntax.Expression) {
		_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			t, ok := n.(*hclsyntax.TemplateExpr)
			if !ok {
				return nil
			}
			kinds := make([]byte, len(t.Parts)) // n: name, o: other variable, s: separator literal, l: other literal
			for i, p := range t.Parts {
				kinds[i] = 'l'
				if lit, ok := literalString(p); ok {
					if strings.Trim(lit, "-._") == "" {
						kinds[i] = 's'
					}
					continue
				}
				kinds[i] = 'o'
				for _, tr := range p.Variables() {
					if tr.RootName() == "environment" {
						kinds[i] = 'n'
					}
				}
			}
			for i := range kinds {
				j := i + 1
				if j < len(kinds) && kinds[j] == 's' {
					j++
				}
				if j < len(kinds) && (kinds[i] == 'n' && kinds[j] == 'o' || kinds[i] == 'o' && kinds[j] == 'n') {
					rng := t.Parts[i].Range()
					rng.End = t.Parts[j].Range().End
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  "Ambiguous join of the environment name",
						Detail:   "The environment name is joined to another value by nothing or by '-', '.' or '_', which environment names may hold: a longer name of a pattern environment can meet another stack's value (pr-1 with stack eu-app and pr-1-eu with stack app both give pr-1-eu-app). Check proves this absent only for declared names. Separate them with '/', which names cannot hold.",
						Subject:  rng.Ptr(),
					})
					return nil
				}
			}
			return nil
		})
	}
	for _, b := range r.p.TMCI.Backends {
		walkBody(b.Body, check)
	}
	for _, e := range r.p.TMCI.Environments {
		if e.Backend != nil {
			walkBody(e.Backend, check)
		}
	}
	return diags
}

// injective lists functions that map distinct names to distinct values, so
// the name passing through them needs no extra samples.
var injective = map[string]bool{
	"lower": true, "upper": true, "md5": true, "sha1": true, "sha256": true,
	"sha512": true, "tostring": true,
}

// nameUse is how the templates evaluated for a pattern use its names.
type nameUse struct {
	// transformed is true when the name (or an environment attribute,
	// which may derive from it) reaches a function call outside injective.
	transformed bool
	// literals are the string arguments of such calls that could be part
	// of a name, sorted.
	literals []string
	// others are the other environments' declared names and pattern
	// prefixes, when transformed.
	others []string
}

// nameUse analyses every backend template, e's backend override and e's
// attributes.
func (r *Resolver) nameUse(e *project.Environment) nameUse {
	var u nameUse
	lits := map[string]bool{}
	var bodies []*hclsyntax.Body
	for _, b := range r.p.TMCI.Backends {
		bodies = append(bodies, b.Body)
	}
	if e.Backend != nil {
		bodies = append(bodies, e.Backend)
	}
	visit := func(expr hclsyntax.Expression) {
		_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || injective[strings.TrimPrefix(call.Name, "tm_")] || !usesEnvironment(call) {
				return nil
			}
			u.transformed = true
			for _, a := range call.Args {
				if s, ok := literalString(a); ok && len(s) <= 20 && validNamePart(s) {
					lits[s] = true
				}
			}
			return nil
		})
	}
	for _, b := range bodies {
		walkBody(b, visit)
	}
	for _, a := range e.Attrs {
		visit(a.Expr)
	}
	for s := range lits {
		u.literals = append(u.literals, s)
	}
	sort.Strings(u.literals)
	if u.transformed {
		for _, o := range r.p.TMCI.Environments {
			if o != e && o.Prefix != "" {
				u.others = append(u.others, o.Prefix)
			}
		}
	}
	return u
}

func walkBody(b *hclsyntax.Body, visit func(hclsyntax.Expression)) {
	for _, a := range b.Attributes {
		visit(a.Expr)
	}
	for _, blk := range b.Blocks {
		walkBody(blk.Body, visit)
	}
}

func usesEnvironment(call *hclsyntax.FunctionCallExpr) bool {
	for _, tr := range call.Variables() {
		if tr.RootName() == "environment" {
			return true
		}
	}
	return false
}

// literalString returns the value of a string literal or a template
// without interpolations.
func literalString(e hclsyntax.Expression) (string, bool) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		if e.Val.Type() == cty.String {
			return e.Val.AsString(), true
		}
	case *hclsyntax.TemplateExpr:
		var b strings.Builder
		for _, p := range e.Parts {
			s, ok := literalString(p)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	case *hclsyntax.TemplateWrapExpr:
		return literalString(e.Wrapped)
	}
	return "", false
}

func validNamePart(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// maxName is the longest valid environment name.
const maxName = 63

// patternPart is a literal run or one wildcard of a pattern.
type patternPart struct {
	lit      string
	wildcard byte // '*', '?' or 0 for a literal
}

func splitPattern(p string) []patternPart {
	var out []patternPart
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			if i > start {
				out = append(out, patternPart{lit: p[start:i]})
			}
			out = append(out, patternPart{wildcard: p[i]})
			start = i + 1
		}
	}
	if start < len(p) {
		out = append(out, patternPart{lit: p[start:]})
	}
	return out
}

// fillers are the characters samples are built from; the first that lets
// every name of a family match its pattern (and not a more specific one)
// is used.
const fillers = "abcdefghijklmnopqrstuvwxyz0123456789"

// samples returns the probe names for pattern environment e (see the
// section comment above), each a valid name that match assigns to e,
// without repeats. Fewer than two means the pattern cannot be probed.
func samples(e *project.Environment, match func(string) (*project.Environment, error), u nameUse) []string {
	parts := splitPattern(e.Name)
	fixed, stars := 0, []int{}
	for i, p := range parts {
		switch p.wildcard {
		case '*':
			stars = append(stars, i)
		case '?':
			fixed++
		default:
			fixed += len(p.lit)
		}
	}
	var out []string
	seen := map[string]bool{}
	ok := func(n string) bool {
		if seen[n] {
			return true
		}
		m, err := match(n)
		return err == nil && m == e
	}
	// family adds the valid names of one family, built for a filler c and
	// a differing character d: the first (c, d) for which all are valid,
	// else the one with the most valid names.
	family := func(build func(c, d byte) []string) {
		var best []string
		for i := 0; i < len(fillers); i++ {
			for j := 0; j < len(fillers); j++ {
				if i == j {
					continue
				}
				names := build(fillers[i], fillers[j])
				var valid []string
				for _, n := range names {
					if ok(n) {
						valid = append(valid, n)
					}
				}
				if len(valid) > len(best) {
					best = valid
				}
				if len(valid) == len(names) && len(names) > 0 {
					i = len(fillers)
					break
				}
			}
		}
		for _, n := range best {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	// name fills the wildcards: '?' with c, the first star with firstStar,
	// the last with lastStar (one star: firstStar+lastStar), other stars
	// with "", and with grow, the last star with enough c for the
	// maximum length.
	name := func(c byte, firstStar, lastStar string, grow bool) string {
		var b strings.Builder
		n := fixed + len(firstStar) + len(lastStar)
		for i, p := range parts {
			switch {
			case p.wildcard == '?':
				b.WriteByte(c)
			case p.wildcard == '*':
				if i == stars[0] {
					b.WriteString(firstStar)
				}
				if i == stars[len(stars)-1] {
					b.WriteString(lastStar)
					if grow {
						b.WriteString(strings.Repeat(string(c), max(0, maxName-n)))
					}
				}
			default:
				b.WriteString(p.lit)
			}
		}
		return b.String()
	}
	setAt := func(s string, i int, d byte) string {
		if i < 0 || i >= len(s) {
			return s
		}
		return s[:i] + string(d) + s[i+1:]
	}
	first, last := len(e.Prefix), -1
	family(func(c, d byte) []string {
		base := name(c, string(c), "", true)
		// The last variable position: the end of the last wildcard.
		last = len(base) - 1
		for i := len(parts) - 1; i >= 0 && parts[i].wildcard == 0; i-- {
			last -= len(parts[i].lit)
		}
		if len(base) > maxName || last < first {
			return nil
		}
		if !u.transformed {
			// Without a transform, two names of maximum length prove the
			// name is used and exercise the limits; start adds nothing.
			return []string{base, setAt(base, last, d)}
		}
		return []string{base, setAt(base, last, d), setAt(base, first, d)}
	})
	family(func(c, d byte) []string { return []string{name(c, "", "", false)} })
	if !u.transformed {
		return out
	}
	if len(stars) == 0 {
		// Only '?': the last one takes each separator (slug("pr--") and
		// slug("pr-.") are both "pr").
		last := strings.LastIndexByte(e.Name, '?')
		family(func(c, d byte) []string {
			base := name(c, "", "", false)
			var names []string
			for _, sep := range []byte{'-', '_', '.'} {
				names = append(names, setAt(base, last, sep))
			}
			return names
		})
		return out
	}
	family(func(c, d byte) []string {
		return []string{name(c, "", string(d), false)}
	})
	family(func(c, d byte) []string {
		var names []string
		for _, sep := range []string{"-", "_", "."} {
			names = append(names, name(c, "", string(c)+sep+string(d), false))
		}
		return names
	})
	// Names sharing the longest possible prefix with each other
	// environment's names: substr(x, 0, l) makes such names meet across
	// environments (pr-1 declared, pr-1x in pr-*).
	for _, b := range u.others {
		// b with a separator appended: slug and trimsuffix make pr-1- and
		// pr-1 meet.
		for _, sep := range []string{"-", "_", "."} {
			if n := b + sep; ok(n) && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		family(func(c, d byte) []string {
			for k := len(b); k > 0; k-- {
				for _, t := range []string{"", string(c), "." + string(c), "_" + string(c), "-" + string(c)} {
					head := strings.TrimPrefix(b[:k], e.Prefix)
					if len(head)+len(e.Prefix) != k && !strings.HasPrefix(e.Prefix, b[:k]) {
						continue
					}
					n := name(c, head+t, "", false)
					if strings.HasPrefix(n, b[:k]) && ok(n) {
						return []string{n}
					}
				}
			}
			return nil
		})
	}
	prefix := e.Prefix
	for _, s := range u.literals {
		family(func(c, d byte) []string {
			cs, ds := string(c), string(d)
			return []string{
				name(c, "", cs+s+ds, false), name(c, "", cs+s, false),
				name(c, "", cs+ds, false), name(c, "", cs, false),
				name(c, strings.TrimPrefix(s, prefix)+prefix+cs, "", false),
			}
		})
	}
	return out
}
