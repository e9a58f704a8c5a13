package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// brokenProject is a project with four independent stacks, three of them
// broken in their own Terraform code (a syntax error, a backend of
// another type, a second backend block), and /stacks/c after the one
// with the syntax error.
var brokenProject = map[string]string{
	"terramate.tm.hcl": "terramate {\n  config {\n  }\n}\n",
	"tmci.hcl": `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "pr-*" {}
`,
	"stacks/a/stack.tm":   "stack {}\n",
	"stacks/a/main.tf":    "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"a\" {\n  input = \"a\"\n}\n",
	"stacks/b/stack.tm":   "stack {}\n",
	"stacks/b/main.tf":    "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"b\" {\n  input = \n}\n",
	"stacks/c/stack.tm":   "stack {\n  after = [\"/stacks/b\"]\n}\n",
	"stacks/c/main.tf":    "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"c\" {}\n",
	"stacks/d/stack.tm":   "stack {}\n",
	"stacks/d/main.tf":    "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"d\" {\n  input = \"d\"\n}\n",
	"stacks/e/stack.tm":   "stack {}\n",
	"stacks/e/main.tf":    "terraform {\n  backend \"s3\" {}\n}\nresource \"terraform_data\" \"e\" {}\n",
	"stacks/f/stack.tm":   "stack {}\n",
	"stacks/f/backend.tf": "terraform {\n  backend \"local\" {}\n}\n",
	"stacks/f/main.tf":    "resource \"terraform_data\" \"f\" {}\n\nterraform {\n  backend \"local\" {}\n}\n",
}

// brokenWant is each stack's status and what its error must say.
var brokenWant = map[string]struct{ status, err string }{
	"/stacks/a": {"succeeded", ""},
	"/stacks/b": {"failed", "stacks/b/main.tf:5:11: Invalid expression"},
	"/stacks/c": {"skipped", "skipped: /stacks/b failed; /stacks/b: stacks/b/main.tf:5:11: Invalid expression"},
	"/stacks/d": {"succeeded", ""},
	"/stacks/e": {"failed", "stacks/e/main.tf:2:11: Backend type mismatch"},
	"/stacks/f": {"failed", "stacks/f/main.tf:4:11: Duplicate backend block"},
}

// TestRunBrokenStack: with terraform and tofu, a stack whose own code is
// broken fails alone with the problem and its file:line in every report,
// its dependent is skipped naming it, the independent stacks plan and
// apply, and nothing runs in a broken stack, so no state is written for
// it anywhere. A run-wide problem still refuses the run.
func TestRunBrokenStack(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			t.Parallel()
			bin := findTool(t, tl)
			root := t.TempDir()
			writeTree(t, root, brokenProject)
			env := runEnv(t, bin, nil)
			out := tmciWant(t, 1, env, "-C", root, "plan", "--env=pr-1", "--log-mode=quiet", "--parallel=2")
			for _, want := range []string{
				"tmci plan: /stacks/b failed: stacks/b/main.tf:5:11: Invalid expression\n",
				"skipped (/stacks/b failed)",
				"6 stacks: 2 succeeded, 3 failed, 1 skipped; 2 with changes",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "refusing to run") {
				t.Errorf("a broken stack refused the run:\n%s", out)
			}
			dir := filepath.Join(root, ".tmci", "pr-1")
			checkBrokenReport(t, root, dir, tl.name)
			checkBrokenRenderings(t, dir)

			// Apply: the independent stacks get their state; nothing ran
			// in a broken stack, with tmci's backend or terraform's local
			// default.
			tmciWant(t, 1, env, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet")
			for _, s := range []string{"a", "d"} {
				if st := localState(t, root, "pr-1", "/stacks/"+s); !strings.Contains(st, `"terraform_data"`) {
					t.Errorf("state of /stacks/%s holds no resource:\n%s", s, st)
				}
			}
			for _, s := range []string{"b", "c", "e", "f"} {
				for _, p := range []string{
					filepath.Join(root, ".tmci-state", "pr-1", "stacks", s),
					filepath.Join(root, "stacks", s, "terraform.tfstate"),
					filepath.Join(dir, "stacks", s, ".terraform"),
					filepath.Join(dir, "stacks", s, ".tmci.tfbackend"),
				} {
					if _, err := os.Stat(p); !os.IsNotExist(err) {
						t.Errorf("broken or skipped /stacks/%s left %s (%v)", s, p, err)
					}
				}
			}

			// A problem that makes the whole run unsafe still refuses it
			// before anything starts.
			if err := os.RemoveAll(filepath.Join(root, ".tmci")); err != nil {
				t.Fatal(err)
			}
			writeTree(t, root, map[string]string{"tmci.hcl": `backend "local" {
  path = "${env.TMCI_TEST_UNSET}/${environment.name}/${terramate.stack.path.relative}.tfstate"
}
environment "pr-*" {}
`})
			out = tmciWant(t, 1, env, "-C", root, "plan", "--env=pr-1", "--log-mode=quiet")
			if !strings.Contains(out, "Unset environment variable") || !strings.Contains(out, "refusing to run: 1 error") {
				t.Errorf("an unset variable in the template did not refuse the run:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(root, ".tmci")); !os.IsNotExist(err) {
				t.Errorf("a refused run wrote its work directory (%v)", err)
			}
		})
	}
}

