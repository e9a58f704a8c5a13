package dag

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// stack builds a Stack for tests: opts set tags and references.
func stack(path string, opts ...func(*Stack)) Stack {
	s := Stack{Path: path, Decl: rng(path, 1)}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// rng is a range in the stack file of path, at line.
func rng(path string, line int) hcl.Range {
	file := strings.TrimPrefix(path+"/stack.tm", "/")
	return hcl.Range{Filename: file, Start: hcl.Pos{Line: line, Column: 1}, End: hcl.Pos{Line: line, Column: 10}}
}

func tags(t ...string) func(*Stack) { return func(s *Stack) { s.Tags = t } }
func after(r ...string) func(*Stack) {
	return func(s *Stack) { s.After = Refs{r, rng(s.Path, 2)} }
}
func before(r ...string) func(*Stack) {
	return func(s *Stack) { s.Before = Refs{r, rng(s.Path, 3)} }
}
func wants(r ...string) func(*Stack) {
	return func(s *Stack) { s.Wants = Refs{r, rng(s.Path, 4)} }
}
func wantedBy(r ...string) func(*Stack) {
	return func(s *Stack) { s.WantedBy = Refs{r, rng(s.Path, 5)} }
}

func paths(stacks []Stack) []string {
	var out []string
	for _, s := range stacks {
		out = append(out, s.Path)
	}
	return out
}

// build indexes stacks, which must give no warning, and builds the graph
// of selected (nil: every stack).
func build(t *testing.T, stacks []Stack, selected []string) (*Graph, hcl.Diagnostics) {
	t.Helper()
	x, diags := NewIndex(stacks)
	if len(diags) > 0 {
		t.Fatalf("NewIndex: %v", diags)
	}
	if selected == nil {
		selected = paths(stacks)
	}
	return x.Build(selected)
}

func TestOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stacks   []Stack
		selected []string // nil: all
		want     []string
	}{
		{
			name:   "path order without edges",
			stacks: []Stack{stack("/c"), stack("/a"), stack("/b")},
			want:   []string{"/a", "/b", "/c"},
		},
		{
			name:   "FIFO queue: ready stacks go to the end",
			stacks: []Stack{stack("/a"), stack("/m"), stack("/b", after("/a"))},
			want:   []string{"/a", "/m", "/b"},
		},
		{
			name:   "each step's ready stacks sorted",
			stacks: []Stack{stack("/a", before("/z", "/y")), stack("/b"), stack("/y"), stack("/z")},
			want:   []string{"/a", "/b", "/y", "/z"},
		},
		{
			name:     "transitive through an unselected stack",
			stacks:   []Stack{stack("/z"), stack("/m", after("/z")), stack("/a", after("/m"))},
			selected: []string{"/z", "/a"},
			want:     []string{"/z", "/a"},
		},
		{
			name: "a stack that only references selected ones is not pulled in",
			stacks: []Stack{
				stack("/za"), stack("/cc"),
				stack("/mb", after("/za"), before("/cc")),
			},
			selected: []string{"/za", "/cc"},
			want:     []string{"/cc", "/za"},
		},
		{
			name:   "before",
			stacks: []Stack{stack("/a"), stack("/b", before("/a"))},
			want:   []string{"/b", "/a"},
		},
		{
			name:   "relative paths resolve from the stack",
			stacks: []Stack{stack("/app/web", after("../db")), stack("/app/db", after("./../../net")), stack("/net")},
			want:   []string{"/net", "/app/db", "/app/web"},
		},
		{
			name: "a directory selects every stack below it",
			stacks: []Stack{
				stack("/app", after("/infra")),
				stack("/infra/net"), stack("/infra/dns/zone"), stack("/infra-x"),
			},
			want: []string{"/infra-x", "/infra/dns/zone", "/infra/net", "/app"},
		},
		{
			name:   "a stack path selects its nested stacks too",
			stacks: []Stack{stack("/0", after("/a")), stack("/a"), stack("/a/b"), stack("/a-b")},
			want:   []string{"/a", "/a-b", "/a/b", "/0"},
		},
		{
			name:   "parent before nested child",
			stacks: []Stack{stack("/a", after("/c")), stack("/a/b"), stack("/c")},
			want:   []string{"/c", "/a", "/a/b"},
		},
		{
			name:     "parent edges only among selected stacks",
			stacks:   []Stack{stack("/a", after("/c")), stack("/a/b"), stack("/c")},
			selected: []string{"/a/b", "/c"},
			want:     []string{"/a/b", "/c"},
		},
		{
			name: "parent edge pulls in the nested stack's subtree",
			stacks: []Stack{
				stack("/p"), stack("/p/c"), stack("/p/c/u", before("/x")), stack("/x"),
			},
			selected: []string{"/p", "/p/c", "/x"},
			want:     []string{"/p", "/p/c", "/x"},
		},
		{
			name: "unselected nested stack of an unselected child is not pulled in",
			stacks: []Stack{
				stack("/p"), stack("/p/c"), stack("/p/c/u", before("/x")), stack("/x"),
			},
			selected: []string{"/p", "/x"},
			want:     []string{"/p", "/x"},
		},
		{
			name: "tag query selects each match's subtree",
			stacks: []Stack{
				stack("/app", after("tag:db")),
				stack("/z-db", tags("db")), stack("/z-db/replica"),
				stack("/other"),
			},
			want: []string{"/other", "/z-db", "/z-db/replica", "/app"},
		},
		{
			name: "tag query: ':' is AND, ',' is OR",
			stacks: []Stack{
				stack("/a", before("tag:x:y,z")),
				stack("/0-xy", tags("x", "y")), stack("/1-z", tags("z")), stack("/b-x", tags("x")),
			},
			want: []string{"/a", "/b-x", "/0-xy", "/1-z"},
		},
		{
			name:     "pulled-in stacks are followed recursively",
			stacks:   []Stack{stack("/a", after("/q")), stack("/q", after("/r")), stack("/r", after("/b")), stack("/b")},
			selected: []string{"/a", "/b"},
			want:     []string{"/b", "/a"},
		},
		{
			name:     "references of unselected unreferenced stacks are ignored",
			stacks:   []Stack{stack("/a"), stack("/b"), stack("/q", after("/b"), before("/a"))},
			selected: []string{"/a", "/b"},
			want:     []string{"/a", "/b"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, diags := build(t, tc.stacks, tc.selected)
			if diags.HasErrors() {
				t.Fatalf("Build: %v", diags)
			}
			if diff := cmp.Diff(tc.want, g.Order()); diff != "" {
				t.Errorf("Order (-want +got):\n%s", diff)
			}
			rev := g.Reverse()
			for i, p := range tc.want {
				if rev[len(rev)-1-i] != p {
					t.Errorf("Reverse = %v, want the order reversed", rev)
					break
				}
			}
		})
	}
}

