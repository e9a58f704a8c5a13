package dag

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// renderGraph has every kind of node and edge: after, before, a tag
// query, a parent edge and a stack pulled in for ordering only.
func renderGraph(t *testing.T) *Graph {
	t.Helper()
	g, diags := build(t, []Stack{
		stack("/network"),
		stack("/database", after("/network"), tags("db")),
		stack("/queue", after("../database")),
		stack("/app", after("tag:db", "/queue")),
		stack("/app/worker"),
		stack("/dns", before("/app")),
	}, []string{"/network", "/database", "/app", "/app/worker", "/dns"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func TestRender(t *testing.T) {
	g := renderGraph(t)
	for _, tc := range []struct {
		golden string
		write  func(io.Writer) error
	}{
		{"graph.dot", g.WriteDOT},
		{"graph.mmd", g.WriteMermaid},
		{"graph.json", g.WriteJSON},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", file, diff)
			}
		})
	}
}

func TestRenderEmpty(t *testing.T) {
	g, diags := build(t, []Stack{stack("/a")}, []string{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var dot, mmd, js bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteMermaid(&mmd); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	want := "digraph stacks {\n  node [shape=box];\n}\n" + "flowchart TD\n" +
		"{\n  \"nodes\": [],\n  \"edges\": [],\n  \"order\": [],\n  \"waves\": []\n}\n"
	if diff := cmp.Diff(want, dot.String()+mmd.String()+js.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
