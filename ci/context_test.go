package ci

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	shaA = "64c36343adc151d5faa1a66b219ec407ebdb2bd4"
	shaB = "c98ad56e809893b8441032e5bb72dfd84aea9589"
	zero = "0000000000000000000000000000000000000000"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		event string // GitHub event JSON, written to a file
		want  *Context
	}{
		{name: "not in CI", env: map[string]string{}, want: &Context{}},
		{name: "generic CI", env: map[string]string{"CI": "true"}, want: &Context{Provider: Generic}},
		{
			name: "GitHub pull request",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": shaB,
				"GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_NAME": "7/merge",
			},
			event: `{"number": 7, "pull_request": {"number": 7, "base": {"sha": "` + shaA + `"}}}`,
			want: &Context{
				Provider: GitHub, Event: "pull_request", SHA: shaB, Number: 7,
				Base: []BaseCandidate{
					{FirstParent, shaB, "GitHub pull_request merge commit (GITHUB_SHA)"},
					{MergeBase, shaA, "GitHub pull_request event pull_request.base.sha"},
				},
			},
		},
		{
			name: "GitHub pull_request_target",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_SHA": shaA,
				"GITHUB_REF": "refs/heads/main",
			},
			event: `{"number": 7, "pull_request": {"number": 7, "base": {"sha": "` + shaA + `"}}}`,
			want: &Context{
				Provider: GitHub, Event: "pull_request_target", SHA: shaA, Number: 7,
				Base: []BaseCandidate{{MergeBase, shaA, "GitHub pull_request_target event pull_request.base.sha"}},
			},
		},
		{
			name: "GitHub push",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": shaB,
				"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch",
			},
			event: `{"before": "` + shaA + `", "after": "` + shaB + `"}`,
			want: &Context{
				Provider: GitHub, Event: "push", SHA: shaB, Branch: "main",
				Base: []BaseCandidate{{Commit, shaA, "GitHub push event before"}},
			},
		},
		{
			name: "GitHub push of a new branch",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": shaB,
				"GITHUB_REF": "refs/heads/feature/x",
			},
			event: `{"before": "` + zero + `"}`,
			want:  &Context{Provider: GitHub, Event: "push", SHA: shaB, Branch: "feature/x"},
		},
		{
			name: "GitHub schedule",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule", "GITHUB_SHA": shaB,
				"GITHUB_REF": "refs/heads/main",
			},
			event: `{"schedule": "0 3 * * *"}`,
			want:  &Context{Provider: GitHub, Event: "schedule", SHA: shaB, Branch: "main"},
		},
		{
			name: "GitLab merge request",
			env: map[string]string{
				"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": shaB,
				"CI_MERGE_REQUEST_IID": "12", "CI_MERGE_REQUEST_DIFF_BASE_SHA": shaA, "CI_COMMIT_BEFORE_SHA": zero,
			},
			want: &Context{
				Provider: GitLab, Event: "merge_request_event", SHA: shaB, Number: 12,
				Base: []BaseCandidate{{Commit, shaA, "GitLab merge request CI_MERGE_REQUEST_DIFF_BASE_SHA"}},
			},
		},
		{
			name: "GitLab merged-results pipeline",
			env: map[string]string{
				"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": shaB,
				"CI_MERGE_REQUEST_IID": "12", "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
				"CI_MERGE_REQUEST_DIFF_BASE_SHA": zero[:39] + "1", "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": shaA,
			},
			want: &Context{
				Provider: GitLab, Event: "merge_request_event", SHA: shaB, Number: 12,
				Base: []BaseCandidate{
					{Commit, shaA, "GitLab merged_result pipeline CI_MERGE_REQUEST_TARGET_BRANCH_SHA"},
					{FirstParent, shaB, "GitLab merged_result pipeline merge commit (CI_COMMIT_SHA)"},
				},
			},
		},
		{
			name: "GitLab merge train without the target SHA",
			env: map[string]string{
				"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": shaB,
				"CI_MERGE_REQUEST_EVENT_TYPE": "merge_train", "CI_MERGE_REQUEST_DIFF_BASE_SHA": shaA,
			},
			want: &Context{
				Provider: GitLab, Event: "merge_request_event", SHA: shaB,
				Base: []BaseCandidate{{FirstParent, shaB, "GitLab merge_train pipeline merge commit (CI_COMMIT_SHA)"}},
			},
		},
		{
			name: "GitLab push",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": shaB,
				"CI_COMMIT_BRANCH": "main", "CI_COMMIT_BEFORE_SHA": shaA,
			},
			want: &Context{
				Provider: GitLab, Event: "push", SHA: shaB, Branch: "main",
				Base: []BaseCandidate{{Commit, shaA, "GitLab push CI_COMMIT_BEFORE_SHA"}},
			},
		},
		{
			name: "GitLab push of a new branch",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": shaB,
				"CI_COMMIT_BRANCH": "feature", "CI_COMMIT_BEFORE_SHA": zero,
			},
			want: &Context{Provider: GitLab, Event: "push", SHA: shaB, Branch: "feature"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if tt.event != "" {
				p := filepath.Join(t.TempDir(), "event.json")
				if err := os.WriteFile(p, []byte(tt.event), 0o644); err != nil {
					t.Fatal(err)
				}
				env["GITHUB_EVENT_PATH"] = p
			}
			got, err := Detect(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.InCI() != (tt.want.Provider != None) {
				t.Errorf("InCI() = %v", got.InCI())
			}
		})
	}
}

func TestDetectEventErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"before":`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"missing": filepath.Join(dir, "nope.json"), "invalid": bad} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": path}
			if _, err := Detect(func(k string) string { return env[k] }); err == nil {
				t.Error("Detect accepted an unreadable event file")
			}
		})
	}
}
