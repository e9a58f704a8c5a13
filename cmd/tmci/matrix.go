package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/matrix"
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

// matrixFlags are the flags of tmci matrix.
type matrixFlags struct {
	env, format, command, prelude, split string
	maxJobs, maxWaves                    int
	sel                                  *selection
	changed                              *changedFlags
}

func (a *app) cmdMatrix(args []string) int {
	fs := a.flags("matrix")
	f := &matrixFlags{}
	fs.Var((*onceString)(&f.env), "env", "target environment `NAME` the jobs run for (e.g. prod, pr-123)")
	fs.StringVar(&f.format, "format", "github", "output `FORMAT`: github (a matrix of independent groups) or gitlab (a child pipeline, one job per stack)")
	fs.IntVar(&f.maxJobs, "max-jobs", defaultMaxJobs, fmt.Sprintf("github: pack the groups into at most `N` jobs (at most %d)", githubMaxJobs))
	fs.StringVar(&f.split, "split", "components", "github: `HOW` to split: components (independent groups, one matrix) or waves (one matrix per wave of the run order, outputs wave_N)")
	fs.IntVar(&f.maxWaves, "max-waves", 0, "github, --split=waves: fail when the run needs more than `N` waves (the wave jobs the workflow has); 0: no limit")
	fs.StringVar(&f.command, "command", "plan", "gitlab: the tmci `COMMAND` each job runs for its stack, with its flags (e.g. \"apply --yes\")")
	fs.StringVar(&f.prelude, "prelude", "", "gitlab: copy `FILE` (YAML: default:, variables:, ...) to the top of the pipeline")
	f.sel = selectionFlags(fs, false)
	f.changed = a.changedFlags(fs)
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if err := a.matrix(fs, f); err != nil {
		return a.fail("tmci matrix", err)
	}
	return exitOK
}

// check rejects bad flag values before anything is loaded.
func (f *matrixFlags) check(fs *pflag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.format != "github" && f.format != "gitlab":
		return fmt.Errorf("unknown --format %q: use github or gitlab", f.format)
	case f.split != "components" && f.split != "waves":
		return fmt.Errorf("unknown --split %q: use components or waves", f.split)
	case f.split == "waves" && f.format != "github":
		return errors.New("--split=waves is for --format=github: the GitLab child pipeline already runs in waves (stages) with needs")
	case f.maxWaves < 0:
		return fmt.Errorf("--max-waves %d: use 0 (no limit) or more", f.maxWaves)
	case f.maxJobs < 1 || f.maxJobs > githubMaxJobs:
		return fmt.Errorf("--max-jobs %d: use 1 to %d (GitHub runs at most %d jobs per matrix)", f.maxJobs, githubMaxJobs, githubMaxJobs)
	}
	return f.changed.check()
}

// matrix is tmci matrix after its flags are parsed.
func (a *app) matrix(fs *pflag.FlagSet, f *matrixFlags) error {
	if err := f.check(fs); err != nil {
		return err
	}
	var preludeText string
	if f.prelude != "" {
		data, err := repofile.Read(f.prelude, project.MaxConfigSize)
		if err != nil {
			return fmt.Errorf("--prelude: %w", err)
		}
		preludeText = string(data)
	}
	p, stacks, err := a.loadSelected(f.sel, f.changed)
	if err != nil {
		return err
	}
	if _, err := targetEnv(p, f.env); err != nil {
		return err
	}
	g, err := a.runGraph(p, f.sel, stacks)
	if err != nil {
		return err
	}
	switch {
	case f.format == "gitlab":
		return a.gitlabMatrix(g, f, preludeText)
	case f.split == "waves":
		return a.waveMatrix(g, f)
	}
	m := matrix.GitHubMatrix(matrix.Pack(g.Components(), g.Order, f.maxJobs))
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\n", data)
	if out := a.getenv("GITHUB_OUTPUT"); out != "" {
		return ci.AppendOutputs(out, matrix.Outputs(m))
	}
	return nil
}

// gitlabMatrix prints the child pipeline of tmci matrix --format=gitlab.
func (a *app) gitlabMatrix(g matrix.RunGraph, f *matrixFlags, prelude string) error {
	out := matrix.GitLabPipeline(g, matrix.ChildPipeline{
		Prelude:   prelude,
		Script:    fmt.Sprintf("tmci %s --env=%s --stack=\"$TMCI_STACK\"", f.command, f.env),
		Artifacts: reportArtifacts(f.env),
		Reports: map[string]string{
			"terraform": filepath.ToSlash(filepath.Join(".tmci", f.env, "gitlab-terraform.json")),
			"junit":     filepath.ToSlash(filepath.Join(".tmci", f.env, "junit.xml")),
		},
	})
	if len(out) > gitlabMaxChild {
		return fmt.Errorf("the child pipeline is %.1f MB, over GitLab's 5 MB limit: select fewer stacks (--tags, --changed) or use --format=github groups", float64(len(out))/(1<<20))
	}
	_, err := a.stdout.Write(out)
	return err
}

// waveMatrix prints the matrices of tmci matrix --split=waves, one per
// wave, and writes them to GITHUB_OUTPUT.
func (a *app) waveMatrix(g matrix.RunGraph, f *matrixFlags) error {
	waves := matrix.WaveMatrices(g, f.maxJobs)
	if f.maxWaves > 0 && len(waves) > f.maxWaves {
		return fmt.Errorf("the selected stacks need %d waves and --max-waves is %d: add wave jobs to the workflow (up to wave-%d) and raise --max-waves", len(waves), f.maxWaves, len(waves))
	}
	data, err := json.Marshal(waves)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\n", data)
	if out := a.getenv("GITHUB_OUTPUT"); out != "" {
		return ci.AppendOutputs(out, matrix.WaveOutputs(waves))
	}
	return nil
}

// runGraph grows the selected stacks as every command does and returns
// them as the fan-out sees them: run order, predecessors among the
// selected stacks, and the wants links that tie stacks to one job.
func (a *app) runGraph(p *project.Project, sel *selection, stacks []*project.Stack) (matrix.RunGraph, error) {
	x, stacks, err := sel.grow(a, p, stacks)
	if err != nil {
		return matrix.RunGraph{}, err
	}
	g := a.buildGraph(p, x, stacks)
	if g == nil {
		return matrix.RunGraph{}, errPrinted
	}
	rg := matrix.RunGraph{Order: g.Order(), Preds: map[string][]string{}, Links: x.WantsPairs()}
	for _, s := range rg.Order {
		rg.Preds[s] = g.Predecessors(s)
	}
	return rg, nil
}

// reportArtifacts are the paths of an environment's reports and logs in
// the default work directory, which a CI job keeps. The stacks' data
// directories next to them are left out: terraform stores the backend
// configuration, secrets included, there.
func reportArtifacts(env string) []string {
	dir := filepath.ToSlash(filepath.Join(".tmci", env)) + "/"
	return []string{dir + "logs/", dir + "report.json", dir + "summary.md", dir + "comment.md", dir + "gitlab-terraform.json", dir + "junit.xml"}
}
