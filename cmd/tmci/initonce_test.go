package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countingTF is a wrapper around the real binary that appends each
// command's subcommand and directory to $PROBE.
const countingTF = `#!/bin/sh
echo "$1 $PWD" >>"$PROBE"
exec "$REAL_TF" "$@"
`

// TestPlanThenApplyInitsOnce plans and then applies the saved plans in
// the same work directory, as one CI job does, with real terraform and
// tofu: apply finds each data directory initialised for the same code
// and backend and does not init again. A changed backend template, or a
// stack's changed code, brings init back for the stacks concerned.
func TestPlanThenApplyInitsOnce(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			t.Parallel()
			bin := findTool(t, tl)
			template := localStateTemplate
			root := toolProject(t, "local", template)
			dir := t.TempDir()
			wrapper := filepath.Join(dir, "tf")
			if err := os.WriteFile(wrapper, []byte(countingTF), 0o755); err != nil {
				t.Fatal(err)
			}
			probe := filepath.Join(dir, "probe")
			env := runEnv(t, wrapper, map[string]string{"PROBE": probe, "REAL_TF": bin})
			// counts returns how often each subcommand ran since the
			// last call, and where init ran.
			counts := func() (map[string]int, []string) {
				t.Helper()
				b, err := os.ReadFile(probe)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				os.Remove(probe)
				n := map[string]int{}
				var inits []string
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					sub, d, _ := strings.Cut(line, " ")
					if sub == "" {
						continue
					}
					n[sub]++
					if sub == "init" {
						rel, _ := filepath.Rel(root, d)
						inits = append(inits, rel)
					}
				}
				return n, inits
			}

			tmciWant(t, 2, env, "-C", root, "plan", "--env=staging", "--detailed-exitcode")
			if n, _ := counts(); n["init"] != 2 || n["plan"] != 2 {
				t.Fatalf("plan ran %v, want init and plan once per stack", n)
			}
			tmciWant(t, 0, env, "-C", root, "apply", "--env=staging", "--from-plans")
			if n, inits := counts(); n["init"] != 0 || n["apply"] != 2 {
				t.Errorf("apply --from-plans ran %v (init in %v), want apply once per stack and no init", n, inits)
			}
			log, err := os.ReadFile(filepath.Join(root, ".tmci", "staging", "logs", "stacks", "app.log"))
			if err != nil || !strings.Contains(string(log), "tmci: init skipped") || !strings.Contains(string(log), "Apply complete! Resources: 1 added") {
				t.Errorf("the apply log lacks the skipped init or the apply (%v):\n%s", err, log)
			}

			// Another state path for every stack: the backend file
			// changes, and both stacks init again.
			tmciFile := filepath.Join(root, "tmci.hcl")
			cfg, err := os.ReadFile(tmciFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tmciFile, []byte(strings.Replace(string(cfg), "/state/", "/state2/", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			tmciWant(t, 2, env, "-C", root, "plan", "--env=staging", "--detailed-exitcode")
			if n, _ := counts(); n["init"] != 2 {
				t.Errorf("after the backend changed, plan ran %v, want init in both stacks", n)
			}
			// One stack's code changes: only that one inits.
			main := filepath.Join(root, "stacks", "db", "main.tf")
			f, err := os.OpenFile(main, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("output \"x\" {\n  value = 1\n}\n"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			tmciWant(t, 2, env, "-C", root, "plan", "--env=staging", "--detailed-exitcode")
			if _, inits := counts(); len(inits) != 1 || inits[0] != filepath.Join("stacks", "db") {
				t.Errorf("after db's code changed, init ran in %v, want stacks/db only", inits)
			}
		})
	}
}
