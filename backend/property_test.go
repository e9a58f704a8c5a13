package backend

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/project"
)

// The isolation property: Check reports every pair of (stack, environment)
// pairs that share state (no false negatives), and nothing when none do
// (no false positives). An oracle, independent of Check's sampling,
// enumerates concrete environment names, resolves every (stack, name)
// pair and groups them by identity.
//
// Cases come from the grammar below; each is a project generated from one
// seed. testdata/property/seeds.txt holds the base seeds; case i of seed s
// uses the generator seeded with (s, i), so any failure is reproduced with
// -property.seed=s -property.cases=i+1. bench/property.sh runs the long
// version (thousands of cases).
//
// Grammar (one template per case, backend s3 or pg):
//
//	key      := part (sep part)*            1 to 3 parts, shuffled
//	part     := N | S | global.region | "state"
//	sep      := "/" | "-" | "_" | ""
//	N        := environment.name | F(N)       nesting depth <= 2
//	F(x)     := lower(x) | upper(x) | slug(x) | sha256(x)
//	          | substr(x, O, L) | substr(sha256(x), 0, 12)
//	          | trimprefix(x, LIT) | trimsuffix(x, LIT)
//	          | replace(x, LIT, LIT)
//	          | lookup(global.envmap, x, "other")
//	O        := 0 | 2 | 4                 L := 4 | 8 | 30 | 63 | -1
//
// The proven grammar restricts this: O is 0, nothing wraps a hash (a hash
// cut short collides by chance), the name appears once, and parts are
// joined by "/". The hostile grammar is all of it.
//	LIT      := "-eu" | "pr-" | "-" | "_" | "." | "" | "eu"
//	S        := terramate.stack.name | terramate.stack.path.relative
//	          | terramate.stack.path.basename | slug(terramate.stack.path.relative)
//
// Environments: 1 to 3 declared names and 0 to 2 patterns from fixed
// pools; stacks: 2 to 5 paths from a pool of names built to meet ("app",
// "eu-app", "a-b"...). globals.envmap maps declared names only.
//
// The oracle's names: every declared name, Check's own samples, and up to
// perPattern random matches of each pattern whose variable part is made of
// random characters, numbers, separators, the grammar's literals and
// pieces of the stack names: the pieces a hostile template could join.

var (
	propCases = flag.Int("property.cases", 24, "cases per seed of TestIsolationProperty")
	propSeed  = flag.Uint64("property.seed", 0, "run only this seed of TestIsolationProperty (0: testdata/property/seeds.txt)")
)

const perPattern = 300

var (
	propDeclared = []string{"prod", "prod-eu", "staging", "eu", "dev", "pr-1"}
	propPatterns = [][]string{{"pr-*", "pr-?"}, {"preview-*"}, {"feat-*-x"}, {"*-tmp"}, {"eu-*"}}
	propStacks   = []string{"stacks/app", "stacks/eu-app", "stacks/eu", "stacks/app-eu", "stacks/db", "stacks/a", "stacks/a-b", "stacks/b", "stacks/pr-1", "other/app", "other/a/b", "x"}
	propLits     = []string{"-eu", "pr-", "-", "_", ".", "", "eu"}
	propSeps     = []string{"/", "-", "_", ""}
)

// propCase is one generated project.
type propCase struct {
	files    string
	template string
	lits     []string // string literals of the template, for the oracle
}

