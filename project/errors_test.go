package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

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
		{"fifo", func(dir string) error {
			return syscall.Mkfifo(filepath.Join(dir, "s", "fifo.tm"), 0o644)
		}, []string{"s/fifo.tm:1: Not a regular file"}},
		{"link to a device", func(dir string) error {
			return os.Symlink("/dev/zero", filepath.Join(dir, "s", "evil.tm"))
		}, []string{"s/evil.tm:1: Config file outside the project"}},
		{"link out of the project", func(dir string) error {
			outside := dir + "-outside.tm"
			if err := os.WriteFile(outside, []byte("globals {\n  a = 1\n}\n"), 0o644); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(dir, "s", "out.tm"))
		}, []string{"s/out.tm:1: Config file outside the project"}},
		{"import through a linked directory", func(dir string) error {
			outside := dir + "-outside"
			if err := os.MkdirAll(outside, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(outside, "g.tm"), []byte("globals {\n  a = 1\n}\n"), 0o644); err != nil {
				return err
			}
			if err := os.Symlink(outside, filepath.Join(dir, "lib")); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "s", "i.tm"), []byte("import {\n  source = \"/lib/g.tm\"\n}\n"), 0o644)
		}, []string{"s/i.tm:2: Import outside the project"}},
		{"watch through a linked directory", func(dir string) error {
			if err := os.Symlink("/etc", filepath.Join(dir, "etc")); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "s", "stack.tm"), []byte("stack {\n  watch = [\"/etc/passwd\"]\n}\n"), 0o644)
		}, []string{"s/stack.tm:2: Watch path outside the project"}},
		{"deep nesting", func(dir string) error {
			src := "globals {\n  a = " + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + "\n}\n"
			return os.WriteFile(filepath.Join(dir, "s", "deep.tm"), []byte(src), 0o644)
		}, []string{"s/deep.tm:2: Nesting too deep"}},
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

// TestImportDiamond loads 22 levels of two files that each import both
// files of the next level: 2^22 paths through the imports, which cost 48 s
// and 735 MB when each path was expanded. Each file's globals are now
// computed once, so this takes milliseconds.
func TestImportDiamond(t *testing.T) {
	dir := t.TempDir()
	const levels = 22
	for lvl := range levels {
		for _, side := range []string{"a", "b"} {
			src := fmt.Sprintf("globals {\n  g%d = %q\n  shared = %q\n}\n", lvl, side, fmt.Sprint(lvl, side))
			if lvl+1 < levels {
				src += fmt.Sprintf("import {\n  source = \"/lib/l%d-*.tm\"\n}\n", lvl+1)
			}
			if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "lib", fmt.Sprintf("l%d-%s.tm", lvl, side)), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The files define the same globals, so they cannot be config of
	// their own directory too.
	if err := os.WriteFile(filepath.Join(dir, "lib", ".tmskip"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s", "stack.tm"), []byte("stack {}\nimport {\n  source = \"/lib/l0-*.tm\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var p *Project
	var diags hcl.Diagnostics
	go func() {
		defer close(done)
		p, diags = Load(dir, Options{})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("loading an import diamond did not end in 20 s")
	}
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if n := len(p.dirs["/s"].globals); n != levels+1 {
		t.Errorf("%d global definitions for /s, want %d (each key once)", n, levels+1)
	}
	v, diags := p.Scope(p.Stack("/s")).Globals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// The last import of every level is l<n>-b.tm, and what a file
	// imports after its globals block wins over it, as before.
	if got := v.GetAttr("shared").AsString(); got != "21b" {
		t.Errorf("global.shared = %q, want 21b", got)
	}
	if got := v.GetAttr("g21").AsString(); got != "b" {
		t.Errorf("global.g21 = %q, want b", got)
	}
}

// TestValueTooLarge ends a chain of globals that each double a string,
// and a template that repeats a large global, with an error at the
// global that passes the limit, quickly and without the memory the full
// values would take (2^35 bytes for the chain).
func TestValueTooLarge(t *testing.T) {
	chain := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("stack {}\nglobals {\n  g0 = \"xxxxxxxxxxxxxxxx\"\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "  g%d = \"${global.g%d}${global.g%d}\"\n", i, i-1, i-1)
		}
		b.WriteString(last)
		b.WriteString("}\n")
		return b.String()
	}
	tests := []struct {
		name, src string
		want      string // line: detail start
	}{
		{"doubling chain", chain(35, ""), "19: global.g16 would combine"},
		{"doubling list", "stack {}\nglobals {\n  l0 = [\"xxxxxxxxxxxxxxxx\"]\n" + func() string {
			var b strings.Builder
			for i := 1; i < 35; i++ {
				fmt.Fprintf(&b, "  l%d = concat(global.l%d, global.l%d)\n", i, i-1, i-1)
			}
			return b.String() + "}\n"
		}(), "19: global.l16 would combine"},
		{"repeated by a function", chain(15, "  wide = join(\"\", [for i in range(8) : global.g14])\n"), "18: global.wide evaluates to"},
		{"fan-out", chain(16, "  wide = \""+strings.Repeat("${global.g15}", 4)+"\"\n"), "19: global.wide would combine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "stack.tm"), []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			p, diags := Load(dir, Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			start := time.Now()
			_, diags = p.Scope(p.Stack("/")).Globals()
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("evaluating took %v", d)
			}
			var got []string
			for _, d := range diags {
				if d.Summary == "Value too large" {
					got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, strings.Join(strings.Fields(d.Detail)[:3], " ")))
				}
			}
			if len(got) == 0 || got[0] != tt.want {
				t.Errorf("Value too large errors = %q, want first %q\nall: %v", got, tt.want, diags)
			}
		})
	}
}

// TestLinkedDirectoryIsNoStack commits a symbolic link to a directory
// outside the repository that holds a stack: directories are never
// followed, so it is no stack and its config is never read.
func TestLinkedDirectoryIsNoStack(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "stack.tm"), []byte("stack {}\nglobals {\n  a = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s", "stack.tm"), []byte("stack {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(dir, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got []string
	for _, s := range p.Stacks {
		got = append(got, s.Path)
	}
	if diff := cmp.Diff([]string{"/s"}, got); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
}
