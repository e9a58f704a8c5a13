package report

import (
	"encoding/xml"
	"strings"
	"testing"
)

// The common JUnit XSD (the schema Jenkins and GitLab follow) allows
// name, time, tests, failures, disabled and errors on <testsuites>, and
// skipped only on <testsuite>.
func TestJUnitTestsuitesAttributes(t *testing.T) {
	out, err := JUnit(sampleReport("plan"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Attrs  []xml.Attr `xml:",any,attr"`
		Suites []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"name": true, "time": true, "tests": true, "failures": true, "disabled": true, "errors": true}
	for _, a := range doc.Attrs {
		if !allowed[a.Name.Local] {
			t.Errorf("<testsuites %s=...> is not in the JUnit XSD", a.Name.Local)
		}
	}
	found := false
	for _, a := range doc.Suites[0].Attrs {
		found = found || a.Name.Local == "skipped"
	}
	if !found {
		t.Error("<testsuite> lost its skipped count")
	}
}

// A failed stack's failure carries terraform's error, not only tmci's
// "exit status 1".
func TestJUnitFailureCarriesTerraformsError(t *testing.T) {
	r := &Report{Command: "plan", Environment: "prod", StartedAt: *at(0)}
	r.Stacks = []StackReport{{Path: "/app", Status: StatusFailed, Error: "terraform plan: exit status 1",
		LogTail: "Planning...\n╷\n│ Error: Reference to undeclared resource\n│ \n│   on main.tf line 17, in resource \"terraform_data\" \"x\":\n│   17:   input = foo.bar\n╵"}}
	r.Finish(*at(1))
	out, err := JUnit(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suite struct {
			Case struct {
				Failure struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	f := doc.Suite.Case.Failure
	if f.Message != "failed: Reference to undeclared resource" {
		t.Errorf("failure message %q", f.Message)
	}
	if !strings.Contains(f.Text, "on main.tf line 17") || !strings.Contains(f.Text, "exit status 1") {
		t.Errorf("failure text:\n%s", f.Text)
	}
}