func choose[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func genName(r *rand.Rand, depth int, proven bool) string {
	x := "environment.name"
	if depth > 0 && r.IntN(3) > 0 {
		x = genName(r, depth-1, proven)
	}
	offsets := []int{0, 2, 4}
	if proven {
		offsets = []int{0}
		if strings.Contains(x, "sha256(") {
			// A hash cut below 48 bits collides by chance, which no
			// sampling proves absent (probe.go): proven templates keep
			// at least substr(sha256(x), 0, 12).
			return x
		}
	}
	lit := func() string { return strconv.Quote(choose(r, propLits)) }
	switch r.IntN(12) {
	case 0:
		return "lower(" + x + ")"
	case 1:
		return "upper(" + x + ")"
	case 2:
		return "slug(" + x + ")"
	case 3:
		return "sha256(" + x + ")"
	case 4:
		return fmt.Sprintf("substr(%s, %d, %d)", x, choose(r, offsets), choose(r, []int{4, 8, 30, 63, -1}))
	case 5:
		return "substr(sha256(" + x + "), 0, 12)"
	case 6:
		return "trimprefix(" + x + ", " + lit() + ")"
	case 7:
		return "trimsuffix(" + x + ", " + lit() + ")"
	case 8:
		return "replace(" + x + ", " + lit() + ", " + lit() + ")"
	case 9:
		return `lookup(global.envmap, ` + x + `, "other")`
	}
	return x
}

func genPart(r *rand.Rand, proven bool) string {
	switch r.IntN(6) {
	case 0, 1:
		return genName(r, 2, proven)
	case 2:
		return choose(r, []string{"terramate.stack.name", "terramate.stack.path.relative", "terramate.stack.path.basename", "slug(terramate.stack.path.relative)"})
	case 3:
		return "terramate.stack.path.relative"
	case 4:
		return "global.region"
	}
	return `"state"`
}

// grammar selects the templates genCase writes.
type grammar int

const (
	// common templates are the isolated ones users write.
	common grammar = iota
	// proven templates are those probe.go argues the samples are sound
	// for: the name once, through the listed functions, substr from 0,
	// parts joined by "/".
	proven
	// hostile templates use the whole grammar: the name several times,
	// any offset, any separator.
	hostile
)

// genCase returns a project of grammar g.
func genCase(r *rand.Rand, g grammar) propCase {
	var b strings.Builder
	var tpl string
	typ := choose(r, []string{"s3", "s3", "pg"})
	attr := map[string]string{"s3": "key", "pg": "schema_name"}[typ]
	if g == common && typ == "pg" {
		tpl = `"${substr(slug(environment.name), 0, 20)}_${substr(sha256("${environment.name}/${terramate.stack.path.absolute}"), 0, 16)}"`
	} else if g == common {
		tpl = choose(r, []string{
			`"${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"`,
			`"${terramate.stack.path.relative}/${environment.name}.tfstate"`,
			`"env/${environment.name}/${slug(terramate.stack.path.relative)}"`,
			`"${environment.name}/${substr(sha256(terramate.stack.path.relative), 0, 16)}"`,
		})
	} else {
		// The hostile grammar joins 1 to 3 parts with any separator and
		// may use the name more than once; the proven one uses it at
		// most once and joins parts with "/".
		n := 1 + r.IntN(3)
		parts := make([]string, 0, n)
		named := false
		for len(parts) < n {
			p := genPart(r, g == proven)
			isName := strings.Contains(p, "environment.name")
			if g == proven && isName && named {
				continue
			}
			named = named || isName
			parts = append(parts, "${"+p+"}")
		}
		var t strings.Builder
		for i, p := range parts {
			if i > 0 {
				if g == proven {
					t.WriteString("/")
				} else {
					t.WriteString(choose(r, propSeps))
				}
			}
			t.WriteString(p)
		}
		tpl = strconv.Quote(t.String())
		tpl = strings.ReplaceAll(tpl, `\"`, `"`)
	}
	fmt.Fprintf(&b, "-- tmci.hcl --\nbackend %q {\n", typ)
	if typ == "s3" {
		b.WriteString("  bucket = \"acme\"\n")
	} else {
		b.WriteString("  conn_str = \"postgres://db/state\"\n")
	}
	fmt.Fprintf(&b, "  %s = %s\n}\n", attr, tpl)
	declared := map[string]bool{}
	for range 1 + r.IntN(3) {
		n := choose(r, propDeclared)
		if !declared[n] {
			declared[n] = true
			fmt.Fprintf(&b, "environment %q {}\n", n)
		}
	}
	if g != common || r.IntN(2) == 0 {
		perm := r.Perm(len(propPatterns))
		for _, i := range perm[:r.IntN(3)] {
			fmt.Fprintf(&b, "environment %q {}\n", choose(r, propPatterns[i]))
		}
	}
	b.WriteString("-- globals.tm --\nglobals {\n  region = \"eu\"\n  envmap = {\n    prod = \"p\"\n    staging = \"s\"\n    dev = \"p\"\n  }\n}\n")
	perm := r.Perm(len(propStacks))
	for _, i := range perm[:2+r.IntN(4)] {
		fmt.Fprintf(&b, "-- %s/stack.tm --\nstack {}\n-- %s/main.tf --\nterraform {\n  backend %q {}\n}\n", propStacks[i], propStacks[i], typ)
	}
	return propCase{files: b.String(), template: tpl, lits: propLits}
}

// oracleNames returns the names the oracle resolves: declared names,
// Check's samples, and random matches of each pattern.
func oracleNames(r *rand.Rand, p *project.Project, res *Resolver, pc propCase) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	probes, _ := res.probes(nil)
	for _, pr := range probes {
		add(pr.name)
	}
	var pieces []string
	for _, s := range p.Stacks {
		for _, seg := range strings.Split(strings.Trim(s.Path, "/"), "/") {
			pieces = append(pieces, seg)
			for _, w := range strings.Split(seg, "-") {
				pieces = append(pieces, w, "-"+w, w+"-")
			}
		}
	}
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789._-"
	token := func() string {
		switch r.IntN(6) {
		case 0:
			return string(chars[r.IntN(len(chars))])
		case 1:
			return strconv.Itoa(r.IntN(1000))
		case 2:
			return choose(r, pc.lits)
		case 3:
			return choose(r, pieces)
		case 4:
			return choose(r, []string{"-", "_", ".", "--"})
		}
		return strings.Repeat(string(chars[r.IntN(36)]), 1+r.IntN(62))
	}
	for _, e := range p.TMCI.Environments {
		if !e.Pattern {
			continue
		}
		found := 0
		for try := 0; try < 20*perPattern && found < perPattern; try++ {
			var n strings.Builder
			for _, c := range []byte(e.Name) {
				switch c {
				case '*':
					for range r.IntN(4) {
						n.WriteString(token())
					}
				case '?':
					n.WriteByte(chars[r.IntN(len(chars))])
				default:
					n.WriteByte(c)
				}
			}
			if m, err := p.TMCI.Match(n.String()); err == nil && m == e && !seen[n.String()] {
				add(n.String())
				found++
			}
		}
	}
	return out
}

