package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/tmci/tmci/internal/parity"
	"github.com/tmci/tmci/project"
)

// realRepo is one line of the repository list: a public repository by
// name, pinned at a commit. The list holds names and commits only, never
// the repositories' content.
type realRepo struct {
	name   string // owner/name
	commit string // 40 hex digits
	line   int
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// readRepoList parses a repository list: "owner/name COMMIT" a line,
// blank lines and text after '#' ignored.
func readRepoList(file string) ([]realRepo, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var repos []realRepo
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		owner, name, ok := strings.Cut(fields[0], "/")
		if len(fields) != 2 || !ok || owner == "" || name == "" || strings.ContainsAny(name, "/\\") ||
			strings.HasPrefix(owner, ".") || strings.HasPrefix(name, ".") || !commitRE.MatchString(fields[1]) {
			return nil, fmt.Errorf("%s:%d: want \"owner/name COMMIT\" (a full 40-digit lower-case commit hash)", file, n)
		}
		repos = append(repos, realRepo{name: fields[0], commit: fields[1], line: n})
	}
	return repos, sc.Err()
}

// mirrorOf finds the git directory of repo under dir: DIR/owner+name/repo
// (the snapshot layout), DIR/owner+name or DIR/owner/name.
func mirrorOf(dir string, r realRepo) (string, error) {
	owner, name, _ := strings.Cut(r.name, "/")
	for _, p := range []string{
		filepath.Join(dir, owner+"+"+name, "repo"),
		filepath.Join(dir, owner+"+"+name),
		filepath.Join(dir, owner, name),
	} {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no snapshot under %s (looked for %s+%s/repo, %s+%s and %s/%s)", r.name, dir, owner, name, owner, name, owner, name)
}

// realQuery is one query at one commit, asked in one project root.
type realQuery struct {
	commit string
	root   string // slash path from the git top level; "." is the top
	args   []string
}

func (q realQuery) String() string {
	return q.commit[:12] + " " + q.root + " " + strings.Join(q.args, " ")
}

// realResult is the outcome of one repository.
type realResult struct {
	repo    realRepo
	roots   map[string]bool // every project root met in the history
	commits int
	queries int
	differ  []string
	known   map[string][]string // cause -> disagreements
	err     error
}

// compareReal runs every repository of the list against both tools, at
// most maxCommits commits of each history (0: all), and prints a summary.
func (h *harness) compareReal(list, mirror string, maxCommits, maxTags, jobs int, verbose bool) int {
	repos, err := readRepoList(list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		return 1
	}
	results := make([]realResult, len(repos))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, jobs))
	for i, r := range repos {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = h.compareRepo(r, mirror, maxCommits, maxTags)
		}()
	}
	wg.Wait()

	var roots, commits, queries, differ, known, failed int
	kinds := map[string]int{}
	knownKinds := map[string]int{}
	for _, r := range results {
		if r.err != nil {
			failed++
			fmt.Printf("%s: harness error: %v\n", r.repo.name, r.err)
			continue
		}
		roots += len(r.roots)
		commits += r.commits
		queries += r.queries
		differ += len(r.differ)
		rootList := slices.Sorted(mapKeys(r.roots))
		fmt.Printf("%s @%s: roots %s, commits %d, queries %d, disagreements %d\n",
			r.repo.name, r.repo.commit[:12], strings.Join(rootList, " "), r.commits, r.queries, len(r.differ))
		for _, d := range r.differ {
			first, _, _ := strings.Cut(d, "\n")
			kinds[realKind(first)]++
			if verbose {
				fmt.Println("  " + strings.ReplaceAll(strings.TrimSuffix(d, "\n"), "\n", "\n  "))
			} else {
				fmt.Println("  " + first)
			}
		}
		for cause, ds := range r.known {
			known += len(ds)
			knownKinds[cause] += len(ds)
		}
	}
	fmt.Printf("repositories %d (harness errors %d), project roots %d, commits %d, queries %d, disagreements %d, known differences %d\n",
		len(repos), failed, roots, commits, queries, differ, known)
	printKinds("disagreements by query", kinds)
	printKinds("known differences by cause", knownKinds)
	if differ > 0 || failed > 0 {
		return 1
	}
	return 0
}

