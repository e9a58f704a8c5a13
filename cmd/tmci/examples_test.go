package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tmci/tmci/internal/forgefake"
	"github.com/tmci/tmci/internal/testenv"
	"gopkg.in/yaml.v3"
)

// The tests in this file keep examples/ci working: every GitHub workflow
// passes actionlint, every step that runs tmci runs against a copy of
// examples/acme with GitHub's variables and event payloads simulated, and
// the GitLab pipeline, child pipeline included, runs under gitlab-ci-local.

const examplesDir = "../../examples"

// requireTool returns the path of name on PATH or in dirs, or skips (fails
// under TMCI_TEST_REQUIRE_ALL) with how to install it.
func requireTool(t *testing.T, name, install string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	testenv.Missing(t, "%s", fmt.Sprintf("%s not found: %s (see .ci/run)", name, install))
	return ""
}

func goBin() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go", "bin")
}

// buildTmci builds the tmci binary into a directory of its own and
// returns that directory.
func buildTmci(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "tmci"), ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// acmeRepo is a git repository holding examples/acme (plus extra files
// from dirs copied over it) on main, and a feature branch that changes
// /network/dns and /platform/registry, two stacks no order joins.
type acmeRepo struct {
	dir, main, feature string
}

func newAcmeRepo(t *testing.T, extra ...string) acmeRepo {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join(examplesDir, "acme"), dir)
	for _, e := range extra {
		copyDir(t, e, dir)
	}
	writeFile(t, filepath.Join(dir, ".gitignore"), ".tmci/\n.tmci-state/\n.gitlab-ci-local/\n.gitlab-ci-local-variables.yml\n")
	testenv.Git(t, dir, "init", "-q", "-b", "main")
	testenv.Git(t, dir, "add", "-A")
	testenv.Git(t, dir, "commit", "-qm", "acme")
	r := acmeRepo{dir: dir, main: testenv.Git(t, dir, "rev-parse", "HEAD")}
	testenv.Git(t, dir, "checkout", "-qb", "feature")
	for _, s := range []string{"network/dns", "platform/registry"} {
		appendFile(t, filepath.Join(dir, s, "main.tf"), "\nresource \"terraform_data\" \"feature\" {\n  input = \"feature\"\n}\n")
	}
	testenv.Git(t, dir, "commit", "-qam", "feature")
	r.feature = testenv.Git(t, dir, "rev-parse", "HEAD")
	return r
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func githubWorkflows(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(examplesDir, "ci", "github", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows in examples/ci/github: %v", err)
	}
	return files
}

