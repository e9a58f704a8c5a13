package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
)

var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// TestErrorFixtures loads each project in testdata/errors and checks that
// its errors are exactly the "# ERROR: Summary" markers, each on the line
// its diagnostic points at. Globals of every stack are evaluated too, as
// tmci check and every run do.
func TestErrorFixtures(t *testing.T) {
	archives, err := filepath.Glob("testdata/errors/*.txtar")
	if err != nil || len(archives) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, archive := range archives {
		name := strings.TrimSuffix(filepath.Base(archive), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(archive)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			if err := fixture.WriteFiles(root, ar); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range ar.Files {
				for i, line := range strings.Split(string(f.Data), "\n") {
					if m := errorMarker.FindStringSubmatch(line); m != nil {
						want = append(want, fmt.Sprintf("%s:%d: %s", f.Name, i+1, m[1]))
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("fixture has no # ERROR: marker")
			}
			p, diags := Load(root, Options{})
			if p != nil {
				for _, s := range p.Stacks {
					_, d := p.Scope(s).Globals()
					diags = appendNew(diags, d)
				}
			}
			got := errorLines(diags)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nall diagnostics:\n%s", diff, diags)
			}
		})
	}
}

func errorLines(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject == nil {
			out = append(out, "?: "+d.Summary)
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary))
		if d.Detail == "" {
			out = append(out, "no detail for "+d.Summary)
		}
	}
	sort.Strings(out)
	return out
}

// TestBadFiles covers inputs a txtar fixture cannot hold: binary data, a
// huge file, a symlink loop and a file of many syntax errors. Each gives
// a bounded number of clear diagnostics, never a panic.
func TestBadFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
		want  []string
	}{
		{"binary", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "s", "bin.tm"), []byte("stack {}\x00\x01\x02"), 0o644)
		}, []string{"s/bin.tm:1: Not a text file"}},
		{"latin1", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "s", "l.tm"), []byte("globals {\n  a = \"caf\xe9\"\n}\n"), 0o644)
		}, []string{"s/l.tm:1: Not a text file"}},
		{"huge", func(dir string) error {
			big := make([]byte, MaxConfigSize+1)
			for i := range big {
				big[i] = '\n'
			}
			return os.WriteFile(filepath.Join(dir, "s", "big.tm.hcl"), big, 0o644)
		}, []string{"s/big.tm.hcl:1: Config file too large"}},
		{"symlink loop", func(dir string) error {
			return os.Symlink("loop.tm", filepath.Join(dir, "s", "loop.tm"))
		}, []string{"s/loop.tm:1: Unreadable config file"}},
		{"directory symlink loop is not followed", func(dir string) error {
			return os.Symlink("..", filepath.Join(dir, "s", "up"))
		}, nil},
		{"many syntax errors", func(dir string) error {
			var b strings.Builder
			for i := 0; i < 50; i++ {
				b.WriteString("a = ]\n")
			}
			return os.WriteFile(filepath.Join(dir, "s", "x.tm"), []byte(b.String()), 0o644)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "s"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "s", "stack.tm"), []byte("stack {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tt.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, diags := Load(dir, Options{})
			got := errorLines(diags)
			if tt.name == "many syntax errors" {
				if len(diags) != maxFileDiags+1 || diags[maxFileDiags].Summary != "Too many errors" {
					t.Errorf("got %d diagnostics, want %d ending in Too many errors", len(diags), maxFileDiags+1)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckGlobals folds a broken global shared by many stacks into one
// diagnostic that counts them.
func TestCheckGlobals(t *testing.T) {
	p := load(t, `
-- globals.tm --
globals {
  a = global.missing
  ok = 1
}
-- s1/stack.tm --
stack {}
-- s2/stack.tm --
stack {}
-- s3/stack.tm --
stack {}
globals {
  b = global.c
  c = global.b
}
`)
	got := errorLines(p.CheckGlobals())
	want := []string{"globals.tm:2: Undefined global", "s3/stack.tm:4: Cycle between globals"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, d := range p.CheckGlobals() {
		if d.Summary == "Undefined global" && !strings.Contains(d.Detail, "The same holds for 2 more stacks.") {
			t.Errorf("detail does not count the other stacks: %s", d.Detail)
		}
	}
}
