package tf_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tmci/tmci/tf"
)

// closingLine is the "Plan:" line, matched as loosely as a reader would.
var closingLine = regexp.MustCompile(`(?m)^Plan: (?:\d+ to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.\r?$`)

// FuzzSummaryFromOutput counts arbitrary plan output: no panic, and what
// it accepts adds up: every counted change is listed, nothing is drift,
// and the counts are those of the last "Plan:" line, if any.
func FuzzSummaryFromOutput(f *testing.F) {
	for _, seed := range []string{
		"Terraform will perform the following actions:\n\n  # terraform_data.a will be created\n  + resource \"terraform_data\" \"a\" {\n      + id = (known after apply)\n    }\n\n  # terraform_data.b must be replaced\n-/+ resource \"terraform_data\" \"b\" {}\n\nPlan: 2 to add, 0 to change, 1 to destroy.\n",
		"Changes to Outputs:\n  ~ o = \"1\" -> \"2\"\n",
		"  # a.b has moved to a.c\n  # a.d (deposed object 0123abcd) will be destroyed\n  # (left over)\n  # a.e (moved from a.f) will be updated in-place\nPlan: 0 to add, 1 to change, 1 to destroy.\n",
		"  # a.b will be imported\nPlan: 1 to import, 0 to add, 0 to change, 0 to destroy.\n",
		"  # a[\"k y\"] will be destroyed\r\nPlan: 0 to add, 0 to change, 1 to destroy.\r\n",
		"No changes. Your infrastructure matches the configuration.\n",
		"\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 0 to destroy.\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		tm := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input of %d bytes", len(out))) })
		s, ok := tf.SummaryFromOutput(out)
		tm.Stop()
		if !ok {
			return
		}
		if n := s.Create + s.Update + s.Delete + s.Replace; n != len(s.Changes) {
			t.Fatalf("counted %d changes but listed %d", n, len(s.Changes))
		}
		if s.Drift != 0 || len(s.Drifted) != 0 || s.Forget != 0 {
			t.Fatalf("drift or forget from plain output: %+v", s)
		}
		m := closingLine.FindAllStringSubmatch(string(out), -1)
		if len(m) == 0 {
			if len(s.Changes) != 0 {
				t.Fatalf("changes without a Plan: line: %+v", s)
			}
			return
		}
		last := m[len(m)-1]
		got := fmt.Sprintf("%d %d %d", s.Create+s.Replace, s.Update, s.Delete+s.Replace)
		if want := strings.Join(last[1:], " "); got != want {
			t.Fatalf("counts %s, but the plan line says %s", got, want)
		}
	})
}
