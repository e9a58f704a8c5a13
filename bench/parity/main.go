// Command parity is the differential harness: it generates random
// Terramate repositories (internal/parity.Generate), asks tmci and a real
// Terramate the same queries on both branches of each, and reports every
// disagreement.
//
//	parity -terramate /path/to/terramate -tmci /path/to/tmci -n 200 [-seed 1] [-save DIR]
//	parity -terramate /path/to/terramate -record testdata/repos/X.txtar
//	parity -build testdata/repos/X.txtar DIR
//	parity -terramate /path/to/terramate -tmci /path/to/tmci -real bench/parity/repos.txt -mirror DIR [-commits N]
//
// The Terramate binary is the caller's (build 0.17.2 from its public
// source; see bench/README.md): nothing here builds or downloads it, and
// CI never runs this command. -save writes each disagreeing repository
// with Terramate's answers to every query, as a fixture for the tests
// that replay them. -record fills in the answer sections of a hand-written
// fixture.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/parity"
)

func main() {
	tm := flag.String("terramate", os.Getenv("TERRAMATE"), "Terramate `BINARY` to compare with (default $TERRAMATE)")
	tmci := flag.String("tmci", "tmci", "tmci `BINARY`")
	n := flag.Int("n", 200, "number of random repositories")
	seed := flag.Uint64("seed", 1, "first seed")
	jobs := flag.Int("j", 2, "repositories checked at once")
	save := flag.String("save", "", "write each disagreeing repository, with Terramate's answers, into `DIR`")
	record := flag.String("record", "", "fill in Terramate's answers in the fixture `FILE` and exit")
	verbose := flag.Bool("v", false, "print both answers of every disagreement")
	build := flag.String("build", "", "build the repository of the fixture `FILE` (answers left out) into the directory argument and exit")
	realList := flag.String("real", "", "compare on the public repositories listed in `FILE` (owner/name COMMIT a line) instead of random ones")
	mirror := flag.String("mirror", "", "with -real: the `DIR` holding the repositories' git snapshots (DIR/owner+name/repo, DIR/owner+name or DIR/owner/name)")
	commits := flag.Int("commits", 0, "with -real: at most `N` commits of each history, newest first (0: every commit)")
	maxTags := flag.Int("tags", 3, "with -real: tag queries for at most `N` stack tags per root and commit")
	flag.Parse()
	if *build != "" {
		if err := buildFixture(*build, flag.Arg(0)); err != nil {
			fmt.Fprintln(os.Stderr, "parity:", err)
			os.Exit(1)
		}
		return
	}
	if *tm == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: parity -terramate BINARY [-tmci BINARY] [-n N] [-seed S] [-j J] [-save DIR] | -record FILE | -real FILE -mirror DIR [-commits N] [-tags N]")
		os.Exit(2)
	}
	if *record != "" {
		*tmci = "" // only Terramate answers
	}
	h, err := newHarness(*tm, *tmci)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		os.Exit(1)
	}
	code := 0
	if *record != "" {
		if err := h.record(*record); err != nil {
			fmt.Fprintln(os.Stderr, "parity:", err)
			code = 1
		}
	} else if *realList != "" {
		if *mirror == "" {
			fmt.Fprintln(os.Stderr, "parity: -real needs -mirror DIR")
			code = 2
		} else {
			code = h.compareReal(*realList, *mirror, *commits, *maxTags, *jobs, *verbose)
		}
	} else {
		code = h.compareMany(*seed, *n, *jobs, *save, *verbose)
	}
	os.RemoveAll(h.tmp)
	os.Exit(code)
}

// harness runs both tools with a hermetic environment.
type harness struct {
	tm, tmci string
	tmp      string
	env      []string
}

func newHarness(tm, tmci string) (*harness, error) {
	for _, b := range []*string{&tm, &tmci} {
		if *b == "" {
			continue
		}
		p, err := exec.LookPath(*b)
		if err != nil {
			return nil, err
		}
		if *b, err = filepath.Abs(p); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "parity-")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(tmp, "terramate.rc")
	if err := os.WriteFile(cfg, []byte("disable_checkpoint = true\ndisable_checkpoint_signature = true\ndisable_telemetry = true\n"), 0o644); err != nil {
		return nil, err
	}
	// No CI variables, no user git configuration: both tools see a plain
	// checkout outside CI.
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + tmp,
		"TM_CLI_CONFIG_FILE=" + cfg, "CHECKPOINT_DISABLE=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	}
	return &harness{tm: tm, tmci: tmci, tmp: tmp, env: env}, nil
}

