// Package forgefake is a fake of the few GitHub and GitLab REST
// endpoints package forge uses, for tests: an in-memory pull/merge
// request thread and issue list served over HTTP with each platform's
// pagination (GitHub's Link header, GitLab's X-Next-Page) and
// authentication header. It is a fake because the real services cannot
// run here.
package forgefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Note is one comment, issue or merge request note held by the fake.
type Note struct {
	ID     int64
	Author string
	Body   string
	System bool // GitLab system note
	PR     bool // GitHub: a pull request in the issues list
	Labels []string
	Title  string
	Open   bool
}

type Forge struct {
	T     testing.TB
	Token string
	mu    sync.Mutex
	// User is the token's user.
	User string
	// UserForbidden makes GET /user answer 403, as for the Actions token.
	UserForbidden bool
	// Comments are those of pull request / merge request 7 of acme/infra
	// (GitHub) or project 42 (GitLab).
	Comments []*Note
	Issues   []*Note
	nextID   int64
}

// Add appends n to list with the next ID.
func (f *Forge) Add(list *[]*Note, n Note) *Note {
	f.nextID++
	n.ID = f.nextID
	*list = append(*list, &n)
	return &n
}

// page serves items as one page of per_page, setting the pagination
// headers of the platform.
func page[T any](w http.ResponseWriter, r *http.Request, gitlab bool, items []T) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p <= 0 {
		p = 1
	}
	lo, hi := min((p-1)*per, len(items)), min(p*per, len(items))
	if hi < len(items) {
		if gitlab {
			w.Header().Set("X-Next-Page", strconv.Itoa(p+1))
		} else {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(p+1))
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next", <http://x/last>; rel="last"`, r.Host, r.URL.Path, q.Encode()))
		}
	}
	json.NewEncoder(w).Encode(items[lo:hi])
}

func decode(r *http.Request) map[string]any {
	var m map[string]any
	json.NewDecoder(r.Body).Decode(&m)
	return m
}

