package backend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/project"
)

// warningPrefix marks warnings in TestCheckFixtures' lists.
var warningPrefix = map[bool]string{true: "warning: "}

// TestCheckFixtures runs Check on every project in testdata/checks. Each
// archive holds a project; a "# ERROR: Summary" comment on a line says
// that Check must report an error with that summary on that line (several
// summaries are separated by " | "), "# WARNING: Summary" a warning, and no
// other diagnostic may appear. The
// archive comment may hold directives:
//
//	env: NAME=VALUE         an environment variable (repeatable)
//	check-env: NAME         check this environment only (repeatable)
//	backend-config: VALUE   a --backend-config value (repeatable)
//	error: Summary          an error without a source range (repeatable)
//	error-at: F:L: Summary  an error at file F, line L, for files that cannot
//	                        hold comments (JSON)
//	stack-error: S: Summary an error (marked as above) of stack S's own
//	                        Terraform code, which fails S alone in a run
//	                        (StackDiags); every other error must make the
//	                        whole run unsafe (RunDiags)
func TestCheckFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/checks/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := writeArchive(t, ar)
			dirs := directives(ar.Comment)
			env := map[string]string{}
			for _, kv := range dirs["env"] {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			var want []string
			for _, f := range ar.Files {
				for i, line := range strings.Split(string(f.Data), "\n") {
					for _, kind := range []string{"ERROR", "WARNING"} {
						_, marker, ok := strings.Cut(line, "# "+kind+": ")
						if !ok {
							continue
						}
						for _, s := range strings.Split(marker, " | ") {
							want = append(want, fmt.Sprintf("%s:%d: %s%s", f.Name, i+1, warningPrefix[kind == "WARNING"], strings.TrimSpace(s)))
						}
					}
				}
			}
			for _, s := range dirs["error"] {
				want = append(want, "-: "+s)
			}
			want = append(want, dirs["error-at"]...)
			p, diags := project.Load(dir, project.Options{})
			if diags.HasErrors() {
				t.Fatalf("loading: %v", diags)
			}
			r, diags := NewResolver(p, Options{LookupEnv: envMap(env), BackendConfig: dirs["backend-config"]})
			rep := &Report{Diags: diags}
			if !diags.HasErrors() {
				rep, err = r.Check(context.Background(), CheckOptions{Envs: dirs["check-env"]})
				if err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, d := range rep.Diags {
				if d.Subject == nil {
					got = append(got, "-: "+d.Summary)
					continue
				}
				got = append(got, fmt.Sprintf("%s:%d: %s%s", d.Subject.Filename, d.Subject.Start.Line, warningPrefix[d.Severity == hcl.DiagWarning], d.Summary))
			}
			sort.Strings(want)
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				for _, d := range rep.Diags {
					t.Log(d)
				}
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			checkSplit(t, rep, dirs["stack-error"])
			// A fixture without markers is a valid project: prove that the
			// checks ran by requiring at least one checked stack.
			if len(want) == 0 && rep.Stacks == 0 {
				t.Error("no stack was checked")
			}
		})
	}
}

// checkSplit checks that rep sorts its problems into per-stack and
// run-wide ones: StackDiags holds exactly wantStack ("S: Summary"), and
// every problem of Diags is in RunDiags or in StackDiags, never both.
func checkSplit(t *testing.T, rep *Report, wantStack []string) {
	t.Helper()
	key := func(d *hcl.Diagnostic) string {
		if d.Subject == nil {
			return d.Summary
		}
		return fmt.Sprintf("%s@%s:%d", d.Summary, d.Subject.Filename, d.Subject.Start.Line)
	}
	var gotStack []string
	stackKeys := map[string]bool{}
	for path, diags := range rep.StackDiags {
		for _, d := range diags {
			gotStack = append(gotStack, path+": "+d.Summary)
			stackKeys[key(d)] = true
		}
	}
	sort.Strings(gotStack)
	wantStack = append([]string(nil), wantStack...)
	sort.Strings(wantStack)
	if diff := cmp.Diff(wantStack, gotStack, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("per-stack problems (-want +got):\n%s", diff)
	}
	runKeys := map[string]bool{}
	for _, d := range rep.RunDiags {
		if stackKeys[key(d)] {
			t.Errorf("%s is both run-wide and per-stack", key(d))
		}
		runKeys[key(d)] = true
	}
	for _, d := range rep.Diags {
		if !runKeys[key(d)] && !stackKeys[key(d)] {
			t.Errorf("%s is neither run-wide nor per-stack", key(d))
		}
	}
	for k := range runKeys {
		found := false
		for _, d := range rep.Diags {
			found = found || key(d) == k
		}
		if !found {
			t.Errorf("run-wide %s is not in Diags", k)
		}
	}
}

// TestCheckMessages pins the wording of the isolation diagnostics, which
// users read to fix their templates.
func TestCheckMessages(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/checks/no-environment-name.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeArchive(t, ar)
	p, diags := project.Load(dir, project.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r, _ := NewResolver(p, Options{LookupEnv: envMap(nil)})
	rep, err := r.Check(context.Background(), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diags) == 0 {
		t.Fatal("no diagnostics")
	}
	want := `Stack /stacks/app resolves to the same state (s3 endpoint="aws" bucket="acme-tfstate" key="stacks/app/terraform.tfstate") in environments prod and staging: one would overwrite the other's state. Include ${environment.name} in key. The same holds for 1 more stack.`
	if diff := cmp.Diff(want, rep.Diags[0].Detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	_ = os.Stderr
}
