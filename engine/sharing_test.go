package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmci/tmci/tf"
)

// TestPlanRecordMocks: a plan made with mock inputs is recorded so, and
// apply --from-plans refuses it; one made without is applied.
func TestPlanRecordMocks(t *testing.T) {
	dir := t.TempDir()
	plan, record := filepath.Join(dir, "a.tfplan"), filepath.Join(dir, "a.sha256")
	if err := os.WriteFile(plan, []byte("plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := recordPlan(plan, record, nil); err != nil {
		t.Fatal(err)
	}
	if err := checkPlanRecord(plan, record); err != nil {
		t.Errorf("a plan without mocks: %v", err)
	}
	if err := recordPlan(plan, record, []string{"vpc (app/stack.tm:5)", "bad\nname"}); err != nil {
		t.Fatal(err)
	}
	err := checkPlanRecord(plan, record)
	if err == nil || !strings.Contains(err.Error(), "mock values for the inputs vpc (app/stack.tm:5), bad name") {
		t.Errorf("a plan with mocks: %v", err)
	}
	// The record still guards the plan's content.
	if err := os.WriteFile(plan, []byte("other"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkPlanRecord(plan, record); err == nil || !strings.Contains(err.Error(), "not made by tmci plan") {
		t.Errorf("a changed plan: %v", err)
	}
}

func TestMocksAllowed(t *testing.T) {
	for _, tc := range []struct {
		verb       Verb
		mockOnFail bool
		want       bool
	}{{Plan, false, true}, {Drift, false, true}, {Exec, false, false}, {Exec, true, true}, {Apply, true, false}, {Destroy, true, false}} {
		r := &Run{Verb: tc.verb, MockOnFail: tc.mockOnFail}
		if r.mocksAllowed() != tc.want {
			t.Errorf("%s (mock-on-fail %v) may use mocks: %v, want %v", tc.verb, tc.mockOnFail, !tc.want, tc.want)
		}
	}
}

// TestInitialisedWith: reading a source's outputs skips init only when
// its data directory was initialised with exactly the backend file this
// run would write; another environment's or a changed backend, a
// missing file or a symbolic link for terraform's record all re-init.
func TestInitialisedWith(t *testing.T) {
	dir := t.TempDir()
	st := tf.Stack{DataDir: filepath.Join(dir, "data"), BackendFile: filepath.Join(dir, "b.tfbackend")}
	content := []byte("path = \"/state/pr-1/a.tfstate\"\n")
	if initialisedWith(st, content) {
		t.Error("nothing written yet, yet initialised")
	}
	if err := os.WriteFile(st.BackendFile, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if initialisedWith(st, content) {
		t.Error("no terraform.tfstate in the data directory, yet initialised")
	}
	if err := os.MkdirAll(st.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(st.DataDir, "terraform.tfstate")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), record); err != nil {
		t.Fatal(err)
	}
	if initialisedWith(st, content) {
		t.Error("terraform.tfstate is a symbolic link, yet initialised")
	}
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(record, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !initialisedWith(st, content) {
		t.Error("same backend file and a data directory: not initialised")
	}
	if initialisedWith(st, []byte("path = \"/state/pr-2/a.tfstate\"\n")) {
		t.Error("another backend file, yet initialised")
	}
}