// ServeGitHub implements the GitHub endpoints package forge uses.
func (f *Forge) ServeGitHub(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"Bad credentials: %s"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return
	}
	type user struct {
		Login string `json:"login"`
	}
	type comment struct {
		ID      int64  `json:"id"`
		Body    string `json:"body"`
		User    user   `json:"user"`
		HTMLURL string `json:"html_url"`
	}
	type issue struct {
		Number      int64     `json:"number"`
		Body        string    `json:"body"`
		User        user      `json:"user"`
		PullRequest *struct{} `json:"pull_request,omitempty"`
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case r.Method == "GET" && path == "/user":
		if f.UserForbidden {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
			return
		}
		json.NewEncoder(w).Encode(user{f.User})
	case r.Method == "GET" && path == "/repos/acme/infra/issues/7/comments":
		var out []comment
		for _, c := range f.Comments {
			out = append(out, comment{ID: c.ID, Body: c.Body, User: user{c.Author}})
		}
		page(w, r, false, out)
	case r.Method == "POST" && path == "/repos/acme/infra/issues/7/comments":
		c := f.Add(&f.Comments, Note{Author: f.User, Body: decode(r)["body"].(string)})
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(comment{ID: c.ID, Body: c.Body, HTMLURL: fmt.Sprintf("https://github.example/acme/infra/pull/7#issuecomment-%d", c.ID)})
	case r.Method == "PATCH" && strings.HasPrefix(path, "/repos/acme/infra/issues/comments/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/repos/acme/infra/issues/comments/"), 10, 64)
		for _, c := range f.Comments {
			if c.ID == id {
				if c.Author != f.User {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				c.Body = decode(r)["body"].(string)
				json.NewEncoder(w).Encode(comment{ID: c.ID, Body: c.Body})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	case r.Method == "GET" && path == "/repos/acme/infra/issues":
		want := r.URL.Query().Get("labels")
		var out []issue
		for _, i := range f.Issues {
			if i.Open && (want == "" || strings.Join(i.Labels, ",") == want) {
				is := issue{Number: i.ID, Body: i.Body, User: user{i.Author}}
				if i.PR {
					is.PullRequest = &struct{}{}
				}
				out = append(out, is)
			}
		}
		page(w, r, false, out)
	case r.Method == "POST" && path == "/repos/acme/infra/issues":
		in := decode(r)
		var labels []string
		for _, l := range in["labels"].([]any) {
			labels = append(labels, l.(string))
		}
		i := f.Add(&f.Issues, Note{Author: f.User, Title: in["title"].(string), Body: in["body"].(string), Labels: labels, Open: true})
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(issue{Number: i.ID, Body: i.Body})
	case r.Method == "PATCH" && strings.HasPrefix(path, "/repos/acme/infra/issues/"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(path, "/repos/acme/infra/issues/"), 10, 64)
		for _, i := range f.Issues {
			if i.ID == n {
				i.Body = decode(r)["body"].(string)
				json.NewEncoder(w).Encode(issue{Number: i.ID, Body: i.Body})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	default:
		f.T.Errorf("the GitHub fake does not implement %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

// ServeGitLab implements the GitLab endpoints package forge uses.
func (f *Forge) ServeGitLab(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != f.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
		return
	}
	type user struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	uid := func(name string) int64 { return int64(len(name)) } // distinct per test user name
	path := strings.TrimPrefix(r.URL.Path, "/api/v4")
	const notes = "/projects/42/merge_requests/7/notes"
	switch {
	case r.Method == "GET" && path == "/user":
		json.NewEncoder(w).Encode(user{uid(f.User), f.User})
	case r.Method == "GET" && path == notes:
		type gn struct {
			ID     int64  `json:"id"`
			Body   string `json:"body"`
			System bool   `json:"system"`
			Author user   `json:"author"`
		}
		var out []gn
		for _, c := range f.Comments {
			out = append(out, gn{c.ID, c.Body, c.System, user{uid(c.Author), c.Author}})
		}
		page(w, r, true, out)
	case r.Method == "POST" && path == notes:
		f.Add(&f.Comments, Note{Author: f.User, Body: decode(r)["body"].(string)})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
	case r.Method == "PUT" && strings.HasPrefix(path, notes+"/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, notes+"/"), 10, 64)
		for _, c := range f.Comments {
			if c.ID == id && c.Author == f.User {
				c.Body = decode(r)["body"].(string)
				fmt.Fprint(w, `{}`)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	case r.Method == "GET" && path == "/projects/42/issues":
		type gi struct {
			IID         int64  `json:"iid"`
			Description string `json:"description"`
			Author      user   `json:"author"`
		}
		var out []gi
		for _, i := range f.Issues {
			if i.Open && strings.Join(i.Labels, ",") == r.URL.Query().Get("labels") {
				out = append(out, gi{i.ID, i.Body, user{uid(i.Author), i.Author}})
			}
		}
		page(w, r, true, out)
	case r.Method == "POST" && path == "/projects/42/issues":
		in := decode(r)
		f.Add(&f.Issues, Note{Author: f.User, Title: in["title"].(string), Body: in["description"].(string), Labels: strings.Split(in["labels"].(string), ","), Open: true})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"web_url":"https://gitlab.example/acme/infra/-/issues/1"}`)
	case r.Method == "PUT" && strings.HasPrefix(path, "/projects/42/issues/"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(path, "/projects/42/issues/"), 10, 64)
		for _, i := range f.Issues {
			if i.ID == n {
				i.Body = decode(r)["description"].(string)
				fmt.Fprint(w, `{}`)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	default:
		f.T.Errorf("the GitLab fake does not implement %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

// New starts a GitHub and a GitLab fake sharing f's state, accepting
// token for user; both stop when the test ends.
func New(t testing.TB, token, user string) (*Forge, *httptest.Server, *httptest.Server) {
	f := &Forge{T: t, Token: token, User: user}
	gh := httptest.NewServer(http.HandlerFunc(f.ServeGitHub))
	gl := httptest.NewServer(http.HandlerFunc(f.ServeGitLab))
	t.Cleanup(gh.Close)
	t.Cleanup(gl.Close)
	return f, gh, gl
}
