// Package matrix splits a run graph into CI jobs: independent groups
// packed into a GitHub Actions matrix, or a GitLab child pipeline with one
// job per stack and needs: edges. It knows the providers' limits (jobs per
// matrix, needs per job), not how tmci selects or runs stacks.
package matrix

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tmci/tmci/ci"
)

// RunGraph is the selected stacks of a run as the fan-out sees them.
type RunGraph struct {
	// Order lists the selected stacks in run order.
	Order []string
	// Preds maps a stack to the selected stacks that must finish before
	// it (through unselected ones too).
	Preds map[string][]string
	// Links are pairs of stacks that must land in the same job although
	// no order joins them: selecting one selects the other (wants), so a
	// job holding only one would run the other as well.
	Links [][2]string
}

// Components splits the graph into weakly connected components: groups
// joined by no ordering edge and no link, which can run on separate
// runners without waiting for each other. Each component keeps run order;
// components are sorted largest first, then by their first stack's run
// position. O((V+E) α(V)).
func (g RunGraph) Components() [][]string {
	pos := make(map[string]int, len(g.Order))
	for i, s := range g.Order {
		pos[s] = i
	}
	parent := make([]int, len(g.Order))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b string) {
		i, ok1 := pos[a]
		j, ok2 := pos[b]
		if !ok1 || !ok2 {
			return
		}
		ri, rj := find(i), find(j)
		if ri != rj {
			parent[max(ri, rj)] = min(ri, rj)
		}
	}
	for s, preds := range g.Preds {
		for _, p := range preds {
			union(p, s)
		}
	}
	for _, l := range g.Links {
		union(l[0], l[1])
	}
	byRoot := map[int]int{}
	var comps [][]string
	for i, s := range g.Order {
		r := find(i)
		c, ok := byRoot[r]
		if !ok {
			c = len(comps)
			byRoot[r] = c
			comps = append(comps, nil)
		}
		comps[c] = append(comps[c], s)
	}
	slices.SortStableFunc(comps, func(a, b []string) int { return cmp.Compare(len(b), len(a)) })
	return comps
}

// Pack puts components into at most maxJobs jobs, largest first, each
// into the job holding the fewest stacks so far (ties: the earliest job),
// which keeps jobs within 4/3 of the best balance. Stacks within a job
// keep run order. maxJobs < 1 means one job per component.
func Pack(comps [][]string, order []string, maxJobs int) [][]string {
	if maxJobs < 1 || maxJobs > len(comps) {
		maxJobs = len(comps)
	}
	jobs := make([][]string, maxJobs)
	for _, c := range comps { // already largest first
		smallest := 0
		for j := range jobs {
			if len(jobs[j]) < len(jobs[smallest]) {
				smallest = j
			}
		}
		jobs[smallest] = append(jobs[smallest], c...)
	}
	pos := make(map[string]int, len(order))
	for i, s := range order {
		pos[s] = i
	}
	for _, j := range jobs {
		slices.SortFunc(j, func(a, b string) int { return cmp.Compare(pos[a], pos[b]) })
	}
	return jobs
}

// MatrixEntry is one job of a GitHub Actions matrix.
type MatrixEntry struct {
	// Name is for the job title: the first stack and how many more.
	Name string `json:"name"`
	// Wave is the entry's wave (1-based) when the matrix is split by
	// waves, else 0 (left out).
	Wave int `json:"wave,omitempty"`
	// Stacks lists the job's stacks one per line, the format of
	// --stacks-from.
	Stacks string `json:"stacks"`
}

// Matrix is what a workflow feeds to strategy.matrix with fromJSON.
type Matrix struct {
	Include []MatrixEntry `json:"include"`
}

// GitHubMatrix makes the matrix of the packed jobs; an empty selection
// gives an empty include list (which a workflow must guard against: an
// empty matrix fails the job).
func GitHubMatrix(jobs [][]string) Matrix {
	m := Matrix{Include: []MatrixEntry{}}
	for _, j := range jobs {
		name := j[0]
		if len(j) > 1 {
			name += fmt.Sprintf(" +%d", len(j)-1)
		}
		m.Include = append(m.Include, MatrixEntry{Name: name, Stacks: strings.Join(j, "\n")})
	}
	return m
}

// maxNeeds is GitLab's limit on a job's needs entries.
const maxNeeds = 50

