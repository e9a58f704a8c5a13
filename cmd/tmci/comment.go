package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/forge"
	"github.com/tmci/tmci/internal/repofile"
	"github.com/tmci/tmci/project"
)

// maxCommentFile bounds the Markdown tmci comment posts: GitHub refuses a
// comment body over 65,536 characters, and tmci's comment.md is kept
// under that.
const maxCommentFile = 1 << 20

// commentFlags are the flags of tmci comment.
type commentFlags struct {
	env, workDir, file, title, author, label string
	issue                                    bool
	number                                   int
}

func (a *app) cmdComment(args []string) int {
	fs := a.flags("comment")
	f := &commentFlags{}
	fs.StringVar(&f.env, "env", "", "environment `NAME` whose report is posted (e.g. pr-7)")
	fs.BoolVar(&f.issue, "issue", false, "open or update the environment's drift issue with drift.md instead of commenting")
	fs.StringVar(&f.workDir, "work-dir", "", "`DIR` holding the reports (default <root>/.tmci)")
	fs.StringVar(&f.file, "file", "", "post `FILE` instead of <work>/<env>/comment.md (or drift.md with --issue)")
	fs.IntVar(&f.number, "number", 0, "pull or merge request `N` (default: the one the pipeline runs for)")
	fs.StringVar(&f.title, "title", "", "title of a new drift issue (default \"Drift in <env>\")")
	fs.StringVar(&f.label, "label", "drift", "`LABEL` of the drift issue, also used to find it")
	fs.StringVar(&f.author, "author", "", "GitHub: `LOGIN` whose comments may be updated (default: the token's user, or github-actions[bot])")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	if err := a.comment(fs, f); err != nil {
		return a.fail("tmci comment", err)
	}
	return exitOK
}

// commentKinds are the commands whose comment.md is one sticky comment
// per environment: a later report of the same environment replaces it.
const commentKinds = "init|plan|apply|destroy|drift|run|merge"

// comment is tmci comment after its flags are parsed: it reads the
// report's Markdown, checks it is tmci's for the environment, and
// upserts it on the forge the pipeline runs in.
func (a *app) comment(fs *pflag.FlagSet, f *commentFlags) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.env == "":
		return errors.New("--env is required: name the environment whose report is posted, e.g. --env=pr-7")
	case f.number < 0:
		return fmt.Errorf("--number %d: use the pull or merge request number", f.number)
	}
	path, err := a.commentPath(f)
	if err != nil {
		return err
	}
	body, marker, err := readComment(path, f)
	if err != nil {
		return err
	}
	cictx, err := ci.Detect(a.getenv)
	if err != nil {
		return err
	}
	client, err := a.forgeClient(cictx, f.author)
	if err != nil {
		return err
	}
	var res forge.Result
	kind := "comment"
	if f.issue {
		kind = "issue"
		res, err = client.UpsertIssue(a.ctx, marker, body, driftIssue(f))
	} else {
		n := f.number
		if n == 0 {
			n = cictx.Number
		}
		res, err = client.UpsertComment(a.ctx, forge.Target{Number: n}, marker, body)
	}
	if err != nil {
		return err
	}
	what := "updated"
	if res.Created {
		what = "created"
	}
	if res.URL != "" {
		fmt.Fprintf(a.stdout, "%s %s %s\n", what, kind, res.URL)
	} else {
		fmt.Fprintf(a.stdout, "%s %s\n", what, kind)
	}
	return nil
}

// commentPath is the file tmci comment posts: --file, else the
// environment's comment.md (drift.md with --issue) in the work directory.
func (a *app) commentPath(f *commentFlags) (string, error) {
	if f.file != "" {
		if filepath.IsAbs(f.file) {
			return f.file, nil
		}
		return filepath.Join(a.wd, f.file), nil
	}
	work := f.workDir
	if work == "" {
		root, err := project.FindRoot(a.wd)
		if err != nil {
			return "", err
		}
		work = filepath.Join(root, ".tmci")
	} else if !filepath.IsAbs(work) {
		work = filepath.Join(a.wd, work)
	}
	name := "comment.md"
	if f.issue {
		name = "drift.md"
	}
	return filepath.Join(work, f.env, name), nil
}

// readComment reads the Markdown at path and the marker that finds its
// earlier versions on the forge. The marker names the environment: the
// comment of pr-7 never replaces the comment of pr-8, and a file of
// another environment is refused rather than posted under the wrong one.
func readComment(path string, f *commentFlags) (string, *regexp.Regexp, error) {
	data, err := repofile.Read(path, maxCommentFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%s does not exist: run tmci plan/apply/drift --env=%s first", path, f.env)
		}
		return "", nil, err
	}
	body := string(data)
	kinds := commentKinds
	if f.issue {
		kinds = "drift"
	}
	marker := regexp.MustCompile(`^<!-- tmci (?:` + kinds + `) ` + regexp.QuoteMeta(f.env) + ` -->$`)
	if !forge.HasMarker(body, marker) {
		return "", nil, fmt.Errorf("%s does not start with tmci's marker for %s (<!-- tmci COMMAND %s -->): post only a report tmci wrote for this environment", path, f.env, f.env)
	}
	return body, marker, nil
}

// forgeClient is the API client of the forge the pipeline runs in.
func (a *app) forgeClient(cictx *ci.Context, author string) (forge.Client, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	switch cictx.Provider {
	case ci.GitHub:
		api := a.getenv("GITHUB_API_URL")
		if api == "" {
			api = "https://api.github.com"
		}
		return forge.NewGitHub(a.ctx, hc, api, a.getenv("GITHUB_REPOSITORY"), a.getenv("GITHUB_TOKEN"), author)
	case ci.GitLab:
		return forge.NewGitLab(a.ctx, hc, a.getenv("CI_API_V4_URL"), a.getenv("CI_PROJECT_ID"), a.getenv("TMCI_GITLAB_TOKEN"))
	}
	return nil, errors.New("tmci comment posts to GitHub or GitLab: run it in GitHub Actions or GitLab CI")
}

// driftIssue is the title and labels of the drift issue --issue opens.
func driftIssue(f *commentFlags) forge.Issue {
	title := f.title
	if title == "" {
		title = "Drift in " + f.env
	}
	var labels []string
	if l := strings.TrimSpace(f.label); l != "" {
		labels = []string{l}
	}
	return forge.Issue{Title: title, Labels: labels}
}
