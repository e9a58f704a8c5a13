package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// GitLab is a Client for one project through GitLab's REST API (v4). It
// uses:
//
//	GET  /user                                        (the token's user)
//	GET  /projects/{id}/merge_requests/{iid}/notes    (paginated by X-Next-Page)
//	POST /projects/{id}/merge_requests/{iid}/notes
//	PUT  /projects/{id}/merge_requests/{iid}/notes/{note_id}
//	GET  /projects/{id}/issues?state=opened&labels=…  (paginated)
//	POST /projects/{id}/issues
//	PUT  /projects/{id}/issues/{iid}
//
// The token is a project, group or personal access token with the api
// scope, sent as PRIVATE-TOKEN: the CI job token cannot write notes.
type GitLab struct {
	api     *api
	project string
	// AuthorID is the user whose notes and issues may be updated.
	AuthorID int64
}

type gitlabUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// NewGitLab returns a client for project (CI_PROJECT_ID, a number) at
// apiURL (CI_API_V4_URL). It reads the token's user, whose notes alone
// are ever updated.
func NewGitLab(ctx context.Context, hc *http.Client, apiURL, project, token string) (*GitLab, error) {
	if id, err := strconv.ParseInt(project, 10, 64); err != nil || id <= 0 {
		return nil, fmt.Errorf("GitLab project ID %q is not a number: run in GitLab CI (CI_PROJECT_ID)", project)
	}
	if token == "" {
		return nil, fmt.Errorf("no GitLab token: set TMCI_GITLAB_TOKEN to a project access token with the api scope (a masked CI/CD variable)")
	}
	h := http.Header{}
	h.Set("PRIVATE-TOKEN", token)
	a, err := newAPI(hc, apiURL, h, token)
	if err != nil {
		return nil, err
	}
	var u gitlabUser
	if _, err := a.do(ctx, http.MethodGet, "/user", nil, nil, &u); err != nil {
		return nil, fmt.Errorf("reading the token's user: %w", err)
	}
	return &GitLab{api: a, project: project, AuthorID: u.ID}, nil
}

type gitlabNote struct {
	ID     int64      `json:"id"`
	Body   string     `json:"body"`
	System bool       `json:"system"`
	Author gitlabUser `json:"author"`
}

func gitlabMore(h http.Header, _ int) bool {
	return h.Get("X-Next-Page") != "" || hasNext(h.Get("Link"))
}

// UpsertComment implements Client with merge request notes.
func (g *GitLab) UpsertComment(ctx context.Context, t Target, marker *regexp.Regexp, body string) (Result, error) {
	if t.Number <= 0 {
		return Result{}, fmt.Errorf("merge request IID %d: run in a merge request pipeline or pass --number", t.Number)
	}
	path := fmt.Sprintf("/projects/%s/merge_requests/%d/notes", g.project, t.Number)
	found, err := find(ctx, g.api, path, url.Values{"sort": {"asc"}}, gitlabMore, func(n *gitlabNote) bool {
		return !n.System && n.Author.ID == g.AuthorID && HasMarker(n.Body, marker)
	})
	if err != nil {
		return Result{}, err
	}
	in := map[string]string{"body": body}
	if found != nil {
		_, err = g.api.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", path, found.ID), nil, in, nil)
		return Result{}, err
	}
	_, err = g.api.do(ctx, http.MethodPost, path, nil, in, nil)
	return Result{Created: true}, err
}

type gitlabIssue struct {
	IID         int64      `json:"iid"`
	Description string     `json:"description"`
	WebURL      string     `json:"web_url"`
	Author      gitlabUser `json:"author"`
}

// UpsertIssue implements Client.
func (g *GitLab) UpsertIssue(ctx context.Context, marker *regexp.Regexp, body string, issue Issue) (Result, error) {
	q := url.Values{"state": {"opened"}}
	if len(issue.Labels) > 0 {
		q.Set("labels", strings.Join(issue.Labels, ","))
	}
	path := fmt.Sprintf("/projects/%s/issues", g.project)
	found, err := find(ctx, g.api, path, q, gitlabMore, func(i *gitlabIssue) bool {
		return i.Author.ID == g.AuthorID && HasMarker(i.Description, marker)
	})
	if err != nil {
		return Result{}, err
	}
	var out gitlabIssue
	if found != nil {
		_, err = g.api.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", path, found.IID), nil, map[string]string{"description": body}, &out)
		return Result{URL: out.WebURL}, err
	}
	in := map[string]string{"title": issue.Title, "description": body}
	if len(issue.Labels) > 0 {
		in["labels"] = strings.Join(issue.Labels, ",")
	}
	_, err = g.api.do(ctx, http.MethodPost, path, nil, in, &out)
	return Result{Created: true, URL: out.WebURL}, err
}
