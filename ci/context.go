// Package ci is tmci's side of the CI system's interfaces: it reads what
// the system tells about the build (which provider, which event, which
// commit, and which commits the change should be compared with), and it
// speaks the providers' console and file protocols: log groups and
// sections, error annotations, secret masks, GITHUB_OUTPUT and the step
// summary. Reports are package report's; job fan-out is package matrix's.
//
// Everything comes from a getenv function and the files it names (GitHub's
// event JSON), so a test can simulate any CI run with plain values.
package ci

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Provider is the CI system tmci runs in.
type Provider string

// The providers tmci recognises. Generic is any other system that sets
// CI=true; tmci then knows it is in CI but has no change context.
const (
	None    Provider = ""
	GitHub  Provider = "github"
	GitLab  Provider = "gitlab"
	Generic Provider = "ci"
)

// BaseKind says how a base candidate's SHA becomes the base commit.
type BaseKind int

const (
	// FirstParent: when HEAD is SHA and a merge commit (GitHub's test merge
	// of a pull request), the base is its first parent, the target branch tip.
	FirstParent BaseKind = iota + 1
	// MergeBase: the base is the merge-base of HEAD and SHA.
	MergeBase
	// Commit: the base is SHA itself.
	Commit
)

// BaseCandidate is one way the CI context proposes to find the base commit.
// Candidates are tried in order; the first that applies wins.
type BaseCandidate struct {
	Kind BaseKind
	SHA  string
	// Source names where SHA came from, for messages ("GitHub push event
	// before").
	Source string
}

// Context is what the CI system tells about the current build. The zero
// value means "not in CI".
type Context struct {
	Provider Provider
	// Event is GITHUB_EVENT_NAME or CI_PIPELINE_SOURCE ("pull_request",
	// "push", "merge_request_event", ...).
	Event string
	// SHA is the commit the CI system builds (GITHUB_SHA, CI_COMMIT_SHA).
	SHA string
	// Branch is the branch being built when the build is a branch build
	// (a push), else empty: CI checkouts are usually a detached HEAD, so
	// this is how tmci knows it runs on the default branch.
	Branch string
	// Number is the pull request or merge request number, or 0.
	Number int
	// Base lists the base commit candidates, best first.
	Base []BaseCandidate
}

// InCI reports whether tmci runs in a CI system.
func (c *Context) InCI() bool { return c.Provider != None }

// zeroSHA reports whether sha is git's "no commit" value (all zeros), which
// GitHub and GitLab send for the first push of a new branch.
func zeroSHA(sha string) bool {
	return sha != "" && strings.Trim(sha, "0") == ""
}

// Detect reads the CI context from the environment. It fails only when the
// CI system promises an event file that cannot be read or parsed.
func Detect(getenv func(string) string) (*Context, error) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return detectGitHub(getenv)
	case getenv("GITLAB_CI") == "true":
		return detectGitLab(getenv), nil
	case getenv("CI") == "true" || getenv("CI") == "1":
		return &Context{Provider: Generic}, nil
	}
	return &Context{}, nil
}

// githubEvent holds the fields of GitHub's event payload tmci reads.
type githubEvent struct {
	Before      string `json:"before"`
	Number      int    `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Base   struct {
			SHA string `json:"sha"`
		} `json:"base"`
	} `json:"pull_request"`
}

func detectGitHub(getenv func(string) string) (*Context, error) {
	c := &Context{
		Provider: GitHub,
		Event:    getenv("GITHUB_EVENT_NAME"),
		SHA:      getenv("GITHUB_SHA"),
	}
	if getenv("GITHUB_REF_TYPE") == "branch" || strings.HasPrefix(getenv("GITHUB_REF"), "refs/heads/") {
		c.Branch = strings.TrimPrefix(getenv("GITHUB_REF"), "refs/heads/")
		if name := getenv("GITHUB_REF_NAME"); name != "" {
			c.Branch = name
		}
	}
	var ev githubEvent
	if path := getenv("GITHUB_EVENT_PATH"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the GitHub event file (GITHUB_EVENT_PATH): %w", err)
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("reading the GitHub event file %s: invalid JSON: %w", path, err)
		}
	}
	switch c.Event {
	case "pull_request", "pull_request_target":
		c.Branch = ""
		if ev.PullRequest != nil {
			c.Number = ev.PullRequest.Number
			// Only pull_request builds the test merge commit; on
			// pull_request_target GITHUB_SHA is the base branch tip.
			if c.SHA != "" && c.Event == "pull_request" {
				c.Base = append(c.Base, BaseCandidate{FirstParent, c.SHA, "GitHub pull_request merge commit (GITHUB_SHA)"})
			}
			if sha := ev.PullRequest.Base.SHA; sha != "" {
				c.Base = append(c.Base, BaseCandidate{MergeBase, sha, "GitHub " + c.Event + " event pull_request.base.sha"})
			}
		}
	case "push":
		if ev.Before != "" && !zeroSHA(ev.Before) {
			c.Base = append(c.Base, BaseCandidate{Commit, ev.Before, "GitHub push event before"})
		}
	}
	return c, nil
}

func detectGitLab(getenv func(string) string) *Context {
	c := &Context{
		Provider: GitLab,
		Event:    getenv("CI_PIPELINE_SOURCE"),
		SHA:      getenv("CI_COMMIT_SHA"),
		Branch:   getenv("CI_COMMIT_BRANCH"),
	}
	if iid := getenv("CI_MERGE_REQUEST_IID"); iid != "" {
		c.Number, _ = strconv.Atoi(iid)
	}
	switch kind := getenv("CI_MERGE_REQUEST_EVENT_TYPE"); kind {
	case "merged_result", "merge_train":
		// HEAD is the merge result of the MR into the target branch (or
		// into the train ahead of it): the target's tip is the base. The
		// diff base is where the MR forked, older, and would select
		// stacks changed on the target branch only.
		if sha := getenv("CI_MERGE_REQUEST_TARGET_BRANCH_SHA"); sha != "" && !zeroSHA(sha) {
			c.Base = append(c.Base, BaseCandidate{Commit, sha, "GitLab " + kind + " pipeline CI_MERGE_REQUEST_TARGET_BRANCH_SHA"})
		}
		if c.SHA != "" {
			c.Base = append(c.Base, BaseCandidate{FirstParent, c.SHA, "GitLab " + kind + " pipeline merge commit (CI_COMMIT_SHA)"})
		}
	default:
		if sha := getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"); sha != "" {
			c.Base = append(c.Base, BaseCandidate{Commit, sha, "GitLab merge request CI_MERGE_REQUEST_DIFF_BASE_SHA"})
		}
	}
	if sha := getenv("CI_COMMIT_BEFORE_SHA"); sha != "" && !zeroSHA(sha) && c.Event != "merge_request_event" {
		c.Base = append(c.Base, BaseCandidate{Commit, sha, "GitLab push CI_COMMIT_BEFORE_SHA"})
	}
	return c
}
