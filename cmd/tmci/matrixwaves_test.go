package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tmci matrix --split=waves over examples/acme: every stack in exactly
// one wave, each after the waves of its predecessors.
func TestMatrixSplitWaves(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join(examplesDir, "acme"), dir)
	env := map[string]string{"PATH": os.Getenv("PATH")}
	out := tmciWant(t, 0, env, "-C", dir, "matrix", "--env=prod", "--split=waves", "--max-jobs=2")
	var waves []struct {
		Include []struct {
			Wave   int
			Stacks string
		}
	}
	if err := json.Unmarshal([]byte(out), &waves); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waveOf := map[string]int{}
	for i, w := range waves {
		if len(w.Include) == 0 || len(w.Include) > 2 {
			t.Errorf("wave %d has %d jobs, want 1 to 2", i+1, len(w.Include))
		}
		for _, e := range w.Include {
			if e.Wave != i+1 {
				t.Errorf("an entry of wave %d says wave %d", i+1, e.Wave)
			}
			for _, s := range strings.Split(e.Stacks, "\n") {
				if _, dup := waveOf[s]; dup {
					t.Errorf("%s is in two waves", s)
				}
				waveOf[s] = i + 1
			}
		}
	}
	list := tmciWant(t, 0, env, "-C", dir, "list", "--run-order")
	if n := len(strings.Fields(list)); len(waveOf) != n || len(waves) < 2 {
		t.Fatalf("%d stacks in %d waves, want all %d in several", len(waveOf), len(waves), n)
	}
	// /network/dns runs after /network/vpc (examples/acme orders them).
	if waveOf["/network/dns"] <= waveOf["/network/vpc"] {
		t.Errorf("/network/dns in wave %d, /network/vpc in wave %d", waveOf["/network/dns"], waveOf["/network/vpc"])
	}
	if out := tmciWant(t, 1, env, "-C", dir, "matrix", "--env=prod", "--split=waves", "--max-waves=1"); !strings.Contains(out, "--max-waves is 1") {
		t.Errorf("--max-waves=1: %s", out)
	}
	if out := tmciWant(t, 1, env, "-C", dir, "matrix", "--env=prod", "--split=waves", "--format=gitlab"); !strings.Contains(out, "--split=waves is for --format=github") {
		t.Errorf("--format=gitlab: %s", out)
	}
}
