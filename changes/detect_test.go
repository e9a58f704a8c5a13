package changes

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/ci"
	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
	"github.com/tmci/tmci/project"
)

// gitModes are the two ways Detect reads the repository: with the git CLI
// for merge-base and status, and with go-git alone (the fallback).
func gitModes(t testing.TB) map[string]string {
	t.Helper()
	modes := map[string]string{"go-git": ""}
	if bin, err := exec.LookPath("git"); err == nil {
		modes["git-cli"] = bin
	} else if testenv.RequireAll() {
		t.Fatal("git is not on PATH")
	}
	return modes
}

// summary renders a result as "path: reason; reason" lines, plus
// "path (deleted id)", "old (moved to new, id id)" and "path (ignored)" lines.
func summary(r *Result) []string {
	var out []string
	for _, c := range r.Changed {
		line := c.Stack.Path + ":"
		for _, reason := range c.Reasons {
			line += " " + reason.String() + ";"
		}
		out = append(out, line)
	}
	for _, d := range r.Deleted {
		out = append(out, fmt.Sprintf("%s (deleted %s)", d.Path, d.ID))
	}
	for _, m := range r.Moved {
		out = append(out, fmt.Sprintf("%s (moved to %s, id %s)", m.From, m.To, m.ID))
	}
	for _, c := range r.Ignored {
		out = append(out, c.Stack.Path+" (ignored)")
	}
	return out
}