// ChildPipeline says what the generated GitLab child pipeline runs.
type ChildPipeline struct {
	// Prelude is copied verbatim to the top of the file, e.g. a default:
	// section with image and before_script that installs tmci.
	Prelude string
	// Script is the command each job runs; $TMCI_STACK holds its stack.
	Script string
	// Artifacts are paths each job keeps (its reports and logs).
	Artifacts []string
	// Reports are the job's artifacts:reports, kind (terraform, junit)
	// to path: GitLab shows a child job's terraform widget and test
	// report on the merge request only when they are declared there.
	Reports map[string]string
}

// GitLabPipeline renders a child pipeline with one job per stack. A job
// lists the jobs of its predecessors (and of the stacks it selects through
// wants, see jobNeeds) under needs:, so it starts as soon as they succeed; every job also sits in the stage of its wave, so a job
// that would need more than maxNeeds jobs leaves needs out and waits for
// all earlier stages instead, which orders it just as safely. An empty
// graph gives a pipeline with one job saying so, since GitLab refuses a
// pipeline without jobs.
func GitLabPipeline(g RunGraph, c ChildPipeline) []byte {
	var b strings.Builder
	b.WriteString("# Generated by tmci matrix --format=gitlab: one job per stack, ordered as the stacks are.\n")
	if c.Prelude != "" {
		b.WriteString(strings.TrimRight(c.Prelude, "\n") + "\n\n")
	}
	if len(g.Order) == 0 {
		fmt.Fprintf(&b, "\"tmci no stacks\":\n  script:\n    - %s\n", yamlString(`echo "tmci: no stacks selected"`))
		return []byte(b.String())
	}
	needs := g.jobNeeds()
	wave, waves := g.waves(needs)
	b.WriteString("stages:\n")
	for w := range waves {
		fmt.Fprintf(&b, "  - wave-%d\n", w+1)
	}
	fmt.Fprintf(&b, "\n.tmci-stack:\n  script:\n    - %s\n", yamlString(c.Script))
	if len(c.Artifacts) > 0 || len(c.Reports) > 0 {
		b.WriteString("  artifacts:\n    when: always\n")
	}
	if len(c.Artifacts) > 0 {
		b.WriteString("    paths:\n")
		for _, a := range c.Artifacts {
			fmt.Fprintf(&b, "      - %s\n", yamlString(a))
		}
	}
	if len(c.Reports) > 0 {
		b.WriteString("    reports:\n")
		for _, kind := range slices.Sorted(maps.Keys(c.Reports)) {
			fmt.Fprintf(&b, "      %s: %s\n", yamlString(kind), yamlString(c.Reports[kind]))
		}
	}
	names := jobNames(g.Order)
	for _, s := range g.Order {
		fmt.Fprintf(&b, "\n%s:\n  extends: .tmci-stack\n  stage: wave-%d\n", yamlString(names[s]), wave[s]+1)
		preds := needs[s]
		if len(preds) <= maxNeeds {
			b.WriteString("  needs:")
			if len(preds) == 0 {
				b.WriteString(" []")
			}
			b.WriteString("\n")
			for _, p := range preds {
				fmt.Fprintf(&b, "    - %s\n", yamlString(names[p]))
			}
		}
		fmt.Fprintf(&b, "  variables:\n    TMCI_STACK: %s\n", yamlString(s))
	}
	return []byte(b.String())
}

// waves returns each stack's wave (0-based) and the number of waves: a
// stack's wave is one more than the latest wave among the stacks its job
// waits for (needs), so stacks of one wave never wait for each other.
// O(V+E).
func (g RunGraph) waves(needs map[string][]string) (map[string]int, int) {
	wave := make(map[string]int, len(g.Order))
	n := 0
	for _, s := range g.Order { // run order: predecessors come first
		for _, p := range needs[s] {
			wave[s] = max(wave[s], wave[p]+1)
		}
		n = max(n, wave[s]+1)
	}
	return wave, n
}

// Waves splits the graph into the waves of GitLabPipeline's stages, each
// as a graph of its own: wave 1 holds the stacks whose jobs wait for
// nothing, wave n+1 those that wait for a job of wave n. No stack of a
// wave waits for another of it, so a GitHub workflow can run each wave
// as one matrix once the previous wave's matrix is done; this splits a
// fully connected project, which Components keeps as one job, across
// runners. Each wave keeps run order. Linked stacks are never in one
// wave: the later one's job waits for the earlier one's (jobNeeds).
func (g RunGraph) Waves() []RunGraph {
	wave, n := g.waves(g.jobNeeds())
	out := make([]RunGraph, n)
	for i := range out {
		out[i].Preds = map[string][]string{}
	}
	for _, s := range g.Order {
		out[wave[s]].Order = append(out[wave[s]].Order, s)
	}
	return out
}

