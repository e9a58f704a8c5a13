package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
)

// TestExperiments checks the blocks Terramate 0.17.2 knows only as
// experiments: refused unless the root's terramate.config.experiments
// lists theirs, and then input, output and sharing_backend take one label.
func TestExperiments(t *testing.T) {
	tests := []struct {
		name, experiments, block string
		want                     []string
	}{
		{"script off", ``, `script "x" {}`, []string{"s/b.tm:1: Experimental block not enabled"}},
		{"script on", `experiments = ["scripts"]`, `script "x" {}`, nil},
		{"input of another experiment", `experiments = ["scripts"]`, `input "x" {}`, []string{"s/b.tm:1: Experimental block not enabled"}},
		{"output on", `experiments = ["outputs-sharing"]`, "output \"x\" {\n  backend = \"b\"\n  value = 1\n}", nil},
		{"output without backend or value", `experiments = ["outputs-sharing"]`, `output "x" {}`, []string{"s/b.tm:1: Missing attribute", "s/b.tm:1: Missing attribute"}},
		{"input without a label", `experiments = ["outputs-sharing"]`, `input {}`, []string{"s/b.tm:1: Invalid input block"}},
		{"backend with two labels", `experiments = ["outputs-sharing"]`, `sharing_backend "a" "b" {}`, []string{"s/b.tm:1: Invalid sharing_backend block"}},
		{"not a list", `experiments = "scripts"`, `script "x" {}`, []string{"s/b.tm:1: Experimental block not enabled", "terramate.tm.hcl:3: Invalid experiments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			src := "-- terramate.tm.hcl --\nterramate {\n  config {\n    " + tt.experiments + "\n  }\n}\n" +
				"-- s/stack.tm --\nstack {}\n-- s/b.tm --\n" + tt.block + "\n"
			if err := fixture.WriteFiles(root, txtar.Parse([]byte(src))); err != nil {
				t.Fatal(err)
			}
			_, diags := Load(root, Options{})
			if diff := cmp.Diff(tt.want, errorLines(diags)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
