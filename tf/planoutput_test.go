package tf_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

// TestSummaryFromOutputOracle plans every kind of change with the real
// binaries and checks that the count read from the human-readable output
// equals the one show -json gives.
func TestSummaryFromOutputOracle(t *testing.T) {
	t.Parallel()
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			r := newRunner(t, requireBinary(t, binName))
			r.NoColor = true
			dir := t.TempDir()
			s := tf.Stack{Dir: dir, DataDir: filepath.Join(dir, ".data")}
			var out bytes.Buffer
			s.Out = &out
			writeFiles(t, dir, map[string]string{"main.tf": `
variable "v" {
  default = "1"
}
resource "terraform_data" "same" {}
resource "terraform_data" "update" {
  input = var.v
}
resource "terraform_data" "replace" {
  triggers_replace = [var.v]
}
resource "terraform_data" "delete" {}
resource "terraform_data" "each" {
  for_each = toset(["a b", "c"])
  input    = each.key
}
output "o" {
  value = var.v
}
`})
			if err := r.Init(t.Context(), s); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if _, err := r.Apply(t.Context(), s, ""); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			data, _ := os.ReadFile(filepath.Join(dir, "main.tf"))
			changed := strings.Replace(string(data), `default = "1"`, `default = "2"`, 1)
			changed = strings.Replace(changed, `resource "terraform_data" "delete" {}`, `resource "terraform_data" "create" {}`, 1)
			changed = strings.Replace(changed, `"a b", "c"`, `"a b", "d"`, 1)
			writeFiles(t, dir, map[string]string{"main.tf": changed})
			for _, c := range []struct {
				name  string
				extra []string
			}{
				{"changes", nil},
				{"replace as requested", []string{"-replace=terraform_data.same"}},
				{"destroy", []string{"-destroy"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					out.Reset()
					plan := filepath.Join(dir, "plan.tfplan")
					if _, err := r.Plan(t.Context(), s, plan, c.extra...); err != nil {
						t.Fatalf("%v\n%s", err, out.String())
					}
					got, ok := tf.SummaryFromOutput(out.Bytes())
					if !ok {
						t.Fatalf("the output was not understood:\n%s", out.String())
					}
					want, err := r.Show(t.Context(), s, plan)
					if err != nil {
						t.Fatal(err)
					}
					byAddr := func(a, b tf.Change) int { return strings.Compare(a.Address, b.Address) }
					slices.SortFunc(got.Changes, byAddr)
					slices.SortFunc(want.Changes, byAddr)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("summary from the output (-show -json +output):\n%s\n%s", diff, out.String())
					}
					if want.Create+want.Update+want.Delete+want.Replace == 0 {
						t.Errorf("the plan changes nothing: the case proves nothing")
					}
				})
			}
		})
	}
}

func TestSummaryFromOutput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		out  string
		want tf.Summary
		ok   bool
	}{
		{"outputs only", "Changes to Outputs:\n  ~ o = \"1\" -> \"2\"\n\nYou can apply this plan to save these new output values\n",
			tf.Summary{OutputChanges: true}, true},
		{"moved and deposed", "  # a.b has moved to a.c\n    resource \"a\" \"c\" {}\n  # a.d (deposed object 0123abcd) will be destroyed\n  # (left over from a partially-failed replacement)\n  # a.e (moved from a.f) will be updated in-place\nPlan: 0 to add, 1 to change, 1 to destroy.\n",
			tf.Summary{Update: 1, Delete: 1, Changes: []tf.Change{{Address: "a.d (deposed 0123abcd)", Action: tf.Delete}, {Address: "a.e", Action: tf.Update}}}, true},
		{"counts do not add up", "  # a.b will be created\nPlan: 2 to add, 0 to change, 0 to destroy.\n", tf.Summary{}, false},
		{"unknown header", "  # a.b will be forgotten\nPlan: 0 to add, 0 to change, 0 to destroy, 1 to forget.\n", tf.Summary{}, false},
		{"imports", "  # a.b will be imported\nPlan: 1 to import, 0 to add, 0 to change, 0 to destroy.\n", tf.Summary{}, false},
		{"drift", "Note: Objects have changed outside of Terraform\n\nTerraform detected the following changes made outside of Terraform since the last \"terraform apply\":\n\n  # a.b has changed\nPlan: 0 to add, 0 to change, 0 to destroy.\n", tf.Summary{}, false},
		{"colored", "  # \x1b[1ma.b\x1b[0m will be created\nPlan: 1 to add, 0 to change, 0 to destroy.\n", tf.Summary{}, false},
		{"no plan", "Error: something\n", tf.Summary{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := tf.SummaryFromOutput([]byte(c.out))
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}
