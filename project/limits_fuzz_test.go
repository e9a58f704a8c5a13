package project

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmci/tmci/internal/boundedhcl"
)

// FuzzImportGraph loads acyclic import graphs of up to 8 files and checks
// every global against a naive expansion that follows each import path
// separately (exponential, as loading was): what a file yields is
// computed once now, which must not change which definition wins.
func FuzzImportGraph(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x03, 0x05, 0x80, 0x01})
	f.Add([]byte{})
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 2 + len(data)%7
		bit := func(i int) bool { return len(data) > 0 && data[(i/8)%len(data)]&(1<<(i%8)) != 0 }
		edges := make([][]int, n)
		globalsFirst := make([]bool, n)
		b := 0
		for i := range n {
			globalsFirst[i] = bit(b)
			b++
			for j := i + 1; j < n; j++ {
				if bit(b) {
					edges[i] = append(edges[i], j)
				}
				b++
			}
		}
		dir, err := os.MkdirTemp(root, "p")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		write := func(name, src string) {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("lib/.tmskip", "")
		for i := range n {
			globals := fmt.Sprintf("globals {\n  k%d = \"f%d\"\n  u%d = \"f%d\"\n}\n", i%3, i, i, i)
			var imports strings.Builder
			for _, j := range edges[i] {
				fmt.Fprintf(&imports, "import {\n  source = \"/lib/f%d.tm\"\n}\n", j)
			}
			if globalsFirst[i] {
				write(fmt.Sprintf("lib/f%d.tm", i), globals+imports.String())
			} else {
				write(fmt.Sprintf("lib/f%d.tm", i), imports.String()+globals)
			}
		}
		write("s/stack.tm", "stack {}\nimport {\n  source = \"/lib/f0.tm\"\n}\n")

		// The naive expansion: every definition in the order met, the
		// last one of each key wins.
		want := map[string]string{}
		var expand func(i int)
		expand = func(i int) {
			define := func() {
				want[fmt.Sprintf("k%d", i%3)] = fmt.Sprintf("f%d", i)
				want[fmt.Sprintf("u%d", i)] = fmt.Sprintf("f%d", i)
			}
			if globalsFirst[i] {
				define()
			}
			for _, j := range edges[i] {
				expand(j)
			}
			if !globalsFirst[i] {
				define()
			}
		}
		expand(0)

		p, diags := Load(dir, Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := p.Scope(p.Stack("/s")).Globals()
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		got := map[string]string{}
		for k, val := range v.AsValueMap() {
			got[k] = val.AsString()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("globals = %v, want %v (edges %v, globals first %v)", got, want, edges, globalsFirst)
		}
	})
}

// FuzzValueLimit evaluates chains of globals that grow by a fuzzed factor
// per step, through templates, lists and functions: no value over
// boundedhcl.MaxValueSize may come back, and it must end quickly.
func FuzzValueLimit(f *testing.F) {
	f.Add(uint8(35), uint8(2), uint8(0))
	f.Add(uint8(20), uint8(3), uint8(1))
	f.Add(uint8(10), uint8(9), uint8(2))
	f.Add(uint8(5), uint8(200), uint8(3))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, steps, factor, kind uint8) {
		steps = steps%40 + 1
		factor = factor%16 + 1
		var b strings.Builder
		b.WriteString("stack {}\nglobals {\n  g0 = \"xxxxxxxxxxxxxxxx\"\n  l0 = [\"xxxxxxxxxxxxxxxx\"]\n")
		for i := 1; i <= int(steps); i++ {
			prev := fmt.Sprintf("global.g%d", i-1)
			switch kind % 4 {
			case 0:
				fmt.Fprintf(&b, "  g%d = \"%s\"\n", i, strings.Repeat("${"+prev+"}", int(factor)))
			case 1:
				fmt.Fprintf(&b, "  g%d = join(\"\", [for i in range(%d) : %s])\n", i, factor, prev)
			case 2:
				fmt.Fprintf(&b, "  g%d = global.l%d\n  l%d = concat(%s)\n", i, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("global.l%d, ", i-1), int(factor)), ", "))
			case 3:
				fmt.Fprintf(&b, "  g%d = { for i in range(%d) : \"k${i}\" => %s }\n", i, factor, prev)
			}
		}
		b.WriteString("}\n")
		dir, err := os.MkdirTemp(root, "p")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.WriteFile(filepath.Join(dir, "stack.tm"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		p, diags := Load(dir, Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, _ := p.Scope(p.Stack("/")).Globals()
		for k, val := range v.AsValueMap() {
			if size := boundedhcl.ValueSize(val, boundedhcl.MaxValueSize); size > boundedhcl.MaxValueSize {
				t.Errorf("global.%s is %d bytes, over the limit", k, size)
			}
		}
	})
}