// TestExamplesActionlint lints the workflows and action.yml, checking
// each use of the tmci action against the inputs action.yml declares:
// actionlint reads the metadata of local actions only, so the workflows
// are linted in a repository holding action.yml at its root, with
// `uses: tmci/tmci@REF` rewritten to `uses: ./`.
func TestExamplesActionlint(t *testing.T) {
	t.Parallel()
	bin := requireTool(t, "actionlint", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12", goBin())
	action, err := os.ReadFile(filepath.Join(examplesDir, "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	lint := func(t *testing.T, workflows map[string]string) (string, error) {
		dir := t.TempDir()
		testenv.Git(t, dir, "init", "-q")
		writeFile(t, filepath.Join(dir, "action.yml"), string(action))
		var files []string
		for name, text := range workflows {
			path := filepath.Join(dir, ".github", "workflows", name)
			writeFile(t, path, text)
			files = append(files, path)
		}
		cmd := exec.Command(bin, append([]string{"-no-color"}, files...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	uses := regexp.MustCompile(`(?m)^(\s*(?:- )?uses:\s*)tmci/tmci@\S+`)
	workflows := map[string]string{}
	n := 0
	for _, f := range githubWorkflows(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(uses.FindAllIndex(data, -1))
		workflows[filepath.Base(f)] = uses.ReplaceAllString(string(data), "${1}./")
	}
	if n < 5 {
		t.Errorf("the workflows use the tmci action %d times, want every tmci step to", n)
	}
	if out, err := lint(t, workflows); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
	// The check is live: an input action.yml does not declare fails.
	bad := strings.Replace(workflows["plan.yml"], "terraform-version: 1.5.7", "terraform-verison: 1.5.7", 1)
	if bad == workflows["plan.yml"] {
		t.Fatal("plan.yml sets no terraform-version to misspell")
	}
	if out, err := lint(t, map[string]string{"plan.yml": bad}); err == nil || !strings.Contains(out, "terraform-verison") {
		t.Errorf("actionlint accepted an input the action does not declare: %v\n%s", err, out)
	}
}

// workflow is the part of a GitHub Actions workflow the simulation reads.
type workflow struct {
	On   yaml.Node         `yaml:"on"`
	Env  map[string]string `yaml:"env"`
	Jobs yaml.Node         `yaml:"jobs"`
}

type job struct {
	Env      map[string]string `yaml:"env"`
	Needs    any               `yaml:"needs"`
	Outputs  map[string]string `yaml:"outputs"`
	Strategy struct {
		Matrix any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []step `yaml:"steps"`
}

type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
	Dir  string            `yaml:"working-directory"`
}

// action is the part of action.yml the simulation reads.
type action struct {
	Inputs map[string]struct {
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

// actionRef matches a step that uses the tmci action, as the examples
// pin it.
var actionRef = regexp.MustCompile(`^tmci/tmci@\S+$`)

var (
	expr      = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	tmciLine  = regexp.MustCompile(`(?m)^\s*(?:[A-Z_]+="[^"]*"\s+|env -u \S+\s+)?tmci\s`)
	fromJSONs = regexp.MustCompile(`^fromJSON\((.*)\)$`)
)

// ghSim runs the tmci steps of GitHub workflows in one repository, in
// the order a pull request's life runs them.
type ghSim struct {
	t        *testing.T
	repo     acmeRepo
	path     string // PATH for steps
	temp     string
	event    string
	payload  string
	vars     map[string]string // GITHUB_* for the event
	steps    map[string]map[string]string
	jobOuts  map[string]map[string]string
	matrix   map[string]string
	jobIndex int               // of the matrix entry
	inputs   map[string]string // of the action step being run
	ran      int               // tmci steps run
	scripts  int               // scripts run, tmci's or not
	api      string            // GITHUB_API_URL: the fake GitHub
	// artifacts holds uploaded artifacts, one directory each.
	artifacts string
}

// eval resolves one ${{ }} expression the example workflows use; an
// expression it does not know fails the test, so the examples stay within
// what is simulated.
func (s *ghSim) eval(e string, env map[string]string) string {
	s.t.Helper()
	parts := strings.Split(e, ".")
	switch {
	case e == "github.event.pull_request.number":
		return "7"
	case e == "github.token":
		return "not-a-token"
	case e == "github.repository":
		return "acme/infra"
	case e == "runner.temp":
		return s.runnerTemp()
	case e == "strategy.job-index":
		return strconv.Itoa(s.jobIndex)
	case len(parts) == 2 && parts[0] == "env":
		return env[parts[1]]
	case len(parts) == 2 && parts[0] == "inputs":
		v, ok := s.inputs[parts[1]]
		if !ok {
			s.t.Fatalf("the action has no input %q", parts[1])
		}
		return v
	case len(parts) == 2 && parts[0] == "vars":
		return "" // repository variables: none set here
	case len(parts) == 2 && parts[0] == "matrix":
		return s.matrix[parts[1]]
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		return s.steps[parts[1]][parts[3]]
	case len(parts) == 4 && parts[0] == "needs" && parts[2] == "outputs":
		return s.jobOuts[parts[1]][parts[3]]
	}
	s.t.Fatalf("the simulation does not know the expression ${{ %s }}", e)
	return ""
}

// runnerTemp is RUNNER_TEMP, one directory for the whole simulation.
func (s *ghSim) runnerTemp() string {
	dir := filepath.Join(s.temp, "runner")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	return dir
}

func (s *ghSim) expand(v string, env map[string]string) string {
	return expr.ReplaceAllStringFunc(v, func(m string) string {
		return s.eval(expr.FindStringSubmatch(m)[1], env)
	})
}

// run simulates one workflow file: each job in file order, each matrix
// entry of a job, and within it every step whose script runs tmci.
func (s *ghSim) run(file string) {
	t := s.t
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	wfEnv := map[string]string{}
	for k, v := range wf.Env {
		wfEnv[k] = s.expand(v, wfEnv)
	}
	for i := 0; i+1 < len(wf.Jobs.Content); i += 2 {
		name := wf.Jobs.Content[i].Value
		var j job
		if err := wf.Jobs.Content[i+1].Decode(&j); err != nil {
			t.Fatalf("%s: job %s: %v", file, name, err)
		}
		jobEnv := maps.Clone(wfEnv)
		for k, v := range j.Env {
			jobEnv[k] = s.expand(v, jobEnv)
		}
		entries := []map[string]string{nil}
		if m, ok := j.Strategy.Matrix.(string); ok {
			inner := fromJSONs.FindStringSubmatch(strings.TrimSpace(expr.FindStringSubmatch(m)[1]))
			if inner == nil {
				t.Fatalf("%s: job %s: matrix %q is not fromJSON(...)", file, name, m)
			}
			var mat struct{ Include []map[string]string }
			if err := json.Unmarshal([]byte(s.eval(inner[1], jobEnv)), &mat); err != nil {
				t.Fatalf("%s: job %s: the matrix output is not JSON: %v", file, name, err)
			}
			if len(mat.Include) == 0 {
				t.Fatalf("%s: job %s: empty matrix", file, name)
			}
			entries = mat.Include
		}
		for k, entry := range entries {
			s.matrix, s.jobIndex = entry, k
			s.steps = map[string]map[string]string{}
			for k, st := range j.Steps {
				s.step(fmt.Sprintf("%s/%s step %d (%s)", filepath.Base(file), name, k+1, st.Name), st, jobEnv)
			}
			outs := map[string]string{}
			for k, v := range j.Outputs {
				outs[k] = s.expand(v, jobEnv)
			}
			s.jobOuts[name] = outs
		}
	}
}

func (s *ghSim) step(where string, st step, jobEnv map[string]string) {
	t := s.t
	env := maps.Clone(jobEnv)
	for k, v := range st.Env {
		env[k] = s.expand(v, env)
	}
	if actionRef.MatchString(st.Uses) {
		s.useAction(where, st, env)
		return
	}
	usesTmci := tmciLine.MatchString(st.Run)
	if strings.Contains(st.Run, "gh ") {
		t.Errorf("%s: calls gh; post through tmci comment", where)
	}
	switch {
	case strings.HasPrefix(st.Uses, "actions/upload-artifact@"):
		s.upload(where, st, env)
		return
	case strings.HasPrefix(st.Uses, "actions/download-artifact@"):
		s.download(where, st, env)
		return
	}
	// Steps that install tools are left out (tmci and terraform are on
	// PATH); every other script runs.
	if st.Run == "" || strings.Contains(st.Run, "go install") {
		return
	}
	s.scripts++
	dir := filepath.Join(s.temp, fmt.Sprintf("step%d", s.scripts))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s.expand(st.Run, env))
	cmd.Dir = filepath.Join(s.repo.dir, s.expand(st.Dir, env))
	cmd.Env = []string{"PATH=" + s.path, "HOME=" + s.temp, "RUNNER_TEMP=" + s.runnerTemp(), "CHECKPOINT_DISABLE=1",
		"GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary, "GITHUB_WORKSPACE=" + s.repo.dir}
	for k, v := range s.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if usesTmci {
		s.ran++
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", where, err, st.Run, out)
	}
	s.steps[st.ID] = readOutputs(t, output)
}

// useAction runs a step that uses the tmci action as a composite action
// runs: the inputs from with: (checked against action.yml, defaults
// filled in), then each of the action's steps that runs tmci, then the
// action's outputs from its steps' outputs. Steps that install tools are
// left out: tmci and terraform are already on PATH.
func (s *ghSim) useAction(where string, st step, env map[string]string) {
	t := s.t
	data, err := os.ReadFile(filepath.Join(examplesDir, "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml runs using %q, want composite", a.Runs.Using)
	}
	inputs := map[string]string{}
	for k, v := range st.With {
		if _, ok := a.Inputs[k]; !ok {
			t.Fatalf("%s: the action has no input %q", where, k)
		}
		inputs[k] = s.expand(v, env)
	}
	for k, in := range a.Inputs {
		if _, ok := inputs[k]; !ok {
			if in.Required {
				t.Fatalf("%s: the action's input %q is required", where, k)
			}
			inputs[k] = s.expand(in.Default, env)
		}
	}
	outer := s.steps
	s.steps, s.inputs = map[string]map[string]string{}, inputs
	for k, inner := range a.Runs.Steps {
		if inner.Run != "" {
			s.step(fmt.Sprintf("%s: action step %d (%s)", where, k+1, inner.Name), inner, env)
		}
	}
	outs := map[string]string{}
	for k, o := range a.Outputs {
		outs[k] = s.expand(o.Value, env)
	}
	s.steps, s.inputs = outer, nil
	if st.ID != "" {
		s.steps[st.ID] = outs
	}
}

// upload simulates actions/upload-artifact: the files and directories
// its path lines name (relative to the workspace) are copied into the
// artifact below their deepest common directory, as the action lays them
// out; overwrite: true replaces an artifact of the same name.
func (s *ghSim) upload(where string, st step, env map[string]string) {
	t := s.t
	name := s.expand(st.With["name"], env)
	if st.With["overwrite"] != "true" {
		t.Errorf("%s: upload-artifact without overwrite: true fails when a job is re-run", where)
	}
	var paths []string
	for _, line := range strings.Split(s.expand(st.With["path"], env), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			paths = append(paths, filepath.Clean(line))
		}
	}
	if len(paths) == 0 {
		t.Fatalf("%s: no path", where)
	}
	root := filepath.Dir(paths[0])
	for _, p := range paths {
		for !strings.HasPrefix(p+"/", root+"/") && root != "." {
			root = filepath.Dir(root)
		}
	}
	dst := filepath.Join(s.artifacts, name)
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		src := filepath.Join(s.repo.dir, p)
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Stat(src)
		if err != nil {
			continue // the action warns and goes on
		}
		if fi.IsDir() {
			copyTree(t, src, filepath.Join(dst, rel))
		} else {
			data, _ := os.ReadFile(src)
			writeFile(t, filepath.Join(dst, rel), string(data))
		}
	}
}

// download simulates actions/download-artifact with a pattern: each
// matching artifact lands in its own directory below path.
func (s *ghSim) download(where string, st step, env map[string]string) {
	t := s.t
	pattern, dir := s.expand(st.With["pattern"], env), s.expand(st.With["path"], env)
	if pattern == "" || dir == "" {
		t.Fatalf("%s: the simulation knows download-artifact with pattern and path only", where)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.repo.dir, dir)
	}
	matches, _ := filepath.Glob(filepath.Join(s.artifacts, pattern))
	if len(matches) == 0 {
		t.Fatalf("%s: no artifact matches %q", where, pattern)
	}
	for _, m := range matches {
		copyTree(t, m, filepath.Join(dir, filepath.Base(m)))
	}
}

// copyTree copies the regular files below src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dst, rel), string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readOutputs parses a GITHUB_OUTPUT file (name=value and heredoc forms).
func readOutputs(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, "<<") {
			out[k] = v
			continue
		}
		k, delim, ok := strings.Cut(line, "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q", line)
		}
		var vals []string
		for sc.Scan() && sc.Text() != delim {
			vals = append(vals, sc.Text())
		}
		out[k] = strings.Join(vals, "\n")
	}
	return out
}

// setEvent checks out commit, writes the event payload and sets GitHub's
// variables for event.
func (s *ghSim) setEvent(event, commit string, payload any, vars map[string]string) {
	s.t.Helper()
	testenv.Git(s.t, s.repo.dir, "checkout", "-q", commit)
	data, _ := json.Marshal(payload)
	path := filepath.Join(s.temp, event+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.vars = map[string]string{"GITHUB_API_URL": s.api, "GITHUB_REPOSITORY": "acme/infra",
		"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event,
		"GITHUB_EVENT_PATH": path, "GITHUB_SHA": testenv.Git(s.t, s.repo.dir, "rev-parse", "HEAD")}
	maps.Copy(s.vars, vars)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// reportStatuses reads a report.json as stack path -> status, plus its
// command.
func reportStatuses(t *testing.T, path string) (string, map[string]string) {
	t.Helper()
	var rep struct {
		Command string
		Stacks  []struct{ Path, Status string }
	}
	readJSON(t, path, &rep)
	out := map[string]string{}
	for _, s := range rep.Stacks {
		out[s.Path] = s.Status
	}
	return rep.Command, out
}

func TestExamplesGitHubWorkflows(t *testing.T) {
	t.Parallel()
	tfBin := findTool(t, tool{"terraform", "v1.5.7"})
	tmciDir := buildTmci(t)
	repo := newAcmeRepo(t)
	forge, gh, _ := forgefake.New(t, "not-a-token", "github-actions[bot]")
	forge.UserForbidden = true
	s := &ghSim{t: t, repo: repo, temp: t.TempDir(), jobOuts: map[string]map[string]string{}, api: gh.URL, artifacts: t.TempDir(),
		path: tmciDir + string(os.PathListSeparator) + filepath.Dir(tfBin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	wf := func(name string) string { return filepath.Join(examplesDir, "ci", "github", name) }
	seen := map[string]bool{}
	simulate := func(name string) {
		seen[name] = true
		s.run(wf(name))
	}

	// The pull request: GitHub builds the test merge commit of feature
	// into main.
	testenv.Git(t, repo.dir, "checkout", "-q", "--detach", repo.main)
	testenv.Git(t, repo.dir, "merge", "-q", "--no-ff", "-m", "Merge feature", repo.feature)
	merge := testenv.Git(t, repo.dir, "rev-parse", "HEAD")
	pr := map[string]any{"number": 7, "pull_request": map[string]any{"number": 7, "base": map[string]any{"sha": repo.main}}}
	s.setEvent("pull_request", merge, pr, map[string]string{"GITHUB_REF": "refs/pull/7/merge"})
	simulate("plan.yml")
	cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json"))
	want := map[string]string{"/network/dns": "succeeded", "/platform/registry": "succeeded"}
	if cmd != "apply" || !maps.Equal(st, want) {
		t.Errorf("after plan.yml the pr-7 report is %s %v, want the preview apply of %v", cmd, st, want)
	}
	tmciComments := func(what string, want ...string) {
		t.Helper()
		var got []string
		for _, c := range forge.Comments {
			got = append(got, c.Author+" "+strings.SplitN(c.Body, "\n", 2)[0])
			for _, w := range want {
				if !strings.Contains(c.Body, w) {
					t.Errorf("%s: the comment does not mention %s:\n%s", what, w, c.Body)
				}
			}
		}
		if diff := cmp.Diff([]string{"github-actions[bot] <!-- tmci plan pr-7 -->"}, got); diff != "" {
			t.Errorf("%s: comments on the pull request (-want +got):\n%s", what, diff)
		}
	}
	tmciComments("plan.yml", "/network/dns", "/platform/registry")

	forge.Comments[0].Body = "<!-- tmci plan pr-7 -->\nstale"
	simulate("plan-matrix.yml")
	var m struct{ Include []map[string]string }
	if err := json.Unmarshal([]byte(s.jobOuts["matrix"]["matrix"]), &m); err != nil || len(m.Include) != 2 {
		t.Errorf("the fan-out matrix has %d jobs, want one per independent changed stack: %s", len(m.Include), s.jobOuts["matrix"]["matrix"])
	}
	// The two groups' reports merged: one comment naming both stacks.
	tmciComments("plan-matrix.yml", "/network/dns", "/platform/registry", "2 stacks")

	s.setEvent("pull_request", merge, pr, map[string]string{"GITHUB_REF": "refs/pull/7/merge"})
	simulate("teardown.yml")
	if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json")); cmd != "destroy" || len(st) != 12 {
		t.Errorf("teardown.yml: report %s of %d stacks, want destroy of all 12", cmd, len(st))
	}

	// The merge lands on main.
	testenv.Git(t, repo.dir, "checkout", "-q", "-B", "main", merge)
	s.setEvent("push", "main", map[string]any{"before": repo.main, "after": merge},
		map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"})
	simulate("apply.yml")
	if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/prod/report.json")); cmd != "apply" || !maps.Equal(st, want) {
		t.Errorf("apply.yml: report %s %v, want apply of %v", cmd, st, want)
	}

	// The night after, production has drifted from main.
	appendFile(t, filepath.Join(repo.dir, "network/dns/main.tf"), "\nresource \"terraform_data\" \"hotfix\" {\n  input = \"hotfix\"\n}\n")
	testenv.Git(t, repo.dir, "commit", "-qam", "hotfix without apply")
	s.setEvent("schedule", "main", map[string]any{}, map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"})
	simulate("drift.yml")
	if s.steps["drift"]["has-drift"] != "true" || len(forge.Issues) != 1 || !strings.HasPrefix(forge.Issues[0].Body, "<!-- tmci drift prod -->") ||
		!strings.Contains(forge.Issues[0].Body, "/network/dns") {
		t.Errorf("drift.yml: has-drift=%q and %d issues, want true and 1 drift issue naming /network/dns", s.steps["drift"]["has-drift"], len(forge.Issues))
	}

	// A preview nobody applied again is torn down by the nightly job,
	// with every state object; production stays.
	tmciWant(t, 0, runEnv(t, tfBin, nil), "-C", repo.dir, "apply", "--env=pr-9", "--log-mode=quiet")
	s.setEvent("schedule", "main", map[string]any{}, map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
		"GITHUB_REF_TYPE": "branch", "TMCI_PREVIEW_MAX_AGE": "1ns"})
	simulate("teardown-stale.yml")
	if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-9/report.json")); cmd != "destroy" || len(st) != 12 {
		t.Errorf("teardown-stale.yml: pr-9 report %s of %d stacks, want destroy of all 12", cmd, len(st))
	}
	if cmd, _ := reportStatuses(t, filepath.Join(repo.dir, ".tmci/prod/report.json")); cmd == "destroy" {
		t.Error("teardown-stale.yml destroyed prod")
	}
	var left []string
	_ = filepath.WalkDir(filepath.Join(repo.dir, ".tmci-state", "pr-9"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("teardown-stale.yml left pr-9 state behind: %v", left)
	}

	for _, f := range githubWorkflows(t) {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s is not simulated: add it to this test", f)
		}
	}
	if s.ran < 7 {
		t.Errorf("only %d tmci steps ran", s.ran)
	}
}

// gitlabCILocal finds gitlab-ci-local: on PATH or where .ci/run installs
// it, and checks that rsync, which it needs, is there.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	local, err := filepath.Abs("../../.ci/node/node_modules/.bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := requireTool(t, "gitlab-ci-local", "npm install --prefix .ci/node gitlab-ci-local@4.56.2", local)
	requireTool(t, "rsync", "apt-get install rsync")
	return bin
}

// gitlabRun runs one pipeline (or the jobs named in args) under
// gitlab-ci-local in dir and returns its output. It fails the test when
// gitlab-ci-local fails or any job, child pipelines' included, fails.
func gitlabRun(t *testing.T, bin, dir string, vars map[string]string, args ...string) string {
	t.Helper()
	cmdArgs := []string{"--shell-executor-no-image=true", "--no-color", "--variable", "GITLAB_CI=true"}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		cmdArgs = append(cmdArgs, "--variable", k+"="+vars[k])
	}
	pinComponent(t, dir)
	cmd := exec.Command(bin, append(cmdArgs, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gitlab-ci-local %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if m := regexp.MustCompile(`(?m)^\s*FAIL\s+(.+)$`).FindAllString(string(out), -1); len(m) > 0 {
		t.Fatalf("gitlab-ci-local %s: jobs failed: %q\n%s", strings.Join(args, " "), m, out)
	}
	return string(out)
}

// componentReports reads the artifacts:reports the tmci component's job
// declares, for environment env.
func componentReports(t *testing.T, env string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, "..", "templates", "tmci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	_, jobs, ok := strings.Cut(string(data), "\n---\n")
	if !ok {
		t.Fatal("templates/tmci.yml has no spec header ending in ---")
	}
	var doc map[string]struct {
		Artifacts struct{ Reports map[string]string }
	}
	if err := yaml.Unmarshal([]byte(jobs), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range doc["$[[ inputs.job ]]"].Artifacts.Reports {
		out[k] = strings.ReplaceAll(v, "$[[ inputs.env ]]", env)
	}
	return out
}

// componentRef matches the pipeline's includes of the tmci component.
var componentRef = regexp.MustCompile(`component: \S+/tmci@\S+`)

// pinComponent points the pipeline's component includes at the copy of
// templates/ in dir. gitlab-ci-local resolves `include: component:` from
// the working tree only when the component's project is the repository's
// own (its gcl-origin remote) and the ref is HEAD's commit, so the include
// is rewritten to that, in the working tree only, before every run; the
// component file itself is the one this repository ships.
func pinComponent(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, ".gitlab-ci.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head := testenv.Git(t, dir, "rev-parse", "HEAD")
	out := componentRef.ReplaceAll(data, []byte("component: gitlab.example.com/acme/infra/tmci@"+head))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// passed lists the jobs gitlab-ci-local reports as passed or allowed to
// fail (WARN), sorted.
func passed(out string) []string {
	var jobs []string
	// Child pipeline jobs show as "[trigger job] -> job".
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:PASS|WARN)\s+(?:\[\S+\] -> )?(\S.*?)\s*$`).FindAllStringSubmatch(out, -1) {
		if !strings.Contains(m[1], "downstream pipeline is experimental") {
			jobs = append(jobs, m[1])
		}
	}
	slices.Sort(jobs)
	return jobs
}

func TestExamplesGitLabPipeline(t *testing.T) {
	t.Parallel()
	bin := gitlabCILocal(t)
	tfBin := findTool(t, tool{"terraform", "v1.5.7"})
	tmciDir := buildTmci(t)
	repo := newAcmeRepo(t, filepath.Join(examplesDir, "ci", "gitlab"))
	// The component, as the project including it would find it.
	copyDir(t, filepath.Join(examplesDir, "..", "templates"), filepath.Join(repo.dir, "templates"))
	// No Docker here: jobs run on gitlab-ci-local's shell executor, which
	// it uses only for jobs without an image, so the copy drops the
	// component's image line (the one change made to it).
	component := filepath.Join(repo.dir, "templates", "tmci.yml")
	data, err := os.ReadFile(component)
	if err != nil {
		t.Fatal(err)
	}
	const imageLine = "\n  image: $[[ inputs.image ]]\n"
	if !strings.Contains(string(data), imageLine) {
		t.Fatalf("templates/tmci.yml has no line %q to drop", imageLine)
	}
	writeFile(t, component, strings.Replace(string(data), imageLine, "\n", 1))
	testenv.Git(t, repo.dir, "add", "templates")
	testenv.Git(t, repo.dir, "commit", "-qm", "the tmci component")
	testenv.Git(t, repo.dir, "remote", "add", "gcl-origin", "https://gitlab.example.com/acme/infra.git")
	if pipeline, err := os.ReadFile(filepath.Join(repo.dir, ".gitlab-ci.yml")); err != nil || !componentRef.Match(pipeline) {
		t.Fatalf(".gitlab-ci.yml does not include the tmci component: %v", err)
	}
	// A third change, /network/vpc, orders /network/dns after it.
	appendFile(t, filepath.Join(repo.dir, "network/vpc/main.tf"), "\nresource \"terraform_data\" \"feature\" {\n  input = \"feature\"\n}\n")
	testenv.Git(t, repo.dir, "commit", "-qam", "feature: vpc")
	// How the jobs get tmci: a project variable, as a GitLab user would
	// set TMCI_INSTALL in the CI/CD settings.
	writeFile(t, filepath.Join(repo.dir, ".gitlab-ci-local-variables.yml"),
		fmt.Sprintf("TMCI_INSTALL: 'export PATH=%s:%s:$PATH'\n", tmciDir, filepath.Dir(tfBin)))
	// The merge request note and the drift issue go to a fake GitLab API.
	forge, _, gl := forgefake.New(t, "glpat-not-a-token", "tmci-bot")
	api := map[string]string{"CI_API_V4_URL": gl.URL, "CI_PROJECT_ID": "42", "TMCI_GITLAB_TOKEN": "glpat-not-a-token"}
	mr := map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA": repo.main}
	maps.Copy(mr, api)
	changed := map[string]string{"/network/dns": "succeeded", "/network/vpc": "succeeded", "/platform/registry": "succeeded"}

	t.Run("merge request", func(t *testing.T) {
		out := gitlabRun(t, bin, repo.dir, mr)
		if got := passed(out); !slices.Equal(got, []string{"plan", "review"}) {
			t.Errorf("jobs %q, want plan and review", got)
		}
		// gitlab-ci-local keeps no reports: read the file where the
		// component's artifacts:reports:terraform says GitLab finds it.
		reports := componentReports(t, "pr-7")
		for _, kind := range []string{"terraform", "junit"} {
			path := reports[kind]
			if _, err := os.Stat(filepath.Join(repo.dir, path)); path == "" || err != nil {
				t.Errorf("artifacts:reports:%s of the plan job names %q, which the job did not write", kind, path)
			}
		}
		summary, err := os.ReadFile(filepath.Join(repo.dir, ".gitlab-ci-local/artifacts/plan/.tmci/pr-7/summary.md"))
		if err != nil || !strings.HasPrefix(string(summary), "### tmci plan · `pr-7`") {
			t.Errorf("the plan job's summary.md artifact: %v\n%s", err, summary)
		}
		// The review job ran in the same directory after the plan, so
		// the counts are what it applied: the same changes.
		var counts map[string]int
		readJSON(t, filepath.Join(repo.dir, reports["terraform"]), &counts)
		if counts["create"] != 6 || counts["update"] != 0 || counts["delete"] != 0 {
			t.Errorf("the terraform report artifact counts %v, want 6 creates (3 stacks, 2 resources each)", counts)
		}
		if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json")); cmd != "apply" || !maps.Equal(st, changed) {
			t.Errorf("the review job's report is %s %v, want apply of %v", cmd, st, changed)
		}
		// The plan job posted its comment.md as the merge request's note;
		// a second pipeline updates it.
		gitlabRun(t, bin, repo.dir, mr, "plan")
		if len(forge.Comments) != 1 || !strings.HasPrefix(forge.Comments[0].Body, "<!-- tmci plan pr-7 -->\n") {
			t.Errorf("merge request notes: %q, want one tmci plan note", commentBodies(forge.Comments))
		}
	})

	t.Run("fan-out", func(t *testing.T) {
		vars := maps.Clone(mr)
		vars["TMCI_FANOUT"] = "true"
		out := gitlabRun(t, bin, repo.dir, vars)
		want := []string{"fanout-generate", "fanout-plan", "stack /network/dns", "stack /network/vpc", "stack /platform/registry"}
		if got := passed(out); !slices.Equal(got, want) {
			t.Errorf("jobs %q, want %q", got, want)
		}
		// needs: /network/dns starts only after /network/vpc finished.
		at := func(re string) int {
			loc := regexp.MustCompile(re).FindStringIndex(out)
			if loc == nil {
				t.Fatalf("no %q in the output:\n%s", re, out)
			}
			return loc[0]
		}
		vpcDone := at(`stack /network/vpc\s+finished`)
		dnsStart := at(`stack /network/dns\s+starting`)
		if dnsStart < vpcDone {
			t.Errorf("/network/dns started (at %d) before /network/vpc finished (at %d)", dnsStart, vpcDone)
		}
	})

	t.Run("stop review", func(t *testing.T) {
		gitlabRun(t, bin, repo.dir, mr, "stop-review")
		if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json")); cmd != "destroy" || len(st) != 12 {
			t.Errorf("stop-review: report %s of %d stacks, want destroy of all 12", cmd, len(st))
		}
	})

	// The merge request lands on the default branch.
	feature := testenv.Git(t, repo.dir, "rev-parse", "HEAD")
	testenv.Git(t, repo.dir, "checkout", "-q", "main")
	testenv.Git(t, repo.dir, "merge", "-q", "--no-ff", "-m", "Merge feature", feature)

	t.Run("default branch", func(t *testing.T) {
		out := gitlabRun(t, bin, repo.dir, map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BEFORE_SHA": repo.main})
		if got := passed(out); !slices.Equal(got, []string{"apply"}) {
			t.Errorf("jobs %q, want apply", got)
		}
		if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/prod/report.json")); cmd != "apply" || !maps.Equal(st, changed) {
			t.Errorf("apply: report %s %v, want apply of %v", cmd, st, changed)
		}
	})

	t.Run("scheduled drift", func(t *testing.T) {
		appendFile(t, filepath.Join(repo.dir, "platform/registry/main.tf"), "\nresource \"terraform_data\" \"hotfix\" {\n  input = \"hotfix\"\n}\n")
		testenv.Git(t, repo.dir, "commit", "-qam", "hotfix without apply")
		vars := map[string]string{"CI_PIPELINE_SOURCE": "schedule"}
		maps.Copy(vars, api)
		out := gitlabRun(t, bin, repo.dir, vars)
		if len(forge.Issues) != 1 || !strings.Contains(forge.Issues[0].Body, "### `/platform/registry`") {
			t.Errorf("drift issues: %q, want one naming /platform/registry", commentBodies(forge.Issues))
		}
		if !regexp.MustCompile(`(?m)^\s*WARN\s+drift`).MatchString(out) {
			t.Errorf("the drift job did not end as an allowed failure (exit 2):\n%s", out)
		}
		data, err := os.ReadFile(filepath.Join(repo.dir, ".gitlab-ci-local/artifacts/drift/.tmci/prod/drift.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "### `/platform/registry`") || strings.Contains(string(data), "### `/network/dns`") {
			t.Errorf("drift.md does not name exactly the drifted stack:\n%s", data)
		}
	})
}

// TestExamplesReadmeChanged runs the README's change detection example:
// examples/acme below a repository's top level, beside other code, one
// file edited.
func TestExamplesReadmeChanged(t *testing.T) {
	top := t.TempDir()
	acme := filepath.Join(top, "examples", "acme")
	copyDir(t, filepath.Join(examplesDir, "acme"), acme)
	writeFile(t, filepath.Join(top, "cmd", "main.go"), "package main\n")
	testenv.Git(t, top, "init", "-q", "-b", "main")
	testenv.Git(t, top, "add", "-A")
	testenv.Git(t, top, "commit", "-qm", "initial")
	testenv.Git(t, top, "checkout", "-qb", "try")
	appendFile(t, filepath.Join(top, "cmd", "main.go"), "// outside the project: changes nothing\n")
	appendFile(t, filepath.Join(acme, "network", "vpc", "main.tf"), "# try a change\n")
	env := map[string]string{"PATH": os.Getenv("PATH")}
	got := tmciWant(t, 0, env, "-C", acme, "list", "--changed", "--why")
	want := "network/vpc\n    changed file /network/vpc/main.tf (unstaged)\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list --changed --why (-want +got):\n%s", diff)
	}
	got = tmciWant(t, 0, env, "-C", acme, "list", "--changed", "--with-dependents", "--run-order")
	if !strings.HasPrefix(got, "network/vpc\nnetwork/dns\nnetwork/peering\nplatform/cluster\n") {
		t.Errorf("list --changed --with-dependents --run-order:\n%s", got)
	}
}
