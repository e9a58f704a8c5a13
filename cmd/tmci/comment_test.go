package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/forgefake"
)

// tmci comment against internal/forgefake, a fake of the GitHub and
// GitLab endpoints it calls.

const commentToken = "ghs_secretvalue123"

func commentBodies(ns []*forgefake.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Author+": "+n.Body)
	}
	return out
}

func TestCommentGitHub(t *testing.T) {
	f, gh, _ := forgefake.New(t, commentToken, "github-actions[bot]")
	f.UserForbidden = true // the Actions token cannot read /user
	f.Add(&f.Comments, forgefake.Note{Author: "alice", Body: "<!-- tmci plan pr-7 -->\nquoted by a person"})
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	writeFile(t, event, `{"number":7,"pull_request":{"number":7,"base":{"sha":"0123456789012345678901234567890123456789"}}}`)
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
		"GITHUB_REPOSITORY": "acme/infra", "GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": commentToken, "PATH": os.Getenv("PATH")}
	comment := filepath.Join(dir, "work", "pr-7", "comment.md")
	post := func(want int, body string, args ...string) string {
		t.Helper()
		writeFile(t, comment, body)
		return tmciWant(t, want, env, append([]string{"-C", dir, "comment", "--env=pr-7", "--work-dir=work"}, args...)...)
	}
	if out := post(0, "<!-- tmci plan pr-7 -->\nplan 1\n"); !strings.HasPrefix(out, "created comment https://") {
		t.Errorf("first post: %q", out)
	}
	// A later plan and the preview's apply replace the same comment.
	post(0, "<!-- tmci plan pr-7 -->\nplan 2\n")
	if out := post(0, "<!-- tmci apply pr-7 -->\napplied\n"); !strings.HasPrefix(out, "updated comment") {
		t.Errorf("third post: %q", out)
	}
	want := []string{"alice: <!-- tmci plan pr-7 -->\nquoted by a person", "github-actions[bot]: <!-- tmci apply pr-7 -->\napplied\n"}
	if diff := cmp.Diff(want, commentBodies(f.Comments)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}

	// Another environment's file, or a file without the marker, is
	// refused before any request.
	for _, body := range []string{"<!-- tmci plan pr-8 -->\nx\n", "no marker\n", "<!-- tmci plan pr-7 --> trailing\n"} {
		if out := post(1, body); !strings.Contains(out, "does not start with tmci's marker for pr-7") {
			t.Errorf("%q: %s", body, out)
		}
	}
	// A rejected token is not printed, even when the API repeats it.
	env["GITHUB_TOKEN"] = commentToken + "x"
	out := post(1, "<!-- tmci plan pr-7 -->\nplan 3\n")
	if strings.Contains(out, commentToken) || !strings.Contains(out, "HTTP 401") {
		t.Errorf("with a wrong token: %q", out)
	}
	if diff := cmp.Diff(want, commentBodies(f.Comments)); diff != "" {
		t.Errorf("comments after the failures (-want +got):\n%s", diff)
	}
}

func TestCommentGitLabDriftIssue(t *testing.T) {
	f, _, gl := forgefake.New(t, commentToken, "tmci-bot")
	dir := t.TempDir()
	env := map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "schedule", "CI_API_V4_URL": gl.URL,
		"CI_PROJECT_ID": "42", "TMCI_GITLAB_TOKEN": commentToken, "PATH": os.Getenv("PATH")}
	drift := filepath.Join(dir, "drift.md")
	for night, want := range []string{"created issue https://", "updated issue"} {
		writeFile(t, drift, "<!-- tmci drift prod -->\nnight "+string(rune('1'+night))+"\n")
		if out := tmciWant(t, 0, env, "-C", dir, "comment", "--env=prod", "--issue", "--file=drift.md"); !strings.HasPrefix(out, want) {
			t.Errorf("night %d: %q, want %q", night+1, out, want)
		}
	}
	want := []string{"tmci-bot: <!-- tmci drift prod -->\nnight 2\n"}
	if diff := cmp.Diff(want, commentBodies(f.Issues)); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	if f.Issues[0].Title != "Drift in prod" || strings.Join(f.Issues[0].Labels, ",") != "drift" {
		t.Errorf("issue %q labelled %q", f.Issues[0].Title, f.Issues[0].Labels)
	}
	// A plan's comment is not a drift issue.
	writeFile(t, drift, "<!-- tmci plan prod -->\n")
	tmciWant(t, 1, env, "-C", dir, "comment", "--env=prod", "--issue", "--file=drift.md")
	// Without the token, the error says which variable to set.
	delete(env, "TMCI_GITLAB_TOKEN")
	writeFile(t, drift, "<!-- tmci drift prod -->\n")
	if out := tmciWant(t, 1, env, "-C", dir, "comment", "--env=prod", "--issue", "--file=drift.md"); !strings.Contains(out, "TMCI_GITLAB_TOKEN") {
		t.Errorf("without a token: %q", out)
	}
}
