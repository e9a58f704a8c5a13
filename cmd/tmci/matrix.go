package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/project"
)

// defaultMaxJobs bounds a GitHub matrix when --max-jobs is not given:
// enough to spread a large change, few enough that job start-up (checkout,
// setup) does not dominate.
const defaultMaxJobs = 20

// githubMaxJobs is GitHub's limit on the jobs of one matrix.
const githubMaxJobs = 256

// gitlabMaxChild is GitLab's limit on the size of a generated child
// pipeline file.
const gitlabMaxChild = 5 << 20

func (a *app) cmdMatrix(args []string) int {
	fs := a.flags("matrix")
	env := fs.String("env", "", "target environment `NAME` the jobs run for (e.g. prod, pr-123)")
	format := fs.String("format", "github", "output `FORMAT`: github (a matrix of independent groups) or gitlab (a child pipeline, one job per stack)")
	maxJobs := fs.Int("max-jobs", defaultMaxJobs, fmt.Sprintf("github: pack the groups into at most `N` jobs (at most %d)", githubMaxJobs))
	command := fs.String("command", "plan", "gitlab: the tmci `COMMAND` each job runs for its stack, with its flags (e.g. \"apply --yes\")")
	prelude := fs.String("prelude", "", "gitlab: copy `FILE` (YAML: default:, variables:, ...) to the top of the pipeline")
	sel := selectionFlags(fs, false)
	changed := a.changedFlags(fs)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(a.stderr, "tmci matrix: "+format+"\n", args...)
		return exitFailure
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *env == "":
		return fail("--env is required: name the environment the jobs run for, e.g. --env=pr-123")
	case *format != "github" && *format != "gitlab":
		return fail("unknown --format %q: use github or gitlab", *format)
	case *maxJobs < 1 || *maxJobs > githubMaxJobs:
		return fail("--max-jobs %d: use 1 to %d (GitHub runs at most %d jobs per matrix)", *maxJobs, githubMaxJobs, githubMaxJobs)
	}
	if err := changed.check(); err != nil {
		return fail("%v", err)
	}
	var preludeText string
	if *prelude != "" {
		data, err := os.ReadFile(*prelude)
		if err != nil {
			return fail("--prelude: %v", err)
		}
		preludeText = string(data)
	}
	p, stacks, code := a.loadSelected(sel, changed)
	if code != exitOK {
		return code
	}
	if _, err := p.TMCI.Match(*env); err != nil && len(p.TMCI.Environments) > 0 {
		return fail("--env: %v", err)
	} else if err := project.ValidateEnvName(*env); err != nil {
		return fail("--env: %v", err)
	}
	g, ok := a.runGraph(p, sel, stacks)
	if !ok {
		return exitFailure
	}
	if *format == "gitlab" {
		out := ci.GitLabPipeline(g, ci.ChildPipeline{
			Prelude:   preludeText,
			Script:    fmt.Sprintf("tmci %s --env=%s --stack=\"$TMCI_STACK\"", *command, *env),
			Artifacts: reportArtifacts(*env),
		})
		if len(out) > gitlabMaxChild {
			return fail("the child pipeline is %.1f MB, over GitLab's 5 MB limit: select fewer stacks (--tags, --changed) or use --format=github groups", float64(len(out))/(1<<20))
		}
		if _, err := a.stdout.Write(out); err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	m := ci.GitHubMatrix(ci.Pack(g.Components(), g.Order, *maxJobs))
	data, err := json.Marshal(m)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(a.stdout, "%s\n", data)
	if out := a.getenv("GITHUB_OUTPUT"); out != "" {
		if err := ci.AppendOutputs(out, ci.MatrixOutputs(m)); err != nil {
			return fail("%v", err)
		}
	}
	return exitOK
}

// runGraph grows the selected stacks as every command does and returns
// them as the fan-out sees them: run order, predecessors among the
// selected stacks, and the wants links that tie stacks to one job.
func (a *app) runGraph(p *project.Project, sel *selection, stacks []*project.Stack) (ci.RunGraph, bool) {
	x, stacks, ok := sel.grow(a, p, stacks)
	if !ok {
		return ci.RunGraph{}, false
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return ci.RunGraph{}, false
	}
	rg := ci.RunGraph{Order: g.Order(), Preds: map[string][]string{}, Links: x.WantsPairs()}
	for _, s := range rg.Order {
		rg.Preds[s] = g.Predecessors(s)
	}
	return rg, true
}

// reportArtifacts are the paths of an environment's reports and logs in
// the default work directory, which a CI job keeps. The stacks' data
// directories next to them are left out: terraform stores the backend
// configuration, secrets included, there.
func reportArtifacts(env string) []string {
	dir := filepath.ToSlash(filepath.Join(".tmci", env)) + "/"
	return []string{dir + "logs/", dir + "report.json", dir + "summary.md", dir + "comment.md", dir + "gitlab-terraform.json", dir + "junit.xml"}
}