// checkBrokenReport checks report.json of the broken project's plan.
func checkBrokenReport(t *testing.T, root, dir, binary string) {
	t.Helper()
	rep := readReport(t, filepath.Join(dir, "report.json"))
	if rep.ExitCode != 1 || rep.Binary == nil || rep.Binary.Name != binary {
		t.Errorf("report: exit %d binary %+v", rep.ExitCode, rep.Binary)
	}
	for _, s := range rep.Stacks {
		want := brokenWant[s.Path]
		if s.Status != want.status || !strings.HasPrefix(s.Error, want.err) {
			t.Errorf("%s: status %s error %q; want %s and an error starting %q", s.Path, s.Status, s.Error, want.status, want.err)
		}
		switch s.Status {
		case "succeeded":
			if s.Plan == nil || s.Plan.Summary.Create != 1 || s.Backend == nil {
				t.Errorf("%s: plan %+v backend %+v", s.Path, s.Plan, s.Backend)
			}
		case "failed":
			// The problem's place, in the structured form too; no state
			// object is claimed for a stack whose backend is unknown.
			if len(s.Diagnostics) == 0 || !strings.HasPrefix(want.err, s.Diagnostics[0].Place()+": "+s.Diagnostics[0].Summary) || s.Backend != nil {
				t.Errorf("%s: diagnostics %+v backend %+v", s.Path, s.Diagnostics, s.Backend)
			}
			log, err := os.ReadFile(filepath.Join(root, s.Log))
			if err != nil || !strings.Contains(string(log), want.err) || strings.Contains(string(log), "Initializing") {
				t.Errorf("%s: log %q (%v) does not hold just the problem", s.Path, log, err)
			}
		case "skipped":
			if diff := cmp.Diff([]string{"/stacks/b"}, s.FailedDependencies); diff != "" || s.StartedAt != nil {
				t.Errorf("%s: failed dependencies (-want +got):\n%s started %v", s.Path, diff, s.StartedAt)
			}
		}
	}
	if len(rep.Stacks) != len(brokenWant) {
		t.Errorf("%d stacks in the report, want %d", len(rep.Stacks), len(brokenWant))
	}
}

// checkBrokenRenderings checks that summary.md, comment.md, junit.xml
// and codequality.json say why each stack failed or was skipped, with the
// file and line.
func checkBrokenRenderings(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"summary.md", "comment.md"} {
		md, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"/stacks/b", "/stacks/e", "/stacks/f"} {
			if !strings.Contains(string(md), brokenWant[s].err) {
				t.Errorf("%s does not say %q", name, brokenWant[s].err)
			}
		}
		if !strings.Contains(string(md), "skipped (/stacks/b failed)") {
			t.Errorf("%s does not name /stacks/c's failed dependency", name)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatal(err)
	}
	for _, c := range junit.Cases {
		want := brokenWant[c.Name]
		var got string
		switch {
		case c.Failure != nil:
			got = strings.TrimPrefix(c.Failure.Message, "failed: ")
		case c.Skipped != nil:
			got = c.Skipped.Message
		}
		if !strings.HasPrefix(got, want.err) || (want.err == "") != (got == "") {
			t.Errorf("junit.xml %s: %q, want %q", c.Name, got, want.err)
		}
	}
	data, err = os.ReadFile(filepath.Join(dir, "codequality.json"))
	if err != nil {
		t.Fatal(err)
	}
	var issues []struct {
		Location struct {
			Path  string `json:"path"`
			Lines struct {
				Begin int `json:"begin"`
			} `json:"lines"`
		} `json:"location"`
	}
	if err := json.Unmarshal(data, &issues); err != nil {
		t.Fatal(err)
	}
	var places []string
	for _, is := range issues {
		places = append(places, fmt.Sprintf("%s:%d", is.Location.Path, is.Location.Lines.Begin))
	}
	sort.Strings(places)
	want := []string{"stacks/b/main.tf:5", "stacks/e/main.tf:2", "stacks/f/main.tf:4"}
	if diff := cmp.Diff(want, places); diff != "" {
		t.Errorf("code quality issues (-want +got):\n%s", diff)
	}
}

// TestBrokenFileNameInert: the name of a broken file comes from the
// repository and may hold a newline followed by a workflow command; on
// GitHub it must reach no output line as a command, in a run or in tmci
// check.
func TestBrokenFileNameInert(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"terramate.tm.hcl", "tmci.hcl", "stacks/a/stack.tm", "stacks/a/main.tf", "stacks/b/stack.tm"} {
		files[name] = brokenProject[name]
	}
	files["stacks/b/x\n::error::pwned\x1b[2J.tf"] = brokenProject["stacks/b/main.tf"]
	writeTree(t, root, files)
	env := map[string]string{"PATH": os.Getenv("PATH"), "GITHUB_ACTIONS": "true"}
	for _, args := range [][]string{
		{"run", "--env=pr-1", "--", "true"},
		{"run", "--env=pr-1", "--log-mode=stream", "--", "true"},
		{"check", "--env=pr-1"},
	} {
		code, stdout, stderr := tmciCode(t.Context(), env, append([]string{"-C", root}, args...)...)
		if code != 1 || !strings.Contains(stdout+stderr, "Invalid expression") {
			t.Errorf("tmci %s: exit %d, want 1 and the problem\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		for _, line := range strings.Split(stdout+stderr, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "::error::pwned") || strings.Contains(line, "\x1b") {
				t.Errorf("tmci %s: the file name acts on GitHub or the terminal: %q", strings.Join(args, " "), line)
			}
		}
	}
}
