package forge

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tmci/tmci/internal/forgefake"
)

// The tests run the clients against internal/forgefake, a fake of the
// documented endpoints they use.

const token = "s3cr3t-token-value"

func newClients(t *testing.T, gh, gl *httptest.Server) map[string]Client {
	ctx := context.Background()
	g, err := NewGitHub(ctx, gh.Client(), gh.URL+"/api/v3", "acme/infra", token, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewGitLab(ctx, gl.Client(), gl.URL+"/api/v4", "42", token)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Client{"github": g, "gitlab": l}
}

func bodies(ns []*forgefake.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Author+": "+n.Body)
	}
	return out
}

const marker = "<!-- tmci plan pr-7 -->"

func TestUpsertCommentFindsItsOwnMarkedCommentOnALaterPage(t *testing.T) {
	for _, platform := range []string{"github", "gitlab"} {
		t.Run(platform, func(t *testing.T) {
			ctx := context.Background()
			f, gh, gl := forgefake.New(t, token, "tmci-bot")
			// Another user's comment quoting the marker comes first and
			// must not be edited; the bot's other comments without it
			// neither.
			f.Add(&f.Comments, forgefake.Note{Author: "mallory", Body: marker + "\nfake plan"})
			for i := range 230 {
				f.Add(&f.Comments, forgefake.Note{Author: "alice", Body: fmt.Sprintf("review %d", i)})
			}
			f.Add(&f.Comments, forgefake.Note{Author: "tmci-bot", Body: "see " + marker})
			f.Add(&f.Comments, forgefake.Note{Author: "tmci-bot", Body: marker + "\nold plan"})
			f.Add(&f.Comments, forgefake.Note{Author: "tmci-bot", System: true, Body: marker})
			want := bodies(f.Comments)
			want[len(want)-2] = "tmci-bot: " + marker + "\nnew plan"
			want[len(want)-1] = "tmci-bot: " + marker // a system note is never edited

			res, err := newClients(t, gh, gl)[platform].UpsertComment(ctx, Target{Number: 7}, Exact(marker), marker+"\nnew plan")
			if err != nil {
				t.Fatal(err)
			}
			if res.Created {
				t.Error("created a comment, want the existing one updated")
			}
			if diff := cmp.Diff(want, bodies(f.Comments)); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpsertCommentCreatesOnceThenUpdates(t *testing.T) {
	for _, platform := range []string{"github", "gitlab"} {
		t.Run(platform, func(t *testing.T) {
			ctx := context.Background()
			f, gh, gl := forgefake.New(t, token, "tmci-bot")
			f.Add(&f.Comments, forgefake.Note{Author: "alice", Body: "LGTM"})
			c := newClients(t, gh, gl)[platform]
			for i, body := range []string{"first", "second"} {
				res, err := c.UpsertComment(ctx, Target{Number: 7}, Exact(marker), marker+"\n"+body)
				if err != nil {
					t.Fatal(err)
				}
				if res.Created != (i == 0) {
					t.Errorf("upsert %d: created=%v", i, res.Created)
				}
			}
			want := []string{"alice: LGTM", "tmci-bot: " + marker + "\nsecond"}
			if diff := cmp.Diff(want, bodies(f.Comments)); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		})
	}
}

// The Actions token cannot read /user: the client then updates only
// github-actions[bot]'s comments.
func TestGitHubActionsTokenUpdatesTheBotsComment(t *testing.T) {
	f, gh, _ := forgefake.New(t, token, ActionsBot)
	f.UserForbidden = true
	f.Add(&f.Comments, forgefake.Note{Author: "octocat", Body: marker + "\nby hand"})
	f.Add(&f.Comments, forgefake.Note{Author: ActionsBot, Body: marker + "\nold"})
	g, err := NewGitHub(context.Background(), gh.Client(), gh.URL, "acme/infra", token, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.UpsertComment(context.Background(), Target{Number: 7}, Exact(marker), marker+"\nnew"); err != nil {
		t.Fatal(err)
	}
	want := []string{"octocat: " + marker + "\nby hand", ActionsBot + ": " + marker + "\nnew"}
	if diff := cmp.Diff(want, bodies(f.Comments)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestUpsertIssueUpdatesTheOpenMarkedIssue(t *testing.T) {
	const drift = "<!-- tmci drift prod -->"
	for _, platform := range []string{"github", "gitlab"} {
		t.Run(platform, func(t *testing.T) {
			ctx := context.Background()
			f, gh, gl := forgefake.New(t, token, "tmci-bot")
			c := newClients(t, gh, gl)[platform]
			issue := Issue{Title: "Drift in prod", Labels: []string{"drift"}}
			res, err := c.UpsertIssue(ctx, Exact(drift), drift+"\nnight 1", issue)
			if err != nil || !res.Created {
				t.Fatalf("first night: created=%v, %v", res.Created, err)
			}
			// A pull request labelled drift (GitHub lists it among
			// issues) and a closed drift issue are never updated.
			f.Add(&f.Issues, forgefake.Note{Author: "tmci-bot", Body: drift + "\npr", Labels: []string{"drift"}, Open: true, PR: platform == "github"})
			f.Add(&f.Issues, forgefake.Note{Author: "tmci-bot", Body: drift + "\nclosed", Labels: []string{"drift"}})
			if platform == "gitlab" {
				f.Issues[1].Labels = []string{"other"}
			}
			res, err = c.UpsertIssue(ctx, Exact(drift), drift+"\nnight 2", issue)
			if err != nil || res.Created {
				t.Fatalf("second night: created=%v, %v", res.Created, err)
			}
			want := []string{"tmci-bot: " + drift + "\nnight 2", "tmci-bot: " + drift + "\npr", "tmci-bot: " + drift + "\nclosed"}
			if diff := cmp.Diff(want, bodies(f.Issues)); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
			if f.Issues[0].Title != "Drift in prod" || strings.Join(f.Issues[0].Labels, ",") != "drift" {
				t.Errorf("the issue is %q labelled %q", f.Issues[0].Title, f.Issues[0].Labels)
			}
		})
	}
}

// A rejected token is never repeated: not from the request, not from an
// API message that echoes it.
func TestErrorsNeverCarryTheToken(t *testing.T) {
	_, gh, gl := forgefake.New(t, token, "tmci-bot")
	ctx := context.Background()
	g, err := NewGitHub(ctx, gh.Client(), gh.URL, "acme/infra", token+"-wrong", "someone")
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.UpsertComment(ctx, Target{Number: 7}, Exact(marker), "x")
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("GitHub error %v: want HTTP 401 without the token", err)
	}
	_, err = NewGitLab(ctx, gl.Client(), gl.URL, "42", token+"-wrong")
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("GitLab error %v: want HTTP 401 without the token", err)
	}
	// An unreachable server: the transport error names no token either.
	u, _ := url.Parse(gh.URL)
	gh.Close()
	_, err = NewGitLab(ctx, nil, "http://"+u.Host, "42", token)
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("unreachable: %v", err)
	}
}

func TestBadSettings(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"repo", second(NewGitHub(ctx, nil, "https://api.github.com", "../etc", token, "x")), "not owner/name"},
		{"no token", second(NewGitHub(ctx, nil, "https://api.github.com", "a/b", "", "x")), "GITHUB_TOKEN"},
		{"url", second(NewGitHub(ctx, nil, "file:///etc", "a/b", token, "x")), "not an http(s) URL"},
		{"url credentials", second(NewGitHub(ctx, nil, "https://u:p@api.github.com", "a/b", token, "x")), "carries credentials"},
		{"project", second(NewGitLab(ctx, nil, "https://gitlab.com/api/v4", "acme/infra", token)), "not a number"},
		{"gitlab token", second(NewGitLab(ctx, nil, "https://gitlab.com/api/v4", "42", "")), "TMCI_GITLAB_TOKEN"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestHasNext(t *testing.T) {
	for link, want := range map[string]bool{
		`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`:  true,
		`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"`: false,
		`<https://x/?page=3>; rel="last next"`:                                                          true,
		``:                                                                                              false,
	} {
		if got := hasNext(link); got != want {
			t.Errorf("hasNext(%q) = %v", link, got)
		}
	}
}
