// Package parity generates random Terramate repositories and the queries
// both tmci and Terramate answer about them, for the differential harness
// (bench/parity, which runs a real Terramate) and for the tests that replay
// Terramate's recorded answers (CI never needs Terramate).
//
// A repository is a txtar archive in internal/fixture's format; a fixture
// saved by the harness adds one section per query, named by Query.Section,
// whose body is Terramate's answer.
package parity

import (
	"fmt"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

// Branches are the branches every generated repository has. Queries run
// on Feature first (where the archive leaves the work tree, with
// uncommitted changes), then on Main after a forced checkout and clean. A
// hand-written fixture may end on either; its first queries name that one.
const (
	Feature = "feature"
	Main    = "main"
)

// Query is one question both tools answer: `list ...` (its standard
// output is the answer) or `run ...` (the answer is the directories the
// command ran in, in order, as paths from the git top level: "/infra/a").
type Query struct {
	Branch string
	// Dir is the working directory, slash-separated from the git top
	// level; "." is the top level.
	Dir string
	// Args are the command and its flags: "list", "--changed", ...
	Args []string
}

// IsRun reports whether the query runs a command in the stacks.
func (q Query) IsRun() bool { return len(q.Args) > 0 && q.Args[0] == "run" }

// Section is the name of the archive section holding the query's
// recorded answer: "want feature infra list --changed".
func (q Query) Section() string {
	return "want " + q.Branch + " " + q.Dir + " " + strings.Join(q.Args, " ")
}

// ParseSection is the inverse of Section; ok is false for a section that
// holds no answer.
func ParseSection(name string) (q Query, ok bool, err error) {
	rest, ok := strings.CutPrefix(name, "want ")
	if !ok {
		return Query{}, false, nil
	}
	f := strings.Fields(rest)
	if len(f) < 3 || (f[0] != Feature && f[0] != Main) || (f[2] != "list" && f[2] != "run") {
		return Query{}, true, fmt.Errorf("section %q: want \"want <branch> <dir> list|run [flags]\"", name)
	}
	return Query{Branch: f[0], Dir: f[1], Args: f[2:]}, true, nil
}

// Split separates an archive into the repository (every section that is
// not an answer) and the recorded answers, in order.
func Split(ar *txtar.Archive) (repo *txtar.Archive, queries []Query, answers []string, err error) {
	repo = &txtar.Archive{Comment: ar.Comment}
	for _, f := range ar.Files {
		q, isAnswer, err := ParseSection(f.Name)
		if err != nil {
			return nil, nil, nil, err
		}
		if !isAnswer {
			repo.Files = append(repo.Files, f)
			continue
		}
		queries = append(queries, q)
		answers = append(answers, string(f.Data))
	}
	return repo, queries, answers, nil
}

// ReadFixture reads a fixture file and splits it as Split does.
func ReadFixture(file string) (repo *txtar.Archive, queries []Query, answers []string, err error) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		return nil, nil, nil, err
	}
	return Split(ar)
}

// RunScript is the shell command both tools run in every stack for a run
// query: it appends the working directory to the file $PARITY_OUT.
const RunScript = `echo "$PWD" >>"$PARITY_OUT"`

// RunAnswer turns the directories a run query's command printed (absolute
// paths, one a line) into its answer: paths from the git top level top.
func RunAnswer(top, printed string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(printed), "\n") {
		if line == "" {
			continue
		}
		rel := strings.TrimPrefix(line, strings.TrimSuffix(top, "/"))
		if rel == "" {
			rel = "/"
		}
		b.WriteString(rel + "\n")
	}
	return b.String()
}
