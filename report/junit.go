package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
)

// junitSuites is the JUnit XML document CI systems read as test results
// (GitLab's artifacts:reports:junit, GitHub test-report actions).
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	// The common JUnit XSD allows no skipped attribute on testsuites:
	// only the suite carries it.
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	junitCounts
	Cases []junitCase `xml:"testcase"`
}

// junitCounts are the attributes a suite and the document share.
type junitCounts struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// JUnit renders the run as JUnit XML, one test case per stack: a failed or
// interrupted stack is a failure, a skipped or never started one is
// skipped and, in a drift run, a drifted stack is a failure listing its
// drifted resources, so that a CI test view shows drift as red.
func JUnit(r *Report) ([]byte, error) {
	name := fmt.Sprintf("tmci %s %s", r.Command, r.Environment)
	suite := junitSuite{junitCounts: junitCounts{Name: name, Time: seconds(r.DurationMS)}}
	for i := range r.Stacks {
		s := &r.Stacks[i]
		c := junitCase{Name: s.Path, ClassName: "tmci." + r.Command + "." + r.Environment, Time: seconds(s.DurationMS)}
		switch s.Status {
		case StatusFailed, StatusInterrupted:
			c.Failure = stackFailure(s)
		case StatusSkipped, StatusNotStarted:
			msg := strings.ReplaceAll(s.Status, "_", " ")
			if strings.HasPrefix(s.Error, msg+": ") {
				// The run's own wording: the failed dependencies and,
				// for an invalid one, its problem and place.
				msg = firstLine(s.Error)
			} else if len(s.FailedDependencies) > 0 {
				msg += ": " + strings.Join(s.FailedDependencies, ", ") + " failed"
			} else if s.Error != "" {
				msg += ": " + firstLine(s.Error)
			}
			c.Skipped = &junitMessage{Message: msg}
		case StatusSucceeded:
			if r.Command == "drift" && Drifted(s) {
				c.Failure = driftFailure(s)
			}
		}
		if s.Log != "" {
			c.SystemOut = "log: " + s.Log
		}
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Skipped != nil:
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	k := suite.junitCounts
	doc := junitSuites{Name: k.Name, Tests: k.Tests, Failures: k.Failures, Errors: k.Errors, Time: k.Time, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding junit.xml: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// stackFailure is the failure of a failed or interrupted stack: the
// message names terraform's first error when its log shows one, and the
// text holds tmci's error and the end of the log, where terraform
// explains it (file, line, cause).
func stackFailure(s *StackReport) *junitMessage {
	msg := firstLine(s.Error)
	if e := TerraformError(s.LogTail); e != "" {
		msg = e
	}
	text := s.Error
	if s.LogTail != "" {
		text += "\n\n" + s.LogTail
	}
	return &junitMessage{Message: s.Status + ": " + msg, Type: s.Status, Text: text}
}

func driftFailure(s *StackReport) *junitMessage {
	sum := s.Plan.Summary
	var b strings.Builder
	for _, c := range sum.Drifted {
		fmt.Fprintf(&b, "changed outside terraform: %s (%s)\n", c.Address, c.Action)
	}
	for _, c := range sum.Changes {
		fmt.Fprintf(&b, "plan would %s: %s\n", c.Action, c.Address)
	}
	return &junitMessage{
		Message: fmt.Sprintf("drift: %d changed outside terraform, %d to reconcile", sum.Drift, len(sum.Changes)),
		Type:    "drift",
		Text:    b.String(),
	}
}

// GitLabTerraform renders the run's planned changes as GitLab's terraform
// report (artifacts:reports:terraform), which shows them on the merge
// request. GitLab's format has no replace, so a replace counts as one
// create and one delete, as terraform's own "to add / to destroy" does.
func GitLabTerraform(r *Report) []byte {
	t := r.Totals
	out, _ := json.Marshal(struct { // a struct of ints always encodes
		Create int `json:"create"`
		Update int `json:"update"`
		Delete int `json:"delete"`
	}{t.Create + t.Replace, t.Update, t.Delete + t.Replace})
	return append(out, '\n')
}
