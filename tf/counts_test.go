package tf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCountWriter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		chunks []string
		want   Counts
	}{
		{"apply", []string{"terraform_data.a: Creating...\n", "\nApply complete! Resources: 2 added, 1 changed, 3 destroyed.\n"},
			Counts{Summary: Summary{Create: 2, Update: 1, Delete: 3}, Counted: true}},
		{"split across writes, no final newline", []string{"Apply comp", "lete! Resources: 1 added, 0 ch", "anged, 0 destroyed."},
			Counts{Summary: Summary{Create: 1}, Counted: true}},
		{"imports", []string{"Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.\n"},
			Counts{Summary: Summary{}, Counted: true}},
		{"destroy", []string{"Destroy complete! Resources: 4 destroyed.\n"},
			Counts{Summary: Summary{Delete: 4}, Counted: true}},
		{"no count line: failed early", []string{"Error: Invalid reference\n"}, Counts{}},
		{"after an overlong line", []string{strings.Repeat("x", maxCountLine+1), "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."},
			Counts{Summary: Summary{Create: 1}, Counted: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			counts := &countWriter{}
			for _, chunk := range c.chunks {
				if n, err := counts.Write([]byte(chunk)); err != nil || n != len(chunk) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if diff := cmp.Diff(c.want, counts.result()); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}