// printKinds prints a count per kind, sorted by kind, under title.
func printKinds(title string, kinds map[string]int) {
	if len(kinds) == 0 {
		return
	}
	fmt.Println(title + ":")
	for _, k := range slices.Sorted(mapKeys(kinds)) {
		fmt.Printf("  %-44s %d\n", k, kinds[k])
	}
}

// realKind names a disagreement by its flags, without commit, root and
// flag values.
func realKind(desc string) string {
	var out []string
	for _, w := range strings.Fields(desc)[2:] {
		if w == "differs:" {
			break
		}
		if w == "list" || strings.HasPrefix(w, "--") {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// compareRepo clones the snapshot of r, checks out each commit of its
// history from the pinned one back (newest first, at most maxCommits),
// and asks both tools every query in every project root.
func (h *harness) compareRepo(r realRepo, mirror string, maxCommits, maxTags int) realResult {
	res := realResult{repo: r, roots: map[string]bool{}, known: map[string][]string{}}
	src, err := mirrorOf(mirror, r)
	if err != nil {
		res.err = err
		return res
	}
	dir, err := os.MkdirTemp(h.tmp, "real-")
	if err != nil {
		res.err = err
		return res
	}
	defer os.RemoveAll(dir)
	if _, err := h.git(".", "clone", "-q", "--no-checkout", "--no-hardlinks", src, dir); err != nil {
		res.err = err
		return res
	}
	if _, err := h.git(dir, "cat-file", "-e", r.commit+"^{commit}"); err != nil {
		res.err = fmt.Errorf("pinned commit %s is not in the snapshot %s", r.commit, src)
		return res
	}
	// Commits with their first parent, newest first.
	out, err := h.git(dir, "rev-list", "--parents", "--topo-order", r.commit)
	if err != nil {
		res.err = err
		return res
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if maxCommits > 0 && len(lines) > maxCommits {
		lines = lines[:maxCommits]
	}
	for _, line := range lines {
		f := strings.Fields(line)
		commit, parent := f[0], ""
		if len(f) > 1 {
			parent = f[1]
		}
		if _, err := h.git(dir, "checkout", "-qf", "--detach", commit); err != nil {
			res.err = err
			return res
		}
		if _, err := h.git(dir, "clean", "-qfdx"); err != nil {
			res.err = err
			return res
		}
		res.commits++
		queries, err := h.realQueries(dir, commit, parent, maxTags)
		if err != nil {
			res.err = fmt.Errorf("commit %s: %w", commit, err)
			return res
		}
		for _, q := range queries {
			res.roots[q.root] = true
			if err := h.compareQuery(dir, q, &res); err != nil {
				res.err = fmt.Errorf("%s: %w", q, err)
				return res
			}
		}
	}
	return res
}

// compareQuery asks both tools q and records a disagreement.
func (h *harness) compareQuery(dir string, q realQuery, res *realResult) error {
	pq := parity.Query{Branch: parity.Main, Dir: q.root, Args: q.args}
	tmA, err := h.answer(h.tm, dir, pq)
	if err != nil {
		return err
	}
	tmciA, err := h.answer(h.tmci, dir, pq)
	if err != nil {
		return err
	}
	res.queries++
	if tmA == tmciA {
		return nil
	}
	tmWhy := h.why(h.tm, dir, pq, tmA)
	desc := fmt.Sprintf("%s %s differs:\n--- terramate\n%s%s--- tmci\n%s%s", res.repo.name, q,
		tmA, tmWhy, tmciA, h.why(h.tmci, dir, pq, tmciA))
	if cause := knownRealDifference(q, pq, tmA, tmciA, tmWhy); cause != "" {
		res.known[cause] = append(res.known[cause], desc)
		return nil
	}
	res.differ = append(res.differ, desc)
	return nil
}

// why returns the last lines of a failing tool's standard error, asked
// again, to say why it answered ERROR; "" for any other answer.
func (h *harness) why(bin, dir string, q parity.Query, answer string) string {
	if answer != "ERROR\n" {
		return ""
	}
	cmd := exec.CommandContext(context.Background(), bin, append([]string{"-C", filepath.Join(dir, q.Dir)}, q.Args...)...)
	cmd.Env = h.env
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return "  (" + strings.Join(lines, "\n   ") + ")\n"
}

// knownRealDifference names the cause bench/README.md documents for a
// disagreement, or returns "". tmWhy is Terramate's error when it failed.
func knownRealDifference(q realQuery, pq parity.Query, tmA, tmciA, tmWhy string) string {
	switch {
	case knownDifference(pq, tmA, tmciA):
		return "list --changed --run-order: nested stacks moved (parent edge lost)"
	case q.root != ".":
		return "root below the git top level"
	case tmA == "ERROR\n" && tmciA != "ERROR\n" && strings.Contains(tmWhy, `terramate schema error: unrecognized "define.`):
		return "Catalyst define schema newer than 0.17.2"
	case tmA == "ERROR\n" && tmciA != "ERROR\n" && slices.Contains(q.args, "--changed") &&
		strings.Contains(tmWhy, "checking module") && strings.Contains(tmWhy, "is not a directory"):
		return "--changed: local module source missing (tmci warns)"
	}
	return ""
}

// tagsRE finds the tags attribute of a stack block; quotedRE its strings.
var (
	tagsRE   = regexp.MustCompile(`(?s)\btags\s*=\s*\[(.*?)\]`)
	quotedRE = regexp.MustCompile(`"([A-Za-z0-9_.:-]+)"`)
)

// realQueries lists the queries of one checked-out commit: in every
// project root, list, list --run-order, list --changed against the first
// parent (when there is one), and list/list --run-order with --tags for
// the first maxTags stack tags written in the root.
func (h *harness) realQueries(dir, commit, parent string, maxTags int) ([]realQuery, error) {
	out, err := h.git(dir, "ls-files", "-z")
	if err != nil {
		return nil, err
	}
	tmDirs := map[string]bool{}
	var tmFiles []string
	for _, f := range strings.Split(out, "\x00") {
		if !(strings.HasSuffix(f, ".tm") || strings.HasSuffix(f, ".tm.hcl")) || hiddenPath(f) {
			continue
		}
		tmFiles = append(tmFiles, f)
		tmDirs[path.Dir(f)] = true
	}
	// The project roots: where tmci's root finding lands from every
	// directory holding Terramate files.
	roots := map[string]bool{}
	for d := range tmDirs {
		root, err := project.FindRoot(filepath.Join(dir, filepath.FromSlash(d)))
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(dir, root)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		roots[filepath.ToSlash(rel)] = true
	}
	var qs []realQuery
	for _, root := range slices.Sorted(mapKeys(roots)) {
		add := func(args ...string) { qs = append(qs, realQuery{commit: commit, root: root, args: args}) }
		add("list")
		add("list", "--run-order")
		if parent != "" {
			add("list", "--changed", "--git-change-base", parent)
			add("list", "--changed", "--run-order", "--git-change-base", parent)
		}
		tags := map[string]bool{}
		for _, f := range tmFiles {
			if root != "." && !strings.HasPrefix(f, root+"/") {
				continue
			}
			src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
			if err != nil {
				continue // a symlink to nothing, say
			}
			for _, m := range tagsRE.FindAllSubmatch(src, -1) {
				for _, t := range quotedRE.FindAllSubmatch(m[1], -1) {
					tags[string(t[1])] = true
				}
			}
		}
		for i, t := range slices.Sorted(mapKeys(tags)) {
			if i == maxTags {
				break
			}
			add("list", "--tags", t)
			add("list", "--run-order", "--tags", t)
			add("list", "--no-tags", t)
		}
	}
	return qs, nil
}

// mapKeys yields the keys of m, in no order.
func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// hiddenPath reports whether a slash path has a component starting with
// '.': Terramate loads no configuration from such directories.
func hiddenPath(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if strings.HasPrefix(c, ".") {
			return true
		}
	}
	return false
}

// git runs git in dir with the harness's environment and returns its
// standard output.
func (h *harness) git(dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(context.Background(), "git", args...)
	cmd.Dir = dir
	cmd.Env = h.env
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, exit.Stderr)
		}
		return "", err
	}
	return string(out), nil
}