// class names a colliding pair of (stack, environment block) pairs,
// ordered, so that the oracle's concrete collisions and Check's sampled
// ones compare.
func class(s1, b1, s2, b2 string) string {
	a, b := s1+" in "+b1, s2+" in "+b2
	if b < a {
		a, b = b, a
	}
	return a + " ~ " + b
}

type propResult struct {
	oracle, check map[string]bool
	diags         hcl.Diagnostics
	skip          string
}

func runCase(t testing.TB, r *rand.Rand, pc propCase) propResult {
	dir := writeArchive(t, txtar.Parse([]byte(pc.files)))
	p, diags := project.Load(dir, project.Options{})
	if diags.HasErrors() {
		return propResult{skip: diags.Error()}
	}
	res, _ := NewResolver(p, Options{LookupEnv: envMap(nil)})
	// The oracle.
	type at struct{ stack, name, block string }
	groups := map[string][]at{}
	for _, name := range oracleNames(r, p, res, pc) {
		e, err := p.TMCI.Match(name)
		if err != nil {
			continue
		}
		for _, s := range p.Stacks {
			c, d := res.resolve(p.Scope(s), e, name)
			if c == nil || d.HasErrors() {
				continue
			}
			k := c.Identity(nil).Key()
			groups[k] = append(groups[k], at{s.Path, name, e.Name})
		}
	}
	out := propResult{oracle: map[string]bool{}, check: map[string]bool{}}
	for _, g := range groups {
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				out.oracle[class(g[i].stack, g[i].block, g[j].stack, g[j].block)] = true
			}
		}
	}
	rep, err := res.Check(context.Background(), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out.diags = rep.Diags
	for _, col := range rep.Collisions {
		for i := range col.Pairs {
			for j := i + 1; j < len(col.Pairs); j++ {
				a, b := col.Pairs[i], col.Pairs[j]
				out.check[class(a.Stack, a.Block, b.Stack, b.Block)] = true
			}
		}
	}
	return out
}