// result is the outcome of one repository.
type result struct {
	seed     uint64
	queries  int
	differ   []string // descriptions of disagreements
	known    []string // differences DESIGN.md documents
	archive  *txtar.Archive
	tmAnswer []string
	err      error
}

func (h *harness) compareMany(first uint64, n, jobs int, save string, verbose bool) int {
	results := make([]result, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, jobs))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = h.compareSeed(first + uint64(i))
		}()
	}
	wg.Wait()
	var queries, differ, known, failed int
	kinds := map[string]int{}
	for _, r := range results {
		queries += r.queries
		known += len(r.known)
		if r.err != nil {
			failed++
			fmt.Printf("seed %d: harness error: %v\n", r.seed, r.err)
			continue
		}
		if len(r.differ) == 0 {
			continue
		}
		differ++
		fmt.Printf("seed %d: %d of %d queries differ\n", r.seed, len(r.differ), r.queries)
		for _, d := range r.differ {
			first, _, _ := strings.Cut(d, "\n")
			kinds[kindOf(first)]++
			if verbose {
				fmt.Println("  " + strings.ReplaceAll(d, "\n", "\n  "))
			} else {
				fmt.Println("  " + first)
			}
		}
		if save != "" {
			if err := saveFixture(save, r); err != nil {
				fmt.Fprintln(os.Stderr, "parity:", err)
				return 1
			}
		}
	}
	fmt.Printf("repositories %d, queries %d, repositories with a disagreement %d, harness errors %d, known differences %d\n", n, queries, differ, failed, known)
	printKinds("disagreements by query", kinds)
	if differ > 0 || failed > 0 {
		return 1
	}
	return 0
}