func TestDetectAndMap(t *testing.T) {
	tests := []struct {
		fixture string
		opts    Options
		// setup runs in the repository before Detect.
		setup []string
		want  []string
	}{
		{
			fixture: "changed-modules",
			want: []string{
				"/stacks/chain: module /modules/app -> /modules/net: changed file /modules/net/main.tf;",
				"/stacks/direct: module /modules/net: changed file /modules/net/main.tf;",
				"/stacks/looped: module /modules/loop1 -> /modules/loop2 -> /modules/net: changed file /modules/net/main.tf;",
				"/stacks/other: module /modules/loop2 -> /modules/net: changed file /modules/net/main.tf;",
			},
		},
		{
			fixture: "changed-nested",
			want: []string{
				"/stacks/app/child: changed file /stacks/app/child/main.tf;",
				"/stacks/db: changed file /stacks/db/vendor/lib.txt;",
				"/stacks/web: changed file /stacks/web/.cache/notes.txt;",
			},
		},
		{
			fixture: "changed-watch",
			want: []string{
				"/stacks/a: watched file /shared/policy.json changed;",
				"/stacks/b: watched file /shared/policy.json changed;",
			},
		},
		{
			fixture: "changed-deleted",
			want: []string{
				"/stacks/moved: changed file /stacks/moved/stack.tm.hcl;",
				"/stacks/old (deleted old-stack)",
				"/stacks/was-stack (deleted )",
				// Same id at a new path: moved, not deleted (issue 20 item 5).
				"/stacks/mv (moved to /stacks/moved, id mover)",
			},
		},
		{
			// /modules/network shares a prefix with /modules/net, which
			// four stacks use, but is another directory: no stack changes.
			fixture: "changed-modules",
			setup: []string{"sh", "-c", "git reset -q --hard HEAD~1 && mkdir -p modules/network && " +
				"echo 'resource \"terraform_data\" \"x\" {}' >modules/network/main.tf && echo '#' >>modules/networking.tf && git add modules"},
			want: nil,
		},
		{
			fixture: "changed-hidden",
			want:    []string{"/stacks/old (deleted old-stack)"},
		},
		{
			fixture: "changed-uncommitted",
			want: []string{
				"/stacks/a: changed file /stacks/a/main.tf (staged);",
				"/stacks/b: changed file /stacks/b/main.tf (unstaged);",
				"/stacks/c: deleted file /stacks/c/main.tf (unstaged);",
				"/stacks/d: changed file /stacks/d/new.tf (untracked);",
			},
		},
		{
			fixture: "changed-uncommitted",
			opts:    Options{NoUncommitted: true},
			want:    nil,
		},
		{
			fixture: "changed-uncommitted",
			opts:    Options{CI: ci.Context{Provider: ci.Generic}},
			want:    nil,
		},
		{
			fixture: "changed-rename",
			want: []string{
				"/stacks/from: deleted file /stacks/from/shared.tf;",
				"/stacks/to: changed file /stacks/to/shared.tf;",
			},
		},
		{
			fixture: "changed-triggers",
			want: []string{
				"/stacks/a: triggered by /.tmtriggers/stacks/a/changed-1.tm.hcl;",
				"/stacks/c: triggered by /.tmtriggers/stacks/c/changed-2.tm.hcl;",
				"/stacks/b (ignored)",
			},
		},
		{
			fixture: "changed-root",
			want:    []string{"/: changed file /.bar; changed file /.baz/qux;"},
		},
		{
			fixture: "changed-tmcihcl",
			want: []string{
				"/stacks/prod/api: tmci.hcl changed: /stacks/prod/tmci.hcl;",
				"/stacks/prod/db: tmci.hcl changed: /stacks/prod/tmci.hcl;",
			},
		},
		{
			// A commit on the branch plus a staged edit of the same file.
			fixture: "changed-rename",
			setup:   []string{"sh", "-c", "echo '# more' >> stacks/to/shared.tf && git add stacks/to/shared.tf"},
			want: []string{
				"/stacks/from: deleted file /stacks/from/shared.tf;",
				"/stacks/to: changed file /stacks/to/shared.tf (committed, staged);",
			},
		},
		{
			// A staged rename across stacks changes both.
			fixture: "changed-history",
			setup:   []string{"git", "mv", "stacks/a/main.tf", "stacks/c/main.tf"},
			want: []string{
				"/stacks/a: deleted file /stacks/a/main.tf (committed, staged);",
				"/stacks/c: changed file /stacks/c/main.tf (staged);",
			},
		},
		{
			fixture: "changed-history",
			want:    []string{"/stacks/a: changed file /stacks/a/main.tf;"},
		},
		{
			fixture: "changed-history",
			opts:    Options{Base: "feature"},
			want: []string{
				"/stacks/a: changed file /stacks/a/main.tf;",
				"/stacks/b: changed file /stacks/b/main.tf;",
			},
		},
		{
			fixture: "changed-history",
			opts:    Options{Base: "HEAD"},
			want:    nil,
		},
	}
	for i, tt := range tests {
		for mode, gitBin := range gitModes(t) {
			t.Run(fmt.Sprintf("%d-%s-%s", i, tt.fixture, mode), func(t *testing.T) {
				dir := fixture.Repo(t, tt.fixture)
				if len(tt.setup) > 0 {
					cmd := exec.Command(tt.setup[0], tt.setup[1:]...)
					cmd.Dir = dir
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("setup: %v: %s", err, out)
					}
				}
				p, diags := project.Load(dir, project.Options{})
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				opts := tt.opts
				opts.Git = gitBin
				d, err := Detect(context.Background(), dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				res, diags := Map(context.Background(), p, d)
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				if diff := cmp.Diff(tt.want, summary(res)); diff != "" {
					t.Errorf("changed stacks (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDetectErrors(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		setup   string
		opts    Options
		want    string
	}{
		{
			name:    "unknown ref",
			fixture: "changed-history",
			opts:    Options{Base: "no-such-branch"},
			want:    `unknown base ref "no-such-branch": git knows no commit by that name; check the spelling, or fetch it first (git fetch origin no-such-branch)`,
		},
		{
			name:    "single commit",
			fixture: "changed-single",
			want:    "HEAD^ does not exist: HEAD (f66e8a93e700) is the only commit on the default branch main, so there is nothing to compare it with; pass --base REF, or leave out --changed to select every stack",
		},
		{
			name:    "detached in CI",
			fixture: "changed-history",
			setup:   "git checkout -q --detach feature",
			opts:    Options{CI: ci.Context{Provider: ci.GitLab, Event: "push"}},
			want:    `HEAD is detached and the gitlab CI context (event "push") names no base commit, so tmci cannot tell which branch this is: pass --base REF (e.g. --base origin/main)`,
		},
		{
			name:    "CI commit missing",
			fixture: "changed-history",
			opts:    Options{CI: ci.Context{Provider: ci.GitHub, Base: []ci.BaseCandidate{{Kind: ci.Commit, SHA: "1111111111111111111111111111111111111111", Source: "GitHub push event before"}}}},
			want:    "base commit 1111111111111111111111111111111111111111 (GitHub push event before) is not in the repository: it may have been force-pushed away; fetch it (git fetch origin 1111111111111111111111111111111111111111) or pass --base REF",
		},
		{
			name:    "no default branch",
			fixture: "changed-history",
			setup:   "git checkout -q -b trunk && git branch -q -D main && git update-ref -d refs/remotes/origin/main",
			want:    "cannot find the default branch to compare with: neither origin/main nor a local branch main exists; fetch it (git fetch origin main), set terramate.config.git.default_branch, or pass --base REF",
		},
	}
	for _, tt := range tests {
		for mode, gitBin := range gitModes(t) {
			t.Run(tt.name+"-"+mode, func(t *testing.T) {
				dir := fixture.Repo(t, tt.fixture)
				if tt.setup != "" {
					cmd := exec.Command("sh", "-c", tt.setup)
					cmd.Dir = dir
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("setup: %v: %s", err, out)
					}
				}
				opts := tt.opts
				opts.Git = gitBin
				_, err := Detect(context.Background(), dir, opts)
				if err == nil {
					t.Fatal("Detect succeeded, want an error")
				}
				if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			})
		}
	}
	t.Run("not a repository", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Detect(context.Background(), dir, Options{})
		want := filepath.Clean(dir) + " is not a git repository: change detection compares git commits; run tmci inside a git checkout, or leave out --changed"
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
	})
}
