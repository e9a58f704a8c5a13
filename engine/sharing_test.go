package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