// kindOf names a disagreement by its query without branch and tag values.
func kindOf(desc string) string {
	f := strings.Fields(desc)
	var out []string
	for _, w := range f[2:] {
		if w == "differs:" || w == "fails" {
			break
		}
		if strings.HasPrefix(w, "--") || w == "list" || w == "run" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// compareSeed builds one repository and asks both tools every query.
func (h *harness) compareSeed(seed uint64) result {
	repo := parity.Generate(seed)
	res := result{seed: seed, archive: repo.Archive}
	answers, err := h.ask(repo.Archive, repo.Queries, func(dir string, q parity.Query) (string, error) {
		tmA, err := h.answer(h.tm, dir, q)
		if err != nil {
			return "", err
		}
		tmciA, err := h.answer(h.tmci, dir, q)
		if err != nil {
			return "", err
		}
		res.queries++
		if tmA != tmciA {
			desc := fmt.Sprintf("%s differs:\n--- terramate\n%s--- tmci\n%s", q.Section(), tmA, tmciA)
			if knownDifference(q, tmA, tmciA) {
				res.known = append(res.known, desc)
			} else {
				res.differ = append(res.differ, desc)
			}
		}
		return tmA, nil
	})
	res.tmAnswer, res.err = answers, err
	return res
}

// ask builds the archive's repository and calls answer for every query in
// order, switching to branch main (forced, work tree cleaned) when the
// queries do.
func (h *harness) ask(ar *txtar.Archive, queries []parity.Query, answer func(dir string, q parity.Query) (string, error)) ([]string, error) {
	dir, err := os.MkdirTemp(h.tmp, "repo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := fixture.BuildArchive(ar, dir); err != nil {
		return nil, err
	}
	branch, err := headBranch(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, q := range queries {
		if q.Branch != branch {
			if err := checkout(dir, q.Branch); err != nil {
				return nil, err
			}
			branch = q.Branch
		}
		a, err := answer(dir, q)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// headBranch returns the branch a fixture's repository ends on.
func headBranch(dir string) (string, error) {
	cmd := exec.Command("git", "symbolic-ref", "--short", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// checkout switches to branch, dropping the work tree changes.
func checkout(dir, branch string) error {
	for _, args := range [][]string{{"checkout", "-qf", branch}, {"clean", "-qfdx"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// answer asks one tool one query in the repository at top. A failing
// command answers "ERROR" (both tools must fail alike; their messages
// differ by design).
func (h *harness) answer(bin, top string, q parity.Query) (string, error) {
	args := []string{"-C", filepath.Join(top, q.Dir)}
	var out string
	if q.IsRun() {
		f, err := os.CreateTemp(h.tmp, "run-")
		if err != nil {
			return "", err
		}
		out = f.Name()
		f.Close()
		defer os.Remove(out)
		args = append(args, "run")
		if bin == h.tm {
			args = append(args, "--quiet", "--disable-safeguards=all")
		} else {
			work, err := os.MkdirTemp(h.tmp, "work-")
			if err != nil {
				return "", err
			}
			defer os.RemoveAll(work)
			args = append(args, "--parallel=1", "--log-mode=quiet", "--work-dir="+work)
		}
		args = append(args, q.Args[1:]...)
		args = append(args, "--", "sh", "-c", parity.RunScript)
	} else {
		args = append(args, q.Args...)
	}
	cmd := exec.CommandContext(context.Background(), bin, args...)
	cmd.Env = append(slices.Clone(h.env), "PARITY_OUT="+out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return "ERROR\n", nil
	}
	if err != nil {
		return "", err
	}
	if !q.IsRun() {
		return stdout.String(), nil
	}
	printed, err := os.ReadFile(out)
	if err != nil {
		return "", err
	}
	return parity.RunAnswer(top, string(printed)), nil
}

// knownDifference reports the difference dag's package documentation
// describes: Terramate's `list --changed --run-order` can lose the edge
// from a parent stack to a nested one, which moves nested stacks (even
// before their parent); tmci keeps it. The answers must hold the same
// stacks, and the stacks without a parent stack among them must come in
// the same order: only nested stacks may move.
func knownDifference(q parity.Query, tmA, tmciA string) bool {
	if !slices.Contains(q.Args, "--changed") || !slices.Contains(q.Args, "--run-order") {
		return false
	}
	a, b := strings.Fields(tmA), strings.Fields(tmciA)
	if !slices.Equal(sorted(a), sorted(b)) {
		return false
	}
	return slices.Equal(outermost(a), outermost(b))
}

// outermost keeps the stacks of l (paths printed by list) that have no
// parent stack in l, in order.
func outermost(l []string) []string {
	var out []string
	for _, s := range l {
		nested := false
		for _, p := range l {
			if p != s && (p == "." || strings.HasPrefix(s, p+"/")) {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, s)
		}
	}
	return out
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// saveFixture writes r's repository with Terramate's answers as
// DIR/parity-<seed>.txtar.
func saveFixture(dir string, r result) error {
	comment := string(r.archive.Comment) + "tmci disagreed with Terramate, when saved, on:\n"
	for _, d := range r.differ {
		first, _, _ := strings.Cut(d, "\n")
		comment += "  " + strings.TrimSuffix(strings.TrimPrefix(first, "want "), " differs:") + "\n"
	}
	ar := &txtar.Archive{Comment: []byte(comment), Files: slices.Clone(r.archive.Files)}
	for i, q := range parity.Generate(r.seed).Queries {
		ar.Files = append(ar.Files, txtar.File{Name: q.Section(), Data: []byte(r.tmAnswer[i])})
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("parity-%d.txtar", r.seed)), txtar.Format(ar), 0o644)
}

// record asks Terramate the queries of a fixture's answer sections and
// writes its answers into them.
func (h *harness) record(file string) error {
	repo, queries, _, err := parity.ReadFixture(file)
	if err != nil {
		return err
	}
	answers, err := h.ask(repo, queries, func(dir string, q parity.Query) (string, error) {
		return h.answer(h.tm, dir, q)
	})
	if err != nil {
		return err
	}
	for i, q := range queries {
		repo.Files = append(repo.Files, txtar.File{Name: q.Section(), Data: []byte(answers[i])})
	}
	return os.WriteFile(file, txtar.Format(repo), 0o644)
}

// buildFixture builds the repository of a fixture file into dir, for
// looking at a disagreement by hand.
func buildFixture(file, dir string) error {
	if dir == "" {
		return errors.New("-build needs a directory argument")
	}
	repo, _, _, err := parity.ReadFixture(file)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fixture.BuildArchive(repo, dir)
}