func propSeeds(t testing.TB) []uint64 {
	if *propSeed != 0 {
		return []uint64{*propSeed}
	}
	f, err := os.Open("testdata/property/seeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seeds []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			t.Fatalf("seeds.txt: %v", err)
		}
		seeds = append(seeds, s)
	}
	return seeds
}

// propStats counts the outcome of one grammar's cases.
type propStats struct {
	cases, skipped, colliding, classes, fn, fp, reported int
}

func (st propStats) String() string {
	return fmt.Sprintf("%d cases (%d invalid projects skipped), %d with collisions, %d colliding classes found by the oracle, %d false negatives, %d false positives, %d reported by check",
		st.cases, st.skipped, st.colliding, st.classes, st.fn, st.fp, st.reported)
}

// TestIsolationProperty checks the isolation property on generated cases
// (see the grammar above) and reports the oracle's numbers per grammar.
// It fails on a false negative of a proven template, on any false
// positive, and on any report for a common template; false negatives of
// hostile templates are counted, not failed: they fall outside what
// probe.go proves, and docs/isolation.md says how to avoid them.
func TestIsolationProperty(t *testing.T) {
	stats := map[grammar]*propStats{common: {}, proven: {}, hostile: {}}
	var failures []string
	for _, seed := range propSeeds(t) {
		for i := range *propCases {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			g := []grammar{proven, proven, hostile, common}[i%4]
			st := stats[g]
			pc := genCase(r, g)
			res := runCase(t, r, pc)
			if res.skip != "" {
				st.skipped++
				continue
			}
			st.cases++
			if len(res.oracle) > 0 {
				st.colliding++
			}
			st.classes += len(res.oracle)
			var missed, extra []string
			for c := range res.oracle {
				if !res.check[c] {
					missed = append(missed, c)
				}
			}
			for c := range res.check {
				if !res.oracle[c] {
					extra = append(extra, c)
				}
			}
			sort.Strings(missed)
			sort.Strings(extra)
			st.fn += len(missed)
			st.fp += len(extra)
			if res.diags.HasErrors() {
				st.reported++
			}
			switch {
			case g == common && (res.diags.HasErrors() || len(res.oracle) > 0):
				failures = append(failures, fmt.Sprintf("seed %d case %d (common template): oracle %d collisions, check: %v\n%s", seed, i, len(res.oracle), res.diags, pc.files))
			case len(extra) > 0 || g == proven && len(missed) > 0:
				failures = append(failures, fmt.Sprintf("seed %d case %d: missed %q, extra %q\n%s", seed, i, missed, extra, pc.files))
			case len(missed) > 0:
				t.Logf("hostile, outside the proven class: seed %d case %d: %d missed, template %s", seed, i, len(missed), pc.template)
			}
		}
	}
	for _, g := range []grammar{common, proven, hostile} {
		t.Logf("%s: %s", []string{"common", "proven", "hostile"}[g], stats[g])
	}
	for i, f := range failures {
		if i == 5 {
			t.Errorf("... and %d more failures", len(failures)-5)
			break
		}
		t.Error(f)
	}
	if stats[proven].cases == 0 || stats[common].cases == 0 {
		t.Fatal("no valid case was generated")
	}
}
