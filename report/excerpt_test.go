package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanTextExcerpt(t *testing.T) {
	for _, tc := range []struct{ name, out, want string }{
		{"changes", "terraform_data.a: Refreshing state...\n\nTerraform will perform the following actions:\n  + x\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n\nChanges to Outputs:\n  + id = 1\n\n─────────\n\nSaved the plan to: p\n",
			"Terraform will perform the following actions:\n  + x\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n\nChanges to Outputs:\n  + id = 1"},
		{"drift first", "Note: Objects have changed outside of Terraform\n  ~ y\n\nTerraform used the selected providers...\nPlan: 0 to add, 1 to change, 0 to destroy.",
			"Note: Objects have changed outside of Terraform\n  ~ y\n\nTerraform used the selected providers...\nPlan: 0 to add, 1 to change, 0 to destroy."},
		{"outputs only", "Changes to Outputs:\n  + o = 1\n\nYou can apply this plan\n", "Changes to Outputs:\n  + o = 1\n\nYou can apply this plan"},
		{"no changes", "No changes. Your infrastructure matches the configuration.\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PlanText
			for _, line := range strings.SplitAfter(tc.out, "\n") {
				p.Write([]byte(line))
			}
			if diff := cmp.Diff(tc.want, p.Excerpt()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var p PlanText
	p.Write([]byte("OpenTofu will perform the following actions:\n"))
	p.Write([]byte(strings.Repeat("x", maxPlanText)))
	if got := p.Excerpt(); len(got) > maxPlanText+100 || !strings.HasSuffix(got, "(output cut)") {
		t.Errorf("a huge plan is kept whole or not marked cut: %d bytes", len(got))
	}
}

func TestTailOf(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString(strings.Repeat("x", i) + "\n")
	}
	got := TailOf([]byte(b.String()))
	lines := strings.Split(got, "\n")
	if len(lines) != tailLines || lines[len(lines)-1] != strings.Repeat("x", 99) {
		t.Errorf("tail has %d lines ending %q", len(lines), lines[len(lines)-1])
	}
	long := TailOf([]byte(strings.Repeat("y", 3*tailBytes) + "\nlast\n"))
	if long != "last" {
		t.Errorf("a tail cut mid-line keeps a partial line: %d bytes", len(long))
	}
}
