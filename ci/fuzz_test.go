package ci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDetectGitHub reads an arbitrary GitHub event file for each event
// kind: no panic, an error exactly when the file is not a JSON object of
// the expected shape, naming the file, and no empty base candidate.
func FuzzDetectGitHub(f *testing.F) {
	for _, seed := range []string{
		`{"pull_request":{"number":7,"base":{"sha":"` + shaA + `"}}}`,
		`{"before":"` + shaA + `","after":"` + shaB + `"}`,
		`{"before":"` + zero + `"}`, `{"pull_request":null}`, `{"pull_request":{"number":"7"}}`,
		`[]`, `null`, ``, `{"before":1}`, `{"pull_request":{"base":{"sha":""}}}`,
	} {
		f.Add(seed, uint8(0))
	}
	events := []string{"pull_request", "pull_request_target", "push", "workflow_dispatch", ""}
	f.Fuzz(func(t *testing.T, event string, kind uint8) {
		path := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(path, []byte(event), 0o644); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": events[int(kind)%len(events)],
			"GITHUB_SHA": shaB, "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": path,
		}
		c, err := Detect(func(k string) string { return env[k] })
		var ev githubEvent
		wantErr := json.Unmarshal([]byte(event), &ev) != nil
		if (err != nil) != wantErr {
			t.Fatalf("Detect error %v, but decoding gives %v", err, !wantErr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, b := range c.Base {
			if b.SHA == "" || zeroSHA(b.SHA) || b.Source == "" {
				t.Fatalf("empty base candidate %+v from %q", b, event)
			}
		}
	})
}
