package backend

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-version"
)

// TestCheckTool checks which releases refuse which attributes, in a
// template and in an environment's override, and that a project without
// them never needs the binary's version.
func TestCheckTool(t *testing.T) {
	p := loadProject(t, `-- tmci.hcl --
backend "s3" {
  bucket = "b"
  key    = "${environment.name}/${terramate.stack.path.relative}"
  endpoints {
    s3 = "http://127.0.0.1:9000"
  }
}
environment "prod" {
  backend {
    use_lockfile = true
  }
}
-- stacks/app/stack.tm --
stack {}
`)
	if !NeedsTool(p) {
		t.Fatal("NeedsTool is false for a template with endpoints")
	}
	for _, c := range []struct {
		name, version string
		want          []string
	}{
		{"terraform", "1.5.7", []string{"tmci.hcl:4: endpoints", "tmci.hcl:10: use_lockfile"}},
		{"terraform", "1.6.0", []string{"tmci.hcl:10: use_lockfile"}},
		{"tofu", "1.6.3", []string{"tmci.hcl:10: use_lockfile"}},
		{"terraform", "1.10.0", nil},
		{"tofu", "1.10.0", nil},
	} {
		var names []string
		for _, d := range CheckTool(p, Tool{Name: c.name, Version: version.Must(version.NewVersion(c.version))}) {
			_, rest, _ := strings.Cut(d.Detail, "does not know ")
			attr, _, _ := strings.Cut(rest, " ")
			names = append(names, fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, attr))
		}
		if diff := cmp.Diff(c.want, names); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.name, c.version, diff)
		}
	}
	plain := loadProject(t, "-- tmci.hcl --\nbackend \"s3\" {\n  bucket = \"b\"\n  key = \"${environment.name}/${terramate.stack.path.relative}\"\n  endpoint = \"http://x\"\n}\nenvironment \"prod\" {}\n")
	if NeedsTool(plain) {
		t.Error("NeedsTool is true for a template every release takes")
	}
}
