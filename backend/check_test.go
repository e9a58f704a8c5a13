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
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/project"
)

// TestCheckFixtures runs Check on every project in testdata/checks. Each
// archive holds a project; a "# ERROR: Summary" comment on a line says
// that Check must report an error with that summary on that line (several
// summaries are separated by " | "), and no other error may appear. The
// archive comment may hold directives:
//
//	env: NAME=VALUE         an environment variable (repeatable)
//	check-env: NAME         check this environment only (repeatable)
//	backend-config: VALUE   a --backend-config value (repeatable)
//	error: Summary          an error without a source range (repeatable)
//	error-at: F:L: Summary  an error at file F, line L, for files that cannot
//	                        hold comments (JSON)
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
					_, marker, ok := strings.Cut(line, "# ERROR: ")
					if !ok {
						continue
					}
					for _, s := range strings.Split(marker, " | ") {
						want = append(want, fmt.Sprintf("%s:%d: %s", f.Name, i+1, strings.TrimSpace(s)))
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
				got = append(got, fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary))
			}
			sort.Strings(want)
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				for _, d := range rep.Diags {
					t.Log(d)
				}
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			// A fixture without markers is a valid project: prove that the
			// checks ran by requiring at least one checked stack.
			if len(want) == 0 && rep.Stacks == 0 {
				t.Error("no stack was checked")
			}
		})
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
	want := `Stack /stacks/app resolves to the same state (s3 bucket="acme-tfstate" key="stacks/app/terraform.tfstate" workspace_key_prefix="env:") in environments prod and staging: one would overwrite the other's state. Include ${environment.name} in key. The same holds for 1 more stack.`
	if diff := cmp.Diff(want, rep.Diags[0].Detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	_ = os.Stderr
}