// jobNeeds returns, per stack, the stacks whose jobs its job waits for:
// its predecessors and, for each link, the earlier of the two stacks in
// run order. A job runs its stack with tmci, which selects the linked
// (wanted) stacks too; waiting for their own job first means the two jobs
// never run the same stack at once (two applies would race for its state
// lock). Every need points to an earlier stack, so there is no cycle.
func (g RunGraph) jobNeeds() map[string][]string {
	pos := make(map[string]int, len(g.Order))
	for i, s := range g.Order {
		pos[s] = i
	}
	needs := make(map[string][]string, len(g.Order))
	for _, s := range g.Order {
		needs[s] = g.Preds[s]
	}
	for _, l := range g.Links {
		a, okA := pos[l[0]]
		b, okB := pos[l[1]]
		if !okA || !okB || a == b {
			continue
		}
		first, later := l[0], l[1]
		if a > b {
			first, later = later, first
		}
		if !slices.Contains(needs[later], first) {
			needs[later] = append(slices.Clip(needs[later]), first)
		}
	}
	return needs
}

// maxJobName is GitLab's limit on a job name, in characters.
const maxJobName = 255

// jobNames names each stack's GitLab job "stack <path>". A name over
// maxJobName bytes (so over no character limit either) is cut at a
// character boundary and ends in " ~" and a hash of the whole path, so
// names stay unique after cutting; the hash grows in the (astronomically
// unlikely) case two cut names still meet, or a cut name equals another
// stack's full name.
func jobNames(order []string) map[string]string {
	names := make(map[string]string, len(order))
	taken := make(map[string]bool, len(order))
	var long []string
	for _, s := range order {
		if n := "stack " + s; len(n) <= maxJobName {
			names[s], taken[n] = n, true
		} else {
			long = append(long, s)
		}
	}
	for _, s := range long {
		sum := sha256.Sum256([]byte(s))
		h := hex.EncodeToString(sum[:])
		for size := 10; ; size += 2 {
			suffix := " ~" + h[:size]
			n := cutUTF8("stack "+s, maxJobName-len(suffix)) + suffix
			if !taken[n] || size >= len(h) {
				names[s], taken[n] = n, true
				break
			}
		}
	}
	return names
}

// cutUTF8 returns the longest prefix of s of at most n bytes that ends
// on a character boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// yamlString quotes s as a YAML double-quoted scalar. JSON's string
// syntax is a subset of it.
func yamlString(s string) string {
	out, _ := json.Marshal(s) // a string always encodes
	return string(out)
}

// WaveMatrices makes one matrix per wave, each wave's components packed
// into at most maxJobs jobs, every entry marked with its wave.
func WaveMatrices(g RunGraph, maxJobs int) []Matrix {
	var out []Matrix
	for i, w := range g.Waves() {
		m := GitHubMatrix(Pack(w.Components(), w.Order, maxJobs))
		for k := range m.Include {
			m.Include[k].Wave = i + 1
		}
		out = append(out, m)
	}
	return out
}

// WaveOutputs returns the GITHUB_OUTPUT entries of a matrix split by
// waves: waves (their number), wave_N and jobs_N for each wave (a matrix
// and its size, for a workflow's wave-N job and its if: guard), and
// matrix and jobs holding every entry.
func WaveOutputs(waves []Matrix) string {
	var b strings.Builder
	all := Matrix{Include: []MatrixEntry{}}
	ci.SetOutput(&b, "waves", strconv.Itoa(len(waves)))
	for i, m := range waves {
		data, _ := json.Marshal(m) // strings and ints only: always encodes
		ci.SetOutput(&b, fmt.Sprintf("wave_%d", i+1), string(data))
		ci.SetOutput(&b, fmt.Sprintf("jobs_%d", i+1), strconv.Itoa(len(m.Include)))
		all.Include = append(all.Include, m.Include...)
	}
	b.WriteString(Outputs(all))
	return b.String()
}

// Outputs returns the GITHUB_OUTPUT entries of a matrix (see
// ci.AppendOutputs): the matrix JSON and the number of jobs, for the
// workflow's if: guard.
func Outputs(m Matrix) string {
	data, _ := json.Marshal(m) // strings only: always encodes
	var b strings.Builder
	ci.SetOutput(&b, "matrix", string(data))
	ci.SetOutput(&b, "jobs", strconv.Itoa(len(m.Include)))
	return b.String()
}
