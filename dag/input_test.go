package dag

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// reads adds input blocks reading the outputs of sources, one per line
// from 10.
func reads(sources ...string) func(*Stack) {
	return func(s *Stack) {
		for i, src := range sources {
			s.Inputs = append(s.Inputs, InputRef{Source: src, Name: "in" + src[1:], Range: rng(s.Path, 10+i)})
		}
	}
}

func TestInputEdges(t *testing.T) {
	// Alphabetically /app runs first; its inputs put /net and /db
	// before it, and /db's input /net before /db.
	stacks := []Stack{stack("/app", reads("/net", "/db")), stack("/db", reads("/net")), stack("/net")}
	g, diags := build(t, stacks, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"/net", "/db", "/app"}, g.Order()); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	want := []Edge{
		{From: "/db", To: "/app", Origin: OriginInput, DeclaredBy: "/app", Entry: "indb", Range: rng("/app", 11)},
		{From: "/net", To: "/app", Origin: OriginInput, DeclaredBy: "/app", Entry: "innet", Range: rng("/app", 10)},
		{From: "/net", To: "/db", Origin: OriginInput, DeclaredBy: "/db", Entry: "innet", Range: rng("/db", 10)},
	}
	if diff := cmp.Diff(want, g.Edges()); diff != "" {
		t.Errorf("Edges (-want +got):\n%s", diff)
	}
	// A source outside the selection orders without running.
	g, diags = build(t, stacks, []string{"/app", "/net"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"/net"}, g.Predecessors("/app")); diff != "" {
		t.Errorf("Predecessors(/app) (-want +got):\n%s", diff)
	}
	// A source's consumers are its dependents.
	x, _ := NewIndex(stacks)
	sel, err := x.Select([]string{"/db"}, SelectOptions{WithDependents: true})
	if err != nil || !cmp.Equal(sel, []string{"/app", "/db"}) {
		t.Errorf("Select(/db, with dependents) = %v, %v", sel, err)
	}
}

func TestInputCycleAndUnknown(t *testing.T) {
	_, diags := build(t, []Stack{stack("/a", reads("/b")), stack("/b", reads("/a"))}, nil)
	want := `These stacks cannot be ordered: /a -> /b -> /a
  /a -> /b: /b reads input ina from /a (/b/stack.tm:10)
  /b -> /a: /a reads input inb from /b (/a/stack.tm:10)`
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Detail, want) {
		t.Errorf("cycle: %v\nwant a detail starting with\n%s", diags, want)
	}
	_, diags = NewIndex([]Stack{stack("/a", reads("/gone"))})
	if len(diags) != 1 || diags[0].Summary != "Unknown source stack" || diags[0].Subject.Start.Line != 10 {
		t.Errorf("unknown source: %v", diags)
	}
}
