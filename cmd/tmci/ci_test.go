package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// volatile matches what differs between two runs of the same CI
// simulation: durations, times, section timestamps and random tokens.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\| (\d+m)?\d+(\.\d+)?s \|`), "| D |"},
	{regexp.MustCompile(`time="[0-9.]+"`), `time="T"`},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`), "DATE"},
	{regexp.MustCompile(`section_(start|end):\d+:`), "section_$1:TS:"},
	{regexp.MustCompile(`[0-9a-f]{32}`), "TOKEN"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UUID"},
}

// TestCIScripts runs the simulated CI runs in testdata/ci: scripts that
// set GitHub's or GitLab's variables and event payloads, run tmci with a
// real terraform on the stacks they hold, and compare every file tmci
// writes with golden copies. Besides the commands of TestScripts they have
//
//	norm FILE...   rewrite FILE with durations, times, tokens and $WORK
//	               replaced by placeholders, so that cmp can compare it
func TestCIScripts(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tool{"terraform", "v1.5.7"})
	p := scriptParams(t, "testdata/ci")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		env.Setenv("TMCI_TF_BIN", bin)
		env.Setenv("CHECKPOINT_DISABLE", "1")
		return setup(env)
	}
	p.Cmds["norm"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: norm FILE...")
		}
		for _, name := range args {
			path := ts.MkAbs(name)
			data, err := os.ReadFile(path)
			ts.Check(err)
			text := strings.ReplaceAll(string(data), ts.Getenv("WORK"), "$WORK")
			for _, v := range volatile {
				text = v.re.ReplaceAllString(text, v.with)
			}
			ts.Check(os.WriteFile(path, []byte(text), 0o644))
		}
	}
	testscript.Run(t, p)
}
