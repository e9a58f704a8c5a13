package tf_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

// TestRunnerRetriesPerAttempt: Apply runs again after the pg backend's
// state-creation race, the retry is said in the output, the per-attempt
// writer sees only the attempt that counted, and the counts come from it.
// The binary is a stand-in script, named so: the race itself cannot be
// produced on demand with real terraform.
func TestRunnerRetriesPerAttempt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-terraform")
	script := `#!/bin/sh
n=$(cat "$FAKE_COUNT" 2>/dev/null || echo 0)
echo $((n+1)) > "$FAKE_COUNT"
if [ "$n" = 0 ]; then echo 'Error: Already locked for workspace creation'; exit 1; fi
echo 'Apply complete! Resources: 1 added, 0 changed, 2 destroyed.'
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &tf.Runner{Bin: fake, Env: append(os.Environ(), "FAKE_COUNT="+filepath.Join(dir, "count"))}
	var out bytes.Buffer
	var attempts []*bytes.Buffer
	s := tf.Stack{Dir: dir, Out: &out, Attempt: func() io.Writer {
		attempts = append(attempts, &bytes.Buffer{})
		return attempts[len(attempts)-1]
	}}
	counts, err := r.Apply(t.Context(), s, "")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if diff := cmp.Diff(tf.Counts{Summary: tf.Summary{Create: 1, Delete: 2}, Counted: true}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempts, want 2", len(attempts))
	}
	if got := attempts[1].String(); strings.Contains(got, "Already locked") || !strings.Contains(got, "Apply complete!") {
		t.Errorf("second attempt's writer got %q", got)
	}
	for _, want := range []string{"Already locked for workspace creation", "another stack was creating its state", "Apply complete!"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
