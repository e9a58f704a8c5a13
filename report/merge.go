package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tmci/tmci/internal/repofile"
)

// Merging the reports of fan-out jobs: each job of a GitHub matrix or a
// GitLab child pipeline runs tmci for some stacks of one environment and
// keeps its <work>/<env> directory as an artifact; Merge turns those
// parts into one report, whose summary and comment are rendered within
// the same size limits as a single run's.

// maxPartReport bounds a part's report.json: a run of 10,000 stacks
// writes about 10 MiB.
const maxPartReport = 64 << 20

// maxPartLog bounds what is read of one stack's log to recover its plan
// excerpt and failure tail.
const maxPartLog = 32 << 20

// ReadPart reads one fan-out job's report directory (<work>/<env>, as
// the job's artifact holds it): report.json, and from each stack's log
// under logs/ the plan excerpt and failure tail that report.json does not
// carry. Parts come from other jobs' artifacts, so every path is checked
// and every read bounded; a missing log only loses its excerpt.
func ReadPart(dir string) (*Report, error) {
	file := filepath.Join(dir, "report.json")
	data, err := repofile.Read(file, maxPartReport)
	if err != nil {
		return nil, fmt.Errorf("reading the part %s: %w", dir, err)
	}
	var r Report
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: not a tmci report: %w", file, err)
	}
	if r.SchemaVersion != ReportSchemaVersion {
		return nil, fmt.Errorf("%s: report schema version %d, this tmci reads %d: merge with the tmci that wrote it", file, r.SchemaVersion, ReportSchemaVersion)
	}
	for i := range r.Stacks {
		s := &r.Stacks[i]
		rel, err := stackLog(s.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: stack %d: %w", file, i+1, err)
		}
		log, err := repofile.Read(filepath.Join(dir, "logs", rel), maxPartLog)
		if err != nil {
			continue
		}
		if s.Plan != nil {
			var p PlanText
			p.Write(log)
			s.Plan.Excerpt = p.Excerpt()
		}
		if s.Status == StatusFailed || s.Status == StatusInterrupted {
			s.LogTail = TailOf(log)
		}
	}
	return &r, nil
}

// stackLog is the log file of the stack at project path p, relative to
// the logs directory (engine.Layout: "/a/b" → "a/b.log", "/" →
// ".root.log"). A path that is not a clean absolute project path is an
// error: it would read outside the part.
func stackLog(p string) (string, error) {
	if p == "/" {
		return ".root.log", nil
	}
	rel := strings.TrimPrefix(p, "/")
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("stack path %q is not a project path", p)
	}
	return filepath.FromSlash(rel) + ".log", nil
}

// PartDirs expands the PART arguments of tmci report merge: a directory
// holding report.json is a part; one that does not stands for its
// subdirectories that do, in name order (the layout of several
// downloaded CI artifacts, one directory each).
func PartDirs(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, "report.json")); err == nil {
			dirs = append(dirs, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", a, err)
		}
		n := len(dirs)
		for _, e := range entries {
			sub := filepath.Join(a, e.Name())
			if fi, err := os.Stat(filepath.Join(sub, "report.json")); e.IsDir() && err == nil && fi.Mode().IsRegular() {
				dirs = append(dirs, sub)
			}
		}
		if len(dirs) == n {
			return nil, fmt.Errorf("part %s holds no report.json, nor do its subdirectories: name the <work>/<env> directory of each fan-out job", a)
		}
	}
	return dirs, nil
}

// Merge returns one report of the parts' stacks, in part order: same
// command and environment, times spanning all parts, the totals
// recomputed, and the exit code the worst of the parts' (1 over 2 over
// 0). A stack in two parts is an error: fan-out jobs share no stack.
func Merge(parts []*Report) (*Report, error) {
	if len(parts) == 0 {
		return nil, errors.New("no parts to merge")
	}
	first := parts[0]
	m := &Report{
		TmciVersion: first.TmciVersion,
		Command:     first.Command,
		Environment: first.Environment,
		Binary:      first.Binary,
		Base:        first.Base,
		StartedAt:   first.StartedAt,
		Stacks:      []StackReport{},
	}
	end := first.EndedAt
	seen := map[string]int{}
	for i, p := range parts {
		if p.Command != m.Command || p.Environment != m.Environment {
			return nil, fmt.Errorf("part %d is %s of %s, part 1 is %s of %s: merge the parts of one run", i+1, p.Command, p.Environment, m.Command, m.Environment)
		}
		if p.Base != m.Base {
			m.Base = ""
		}
		if p.StartedAt.Before(m.StartedAt) {
			m.StartedAt = p.StartedAt
		}
		if p.EndedAt.After(end) {
			end = p.EndedAt
		}
		m.Interrupted = m.Interrupted || p.Interrupted
		m.ExitCode = worseExit(m.ExitCode, p.ExitCode)
		for _, s := range p.Stacks {
			if j, dup := seen[s.Path]; dup {
				return nil, fmt.Errorf("stack %s is in part %d and part %d: fan-out jobs must not share stacks", s.Path, j+1, i+1)
			}
			seen[s.Path] = i
			m.Stacks = append(m.Stacks, s)
		}
	}
	m.Finish(end)
	return m, nil
}

// worseExit orders exit codes as docs/architecture.md does: 1 over 2
// over 0; any other code counts as a failure.
func worseExit(a, b int) int {
	rank := func(c int) int {
		switch c {
		case 0:
			return 0
		case 2:
			return 1
		}
		return 2
	}
	if rank(b) > rank(a) {
		if rank(b) == 2 {
			return 1
		}
		return b
	}
	return a
}