func TestCycles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stacks   []Stack
		selected []string
		want     []string // diagnostic details
	}{
		{
			name:   "two stacks",
			stacks: []Stack{stack("/a", after("/b")), stack("/b", after("/a"))},
			want: []string{`These stacks cannot be ordered: /a -> /b -> /a
  /a -> /b: /b has after = "/a" (/b/stack.tm:2)
  /b -> /a: /a has after = "/b" (/a/stack.tm:2)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name:   "a tag that selects the stack itself",
			stacks: []Stack{stack("/a", tags("x"), after("tag:x"))},
			want: []string{`These stacks cannot be ordered: /a -> /a
  /a -> /a: /a has after = "tag:x", which selects itself (/a/stack.tm:2)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name:   "the parent directory selects the stack itself",
			stacks: []Stack{stack("/a/b", before(".."))},
			want: []string{`These stacks cannot be ordered: /a/b -> /a/b
  /a/b -> /a/b: /a/b has before = "..", which selects itself (/a/b/stack.tm:3)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name:   "parent edge in a cycle",
			stacks: []Stack{stack("/a"), stack("/a/b", before("/a"))},
			want: []string{`These stacks cannot be ordered: /a -> /a/b -> /a
  /a -> /a/b: /a/b is nested in /a (/a/b/stack.tm:1)
  /a/b -> /a: /a/b has before = "/a" (/a/b/stack.tm:3)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name:   "root stack and a stack that runs before it",
			stacks: []Stack{stack("/"), stack("/a", before("/")), stack("/b")},
			want: []string{`These stacks cannot be ordered: / -> /a -> /
  / -> /a: /a is nested in / (/a/stack.tm:1)
  /a -> /: /a has before = "/" (/a/stack.tm:3)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name: "a cycle through pulled-in stacks, three long, with a tail",
			stacks: []Stack{
				stack("/a", after("/q")),
				stack("/q", after("/r")), stack("/r", after("/s")), stack("/s", after("/q")),
			},
			selected: []string{"/a"},
			want: []string{`These stacks cannot be ordered: /q -> /s -> /r -> /q
  /q -> /s: /s has after = "/q" (/s/stack.tm:2)
  /s -> /r: /r has after = "/s" (/r/stack.tm:2)
  /r -> /q: /q has after = "/r" (/q/stack.tm:2)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
		{
			name: "two separate cycles",
			stacks: []Stack{
				stack("/a", after("/b")), stack("/b", after("/a")),
				stack("/c", before("/d")), stack("/d", before("/c")),
			},
			want: []string{`These stacks cannot be ordered: /a -> /b -> /a
  /a -> /b: /b has after = "/a" (/b/stack.tm:2)
  /b -> /a: /a has after = "/b" (/a/stack.tm:2)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`,
				`These stacks cannot be ordered: /c -> /d -> /c
  /c -> /d: /c has before = "/d" (/c/stack.tm:3)
  /d -> /c: /d has before = "/c" (/d/stack.tm:3)
An arrow points from a stack to one that must run after it. Remove one of these entries to break the cycle.`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, diags := build(t, tc.stacks, tc.selected)
			if g != nil {
				t.Fatalf("Build returned a graph with order %v, want a cycle", g.Order())
			}
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError || d.Summary != "Cycle in stack order" || d.Subject == nil {
					t.Errorf("diagnostic %q (severity %v, subject %v): want an error with a subject", d.Summary, d.Severity, d.Subject)
				}
				got = append(got, d.Detail)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// walkGraph: /net -> /db -> (/hidden, unselected) -> /app -> /app/worker,
// /dns -> /app, and /lone on its own.
func walkGraph(t *testing.T) *Graph {
	t.Helper()
	stacks := []Stack{
		stack("/net"),
		stack("/dns"),
		stack("/db", after("/net")),
		stack("/hidden", after("/db")),
		stack("/app", after("/hidden", "/dns")),
		stack("/app/worker"),
		stack("/lone"),
	}
	g, diags := build(t, stacks, []string{"/net", "/dns", "/db", "/app", "/app/worker", "/lone"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func TestWaves(t *testing.T) {
	g := walkGraph(t)
	want := [][]string{{"/dns", "/lone", "/net"}, {"/db"}, {"/app"}, {"/app/worker"}}
	if diff := cmp.Diff(want, g.Waves()); diff != "" {
		t.Errorf("Waves (-want +got):\n%s", diff)
	}
	wantRev := [][]string{{"/app/worker", "/lone"}, {"/app"}, {"/db", "/dns"}, {"/net"}}
	if diff := cmp.Diff(wantRev, g.ReverseWaves()); diff != "" {
		t.Errorf("ReverseWaves (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/db", "/dns"}, g.Predecessors("/app")); diff != "" {
		t.Errorf("Predecessors(/app) through unselected /hidden (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/app"}, g.Successors("/db")); diff != "" {
		t.Errorf("Successors(/db) (-want +got):\n%s", diff)
	}
	if got := g.Predecessors("/hidden"); got != nil {
		t.Errorf("Predecessors of an unselected stack = %v, want nil", got)
	}
	wantNodes := []Node{
		{"/app", true}, {"/app/worker", true}, {"/db", true}, {"/dns", true},
		{"/hidden", false}, {"/lone", true}, {"/net", true},
	}
	if diff := cmp.Diff(wantNodes, g.Nodes()); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
}

func TestEdges(t *testing.T) {
	x, _ := NewIndex([]Stack{
		stack("/a", before("/b")),
		stack("/b", after("/a")),
		stack("/b/c"),
		stack("/d", after("tag:t")),
		stack("/e", tags("t")),
	})
	g, diags := x.Build([]string{"/a", "/b", "/b/c", "/d"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := []Edge{
		{From: "/a", To: "/b", Origin: OriginBefore, DeclaredBy: "/a", Entry: "/b", Range: rng("/a", 3)},
		{From: "/a", To: "/b/c", Origin: OriginBefore, DeclaredBy: "/a", Entry: "/b", Range: rng("/a", 3)},
		{From: "/b", To: "/b/c", Origin: OriginParent, DeclaredBy: "/b/c", Range: rng("/b/c", 1)},
		{From: "/e", To: "/d", Origin: OriginAfter, DeclaredBy: "/d", Entry: "tag:t", Range: rng("/d", 2)},
	}
	if diff := cmp.Diff(want, g.Edges()); diff != "" {
		t.Errorf("Edges (-want +got):\n%s", diff)
	}
}

func TestUnknownStack(t *testing.T) {
	x, _ := NewIndex([]Stack{stack("/a")})
	g, diags := x.Build([]string{"/nope"})
	if g != nil || !diags.HasErrors() || !strings.Contains(diags[0].Detail, "/nope") {
		t.Errorf("Build(/nope) = %v, %v; want an error naming /nope", g, diags)
	}
}
