package backend

import (
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/project"

	"github.com/tmci/tmci/internal/fixture"
)

// writeArchive writes the files of ar into a new temporary directory.
func writeArchive(t testing.TB, ar *txtar.Archive) string {
	t.Helper()
	dir := t.TempDir()
	if err := fixture.WriteFiles(dir, ar); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadProject writes files (txtar text) and loads them as a project.
func loadProject(t testing.TB, files string) *project.Project {
	t.Helper()
	dir := writeArchive(t, txtar.Parse([]byte(files)))
	p, diags := project.Load(dir, project.Options{})
	if diags.HasErrors() {
		t.Fatalf("loading the project: %v", diags)
	}
	return p
}

// envMap returns a LookupEnv reading from m.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// directives reads "key: value" lines of an archive comment.
func directives(comment []byte) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(string(comment), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(k, " ") {
			out[k] = append(out[k], strings.TrimSpace(v))
		}
	}
	return out
}
