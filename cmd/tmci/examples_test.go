package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

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
	skipOrFail(t, fmt.Sprintf("%s not found: %s (see .ci/run)", name, install))
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

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=tmci", "GIT_AUTHOR_EMAIL=tmci@example.com",
		"GIT_COMMITTER_NAME=tmci", "GIT_COMMITTER_EMAIL=tmci@example.com", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
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
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-qm", "acme")
	r := acmeRepo{dir: dir, main: git(t, dir, "rev-parse", "HEAD")}
	git(t, dir, "checkout", "-qb", "feature")
	for _, s := range []string{"network/dns", "platform/registry"} {
		appendFile(t, filepath.Join(dir, s, "main.tf"), "\nresource \"terraform_data\" \"feature\" {\n  input = \"feature\"\n}\n")
	}
	git(t, dir, "commit", "-qam", "feature")
	r.feature = git(t, dir, "rev-parse", "HEAD")
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

func TestExamplesActionlint(t *testing.T) {
	bin := requireTool(t, "actionlint", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12", goBin())
	args := append([]string{"-no-color"}, githubWorkflows(t)...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
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
}

var (
	expr      = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	tmciLine  = regexp.MustCompile(`(?m)^\s*tmci\s`)
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
	ran      int // tmci steps run
	comments []string
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
	case e == "strategy.job-index":
		return "0"
	case len(parts) == 2 && parts[0] == "env":
		return env[parts[1]]
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
		for _, entry := range entries {
			s.matrix = entry
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
	usesTmci := tmciLine.MatchString(st.Run)
	if strings.Contains(st.Run, "gh ") {
		if usesTmci {
			t.Errorf("%s: runs both gh and tmci; keep tmci steps free of GitHub API calls", where)
		}
		// The files gh would post must exist.
		for _, k := range []string{"COMMENT", "BODY"} {
			if v, ok := env[k]; ok {
				if _, err := os.Stat(v); err != nil {
					t.Errorf("%s: %s=%q: %v", where, k, v, err)
				}
				s.comments = append(s.comments, v)
			}
		}
		return
	}
	if !usesTmci || strings.Contains(st.Run, "go install") {
		return
	}
	dir := filepath.Join(s.temp, fmt.Sprintf("step%d", s.ran))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s.expand(st.Run, env))
	cmd.Dir = s.repo.dir
	cmd.Env = []string{"PATH=" + s.path, "HOME=" + s.temp, "RUNNER_TEMP=" + dir, "CHECKPOINT_DISABLE=1",
		"GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary, "GITHUB_WORKSPACE=" + s.repo.dir}
	for k, v := range s.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	s.ran++
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", where, err, st.Run, out)
	}
	s.steps[st.ID] = readOutputs(t, output)
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
	git(s.t, s.repo.dir, "checkout", "-q", commit)
	data, _ := json.Marshal(payload)
	path := filepath.Join(s.temp, event+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.vars = map[string]string{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event,
		"GITHUB_EVENT_PATH": path, "GITHUB_SHA": git(s.t, s.repo.dir, "rev-parse", "HEAD")}
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
	tfBin := findTool(t, tool{"terraform", "v1.5.7"})
	tmciDir := buildTmci(t)
	repo := newAcmeRepo(t)
	s := &ghSim{t: t, repo: repo, temp: t.TempDir(), jobOuts: map[string]map[string]string{},
		path: tmciDir + string(os.PathListSeparator) + filepath.Dir(tfBin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	wf := func(name string) string { return filepath.Join(examplesDir, "ci", "github", name) }
	seen := map[string]bool{}
	simulate := func(name string) {
		seen[name] = true
		s.run(wf(name))
	}

	// The pull request: GitHub builds the test merge commit of feature
	// into main.
	git(t, repo.dir, "checkout", "-q", "--detach", repo.main)
	git(t, repo.dir, "merge", "-q", "--no-ff", "-m", "Merge feature", repo.feature)
	merge := git(t, repo.dir, "rev-parse", "HEAD")
	pr := map[string]any{"number": 7, "pull_request": map[string]any{"number": 7, "base": map[string]any{"sha": repo.main}}}
	s.setEvent("pull_request", merge, pr, map[string]string{"GITHUB_REF": "refs/pull/7/merge"})
	simulate("plan.yml")
	cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json"))
	want := map[string]string{"/network/dns": "succeeded", "/platform/registry": "succeeded"}
	if cmd != "apply" || !maps.Equal(st, want) {
		t.Errorf("after plan.yml the pr-7 report is %s %v, want the preview apply of %v", cmd, st, want)
	}
	if len(s.comments) != 1 {
		t.Errorf("plan.yml posted %d comments, want 1", len(s.comments))
	}

	simulate("plan-matrix.yml")
	var m struct{ Include []map[string]string }
	if err := json.Unmarshal([]byte(s.jobOuts["matrix"]["matrix"]), &m); err != nil || len(m.Include) != 2 {
		t.Errorf("the fan-out matrix has %d jobs, want one per independent changed stack: %s", len(m.Include), s.jobOuts["matrix"]["matrix"])
	}

	s.setEvent("pull_request", merge, pr, map[string]string{"GITHUB_REF": "refs/pull/7/merge"})
	simulate("teardown.yml")
	if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json")); cmd != "destroy" || len(st) != 12 {
		t.Errorf("teardown.yml: report %s of %d stacks, want destroy of all 12", cmd, len(st))
	}

	// The merge lands on main.
	git(t, repo.dir, "checkout", "-q", "-B", "main", merge)
	s.setEvent("push", "main", map[string]any{"before": repo.main, "after": merge},
		map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"})
	simulate("apply.yml")
	if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/prod/report.json")); cmd != "apply" || !maps.Equal(st, want) {
		t.Errorf("apply.yml: report %s %v, want apply of %v", cmd, st, want)
	}

	// The night after, production has drifted from main.
	appendFile(t, filepath.Join(repo.dir, "network/dns/main.tf"), "\nresource \"terraform_data\" \"hotfix\" {\n  input = \"hotfix\"\n}\n")
	git(t, repo.dir, "commit", "-qam", "hotfix without apply")
	s.comments = nil
	s.setEvent("schedule", "main", map[string]any{}, map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"})
	simulate("drift.yml")
	if s.steps["drift"]["has_drift"] != "true" || len(s.comments) != 1 {
		t.Errorf("drift.yml: has_drift=%q and %d issue bodies, want true and 1", s.steps["drift"]["has_drift"], len(s.comments))
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
	bin := gitlabCILocal(t)
	tfBin := findTool(t, tool{"terraform", "v1.5.7"})
	tmciDir := buildTmci(t)
	repo := newAcmeRepo(t, filepath.Join(examplesDir, "ci", "gitlab"))
	// A third change, /network/vpc, orders /network/dns after it.
	appendFile(t, filepath.Join(repo.dir, "network/vpc/main.tf"), "\nresource \"terraform_data\" \"feature\" {\n  input = \"feature\"\n}\n")
	git(t, repo.dir, "commit", "-qam", "feature: vpc")
	// How the jobs get tmci: a project variable, as a GitLab user would
	// set TMCI_INSTALL in the CI/CD settings.
	writeFile(t, filepath.Join(repo.dir, ".gitlab-ci-local-variables.yml"),
		fmt.Sprintf("TMCI_INSTALL: 'export PATH=%s:%s:$PATH'\n", tmciDir, filepath.Dir(tfBin)))
	mr := map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA": repo.main}
	changed := map[string]string{"/network/dns": "succeeded", "/network/vpc": "succeeded", "/platform/registry": "succeeded"}

	t.Run("merge request", func(t *testing.T) {
		out := gitlabRun(t, bin, repo.dir, mr)
		if got := passed(out); !slices.Equal(got, []string{"plan", "review"}) {
			t.Errorf("jobs %q, want plan and review", got)
		}
		// gitlab-ci-local keeps no reports: read the file where the plan
		// job's artifacts:reports:terraform says GitLab finds it.
		var pipeline struct {
			Plan struct {
				Artifacts struct {
					Reports map[string]string
				}
			}
		}
		data, err := os.ReadFile(filepath.Join(repo.dir, ".gitlab-ci.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &pipeline); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"terraform", "junit"} {
			path := strings.ReplaceAll(pipeline.Plan.Artifacts.Reports[kind], "$TMCI_ENV", "pr-7")
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
		readJSON(t, filepath.Join(repo.dir, strings.ReplaceAll(pipeline.Plan.Artifacts.Reports["terraform"], "$TMCI_ENV", "pr-7")), &counts)
		if counts["create"] != 6 || counts["update"] != 0 || counts["delete"] != 0 {
			t.Errorf("the terraform report artifact counts %v, want 6 creates (3 stacks, 2 resources each)", counts)
		}
		if cmd, st := reportStatuses(t, filepath.Join(repo.dir, ".tmci/pr-7/report.json")); cmd != "apply" || !maps.Equal(st, changed) {
			t.Errorf("the review job's report is %s %v, want apply of %v", cmd, st, changed)
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
	feature := git(t, repo.dir, "rev-parse", "HEAD")
	git(t, repo.dir, "checkout", "-q", "main")
	git(t, repo.dir, "merge", "-q", "--no-ff", "-m", "Merge feature", feature)

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
		git(t, repo.dir, "commit", "-qam", "hotfix without apply")
		out := gitlabRun(t, bin, repo.dir, map[string]string{"CI_PIPELINE_SOURCE": "schedule"})
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
