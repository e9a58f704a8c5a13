package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func at(sec int) *time.Time {
	t := time.Date(2026, 1, 1, 12, 0, sec, 0, time.UTC)
	return &t
}

const planExcerpt = `Terraform will perform the following actions:

  # terraform_data.web will be created
  + resource "terraform_data" "web" {
      + id     = (known after apply)
      + input  = "acme-web"
      + output = (known after apply)
    }

Plan: 1 to add, 0 to change, 0 to destroy.`

// sampleReport is a plan run with every kind of outcome: changes with a
// replace, no changes, a failure, a skip caused by it, an interruption.
func sampleReport(command string) *Report {
	r := &Report{
		TmciVersion: "test",
		Command:     command,
		Environment: "pr-7",
		StartedAt:   *at(0),
		Stacks: []StackReport{
			{Path: "/network/vpc", Name: "vpc", Status: StatusSucceeded, StartedAt: at(0), EndedAt: at(2), DurationMS: 2100, Log: ".tmci/pr-7/logs/network/vpc.log",
				Plan: &PlanReport{Changes: true, Excerpt: planExcerpt, Summary: tf.Summary{Create: 1, Replace: 1,
					Changes: []tf.Change{{Address: "terraform_data.web", Action: tf.Create}, {Address: "terraform_data.old", Action: tf.Replace}}}}},
			{Path: "/network/dns", Name: "dns", DependsOn: []string{"/network/vpc"}, Status: StatusSucceeded, StartedAt: at(2), EndedAt: at(3), DurationMS: 900, Log: ".tmci/pr-7/logs/network/dns.log",
				Plan:         &PlanReport{Summary: tf.Summary{Drift: 1, Drifted: []tf.Change{{Address: "terraform_data.zone", Action: tf.Update}}}},
				MockedInputs: []MockedInput{{Name: "vpc_id", Source: "/network/vpc", Defined: "network/dns/stack.tm:5", Reason: "/network/vpc has no state in pr-7 yet"}}},
			{Path: "/services/api", Name: "api", DependsOn: []string{"/network/vpc"}, Status: StatusFailed, StartedAt: at(2), EndedAt: at(4), DurationMS: 1500,
				Error: "terraform plan: exit status 1\nError: Invalid reference", Log: ".tmci/pr-7/logs/services/api.log"},
			{Path: "/services/web", Name: "web", DependsOn: []string{"/services/api"}, Status: StatusSkipped, FailedDependencies: []string{"/services/api"}},
			{Path: "/services/worker|x", Name: "worker", Status: StatusInterrupted, StartedAt: at(2), EndedAt: at(5), DurationMS: 65000, Error: "interrupted"},
		},
	}
	r.Finish(*at(6))
	return r
}

func TestRenderGolden(t *testing.T) {
	plan := sampleReport("plan")
	golden(t, "summary.md", Summary(plan))
	golden(t, "comment.md", Comment(plan))
	golden(t, "gitlab-terraform.json", GitLabTerraform(plan))
	junit, err := JUnit(plan)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.xml", junit)

	drift := sampleReport("drift")
	golden(t, "drift.md", DriftIssue(drift))
	junit, err = JUnit(drift)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "junit-drift.xml", junit)

	empty := &Report{Command: "plan", Environment: "prod", StartedAt: *at(0)}
	empty.Finish(*at(1))
	golden(t, "summary-empty.md", Summary(empty))
}

func TestGitLabTerraformCountsReplaceTwice(t *testing.T) {
	r := &Report{Stacks: []StackReport{
		{Status: StatusSucceeded, Plan: &PlanReport{Changes: true, Summary: tf.Summary{Create: 2, Update: 1, Delete: 3, Replace: 4, Forget: 1}}},
		{Status: StatusSucceeded, Plan: &PlanReport{Changes: true, Summary: tf.Summary{Replace: 1}}},
	}}
	r.Finish(time.Time{})
	var got map[string]int
	if err := json.Unmarshal(GitLabTerraform(r), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"create": 7, "update": 1, "delete": 8}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestJUnitIsValidXML(t *testing.T) {
	r := sampleReport("drift")
	r.Stacks[2].Error = "bad \x00 <char> & ]]> end"
	data, err := JUnit(r)
	if err != nil {
		t.Fatal(err)
	}
	var back junitSuites
	if err := xml.Unmarshal(data, &back); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, data)
	}
	s := back.Suites[0]
	if s.Tests != 5 || s.Failures != 4 || s.Skipped != 1 {
		t.Errorf("tests %d failures %d skipped %d, want 5 4 1 (2 drifts, failure, interruption; skip)", s.Tests, s.Failures, s.Skipped)
	}
}

// bigPlan is a plan excerpt of about n bytes.
func bigPlan(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "  # terraform_data.r%d will be created ‑ with `backticks` and ünïcode\n", i)
	}
	return b.String()
}

// bigReport has stacks stacks, each with changes and an excerpt of about
// excerpt bytes, every stack depending on the previous one.
func bigReport(stacks, excerpt int) *Report {
	r := &Report{Command: "plan", Environment: "prod", StartedAt: *at(0)}
	plan := bigPlan(excerpt)
	for i := range stacks {
		s := StackReport{Path: fmt.Sprintf("/stacks/s%05d", i), Status: StatusSucceeded, StartedAt: at(0), DurationMS: 1000,
			Log:  fmt.Sprintf(".tmci/prod/logs/stacks/s%05d.log", i),
			Plan: &PlanReport{Changes: true, Excerpt: plan, Summary: tf.Summary{Create: 1}}}
		if i > 0 {
			s.DependsOn = []string{r.Stacks[i-1].Path}
		}
		r.Stacks = append(r.Stacks, s)
	}
	r.Finish(*at(1))
	return r
}

