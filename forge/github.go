package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// GitHub is a Client for one repository through GitHub's REST API. It
// uses:
//
//	GET   /user                                     (the token's login, when allowed)
//	GET   /repos/{repo}/issues/{number}/comments    (paginated by Link rel="next")
//	POST  /repos/{repo}/issues/{number}/comments
//	PATCH /repos/{repo}/issues/comments/{id}
//	GET   /repos/{repo}/issues?state=open&labels=…  (paginated)
//	POST  /repos/{repo}/issues
//	PATCH /repos/{repo}/issues/{number}
type GitHub struct {
	api  *api
	repo string
	// Author, when set, is the login whose comments may be updated;
	// comments by anyone else are never edited, whatever their text.
	// NewGitHub sets it from GET /user, or to github-actions[bot] when the
	// token cannot read /user (the Actions token cannot).
	Author string
}

var githubRepo = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// ActionsBot is the login of comments made with the GITHUB_TOKEN of a
// workflow run.
const ActionsBot = "github-actions[bot]"

// NewGitHub returns a client for repo ("owner/name") at apiURL
// (GITHUB_API_URL: https://api.github.com or a GitHub Enterprise
// /api/v3 address). author, when not empty, overrides the login whose
// comments may be updated.
func NewGitHub(ctx context.Context, hc *http.Client, apiURL, repo, token, author string) (*GitHub, error) {
	if !githubRepo.MatchString(repo) || strings.Contains(repo, "..") {
		return nil, fmt.Errorf("GitHub repository %q is not owner/name", repo)
	}
	if token == "" {
		return nil, fmt.Errorf("no GitHub token: set GITHUB_TOKEN (e.g. env: GITHUB_TOKEN: ${{ github.token }})")
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	a, err := newAPI(hc, apiURL, h, token)
	if err != nil {
		return nil, err
	}
	g := &GitHub{api: a, repo: repo, Author: author}
	if g.Author == "" {
		var user struct {
			Login string `json:"login"`
		}
		if _, err := a.do(ctx, http.MethodGet, "/user", nil, nil, &user); err == nil && user.Login != "" {
			g.Author = user.Login
		} else {
			g.Author = ActionsBot
		}
	}
	return g, nil
}

type githubComment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	User    struct {
		Login string `json:"login"`
	} `json:"user"`
}

// UpsertComment implements Client. Pull request conversation comments
// are issue comments in GitHub's API.
func (g *GitHub) UpsertComment(ctx context.Context, t Target, marker *regexp.Regexp, body string) (Result, error) {
	if t.Number <= 0 {
		return Result{}, fmt.Errorf("pull request number %d: run in a pull_request workflow or pass --number", t.Number)
	}
	path := fmt.Sprintf("/repos/%s/issues/%d/comments", g.repo, t.Number)
	found, err := find(ctx, g.api, path, url.Values{}, githubMore, func(c *githubComment) bool {
		return c.User.Login == g.Author && HasMarker(c.Body, marker)
	})
	if err != nil {
		return Result{}, err
	}
	var out githubComment
	if found != nil {
		_, err = g.api.do(ctx, http.MethodPatch, fmt.Sprintf("/repos/%s/issues/comments/%d", g.repo, found.ID), nil, map[string]string{"body": body}, &out)
		return Result{URL: out.HTMLURL}, err
	}
	_, err = g.api.do(ctx, http.MethodPost, path, nil, map[string]string{"body": body}, &out)
	return Result{Created: true, URL: out.HTMLURL}, err
}

type githubIssue struct {
	Number      int    `json:"number"`
	Body        string `json:"body"`
	HTMLURL     string `json:"html_url"`
	PullRequest *struct {
	} `json:"pull_request"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

// UpsertIssue implements Client: it searches the open issues carrying
// the issue's labels (all open issues without labels).
func (g *GitHub) UpsertIssue(ctx context.Context, marker *regexp.Regexp, body string, issue Issue) (Result, error) {
	q := url.Values{"state": {"open"}}
	if len(issue.Labels) > 0 {
		q.Set("labels", strings.Join(issue.Labels, ","))
	}
	path := fmt.Sprintf("/repos/%s/issues", g.repo)
	found, err := find(ctx, g.api, path, q, githubMore, func(i *githubIssue) bool {
		// The list holds pull requests too.
		return i.PullRequest == nil && i.User.Login == g.Author && HasMarker(i.Body, marker)
	})
	if err != nil {
		return Result{}, err
	}
	var out githubIssue
	if found != nil {
		_, err = g.api.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", path, found.Number), nil, map[string]string{"body": body}, &out)
		return Result{URL: out.HTMLURL}, err
	}
	in := map[string]any{"title": issue.Title, "body": body}
	if len(issue.Labels) > 0 {
		in["labels"] = issue.Labels
	}
	_, err = g.api.do(ctx, http.MethodPost, path, nil, in, &out)
	return Result{Created: true, URL: out.HTMLURL}, err
}

func githubMore(h http.Header, _ int) bool { return hasNext(h.Get("Link")) }

// hasNext reports whether a Link header (RFC 8288) has a rel="next".
func hasNext(link string) bool {
	for _, part := range strings.Split(link, ",") {
		for _, param := range strings.Split(part, ";")[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(k, "rel") && strings.Contains(" "+strings.Trim(v, `"`)+" ", " next ") {
				return true
			}
		}
	}
	return false
}