func TestSizeLimits(t *testing.T) {
	for _, tc := range []struct {
		name            string
		stacks, excerpt int
		render          func(*Report) []byte
		limit           int
		wantNote        []string
		wantExcerpts    bool
	}{
		{"summary, many big plans", 40, 100 << 10, Summary, SummaryLimit, []string{"1 MiB", "excerpts shortened"}, true},
		{"summary, one huge plan", 1, 3 << 20, Summary, SummaryLimit, []string{"1 excerpt shortened"}, true},
		{"summary, huge graph", 3000, 10, Summary, SummaryLimit, []string{"run graph left out"}, true},
		{"summary, huge table", 20000, 10, Summary, SummaryLimit, []string{"not listed in the table", "left out"}, true},
		{"comment, many plans", 30, 10 << 10, Comment, CommentLimit, []string{"65,536-character", "excerpts"}, true},
		{"comment, huge table", 5000, 10, Comment, CommentLimit, []string{"not listed in the table"}, true},
		{"drift issue", 300, 20 << 10, DriftIssue, CommentLimit, []string{"drifted stacks not detailed"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bigReport(tc.stacks, tc.excerpt)
			if tc.render == nil {
				return
			}
			got := tc.render(r)
			if len(got) > tc.limit {
				t.Errorf("%d bytes, over the limit of %d", len(got), tc.limit)
			}
			if !utf8.Valid(got) {
				t.Error("the cut left invalid UTF-8")
			}
			for _, want := range tc.wantNote {
				if !bytes.Contains(got, []byte(want)) {
					t.Errorf("no %q in the note:\n%s", want, tail(got))
				}
			}
			if has := bytes.Contains(got, []byte("terraform_data.r0 ")); has != tc.wantExcerpts {
				t.Errorf("excerpt shown: %v, want %v", has, tc.wantExcerpts)
			}
			// Every opened fence and details block is closed.
			if o, c := bytes.Count(got, []byte("<details")), bytes.Count(got, []byte("</details>")); o != c {
				t.Errorf("%d <details> but %d </details>", o, c)
			}
		})
	}
}

func tail(b []byte) string {
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(b)
}

func TestStepSummaryAndOutputs(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport("drift")
	files, err := r.WriteAll(filepath.Join(dir, "pr-7"))
	if err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "step_summary")
	// A step that already wrote most of its 1 MiB.
	if err := os.WriteFile(summary, bytes.Repeat([]byte("x"), SummaryLimit-3000), 0o644); err != nil {
		t.Fatal(err)
	}
	output := filepath.Join(dir, "output")
	env := map[string]string{"GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": output}
	if err := Publish(func(k string) string { return env[k] }, r, files); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(summary)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > SummaryLimit {
		t.Errorf("step summary is %d bytes, over 1 MiB", fi.Size())
	}
	out, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "pr-7")
	want := strings.Join([]string{
		"changed=1", "has_changes=true", "failed=2", "drifted=2", "has_drift=true",
		"report=" + abs + "/report.json", "summary=" + abs + "/summary.md", "comment=" + abs + "/comment.md",
		"gitlab_terraform=" + abs + "/gitlab-terraform.json", "junit=" + abs + "/junit.xml", "drift=" + abs + "/drift.md",
	}, "\n") + "\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("GITHUB_OUTPUT (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"comment.md", "drift.md", "gitlab-terraform.json", "junit.xml", "report.json", "summary.md"}, names); diff != "" {
		t.Errorf("report files (-want +got):\n%s", diff)
	}
}

func TestFenceFor(t *testing.T) {
	for body, want := range map[string]string{"": "```", "a`b``c": "```", "````x": "`````", "x```": "````"} {
		if got := fenceFor(body); got != want {
			t.Errorf("fenceFor(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestTableKeepsFailuresFirst(t *testing.T) {
	r := bigReport(20000, 10)
	r.Stacks[19999].Status, r.Stacks[19999].Plan = StatusFailed, nil
	r.Finish(*at(1))
	got := string(Comment(r))
	if !strings.Contains(got, "| `/stacks/s19999` | ❌ failed |") {
		t.Error("the failed stack, last in run order, was cut from the table")
	}
	if !strings.Contains(got, "| `/stacks/s00000` | ✅ succeeded |") {
		t.Error("the table lists no stack with changes although half the room is left for it")
	}
	if !strings.Contains(got, "not listed in the table") {
		t.Error("no note of the stacks left out")
	}
}

// FuzzSummaryWithin checks the invariants of every cut: the limit holds,
// valid UTF-8 stays valid, and every details block and fence is closed.
func FuzzSummaryWithin(f *testing.F) {
	f.Add("Plan: 1 to add\n```nested```", "/a|b", 5000)
	f.Add(bigPlan(20000), "/ünï", 3000)
	f.Fuzz(func(t *testing.T, excerpt, path string, limit int) {
		if limit < 2*noteReserve || limit > 1<<20 {
			return
		}
		r := bigReport(3, 0)
		r.Stacks[1].Path = path
		for i := range r.Stacks {
			r.Stacks[i].Plan.Excerpt = excerpt
		}
		r.Stacks[2].Status, r.Stacks[2].Error = StatusFailed, excerpt
		got := summaryWithin(r, limit)
		if len(got) > limit {
			t.Fatalf("%d bytes over the limit %d", len(got), limit)
		}
		if utf8.ValidString(excerpt) && utf8.ValidString(path) && !utf8.Valid(got) {
			t.Fatal("invalid UTF-8 from valid input")
		}
		if o, c := bytes.Count(got, []byte("<details")), bytes.Count(got, []byte("</details>")); o != c && !bytes.Contains([]byte(excerpt+path), []byte("details")) {
			t.Fatalf("%d <details> but %d </details>", o, c)
		}
	})
}
