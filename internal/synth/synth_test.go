package synth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	o := Options{Stacks: 250, After: 2, TMCI: true, Terraform: true}
	if err := Write(dir, o); err != nil {
		t.Fatal(err)
	}
	stacks, err := filepath.Glob(filepath.Join(dir, "area*", "group*", "stack*", "stack.tm"))
	if err != nil || len(stacks) != 250 {
		t.Fatalf("%d stacks written, want 250 (%v)", len(stacks), err)
	}
	if o.StackPath(0) != "/area00/group00/stack0000" || o.StackPath(249) != "/area08/group03/stack0249" {
		t.Errorf("paths: %s, %s", o.StackPath(0), o.StackPath(249))
	}
	src, err := os.ReadFile(filepath.Join(dir, "area00/group00/stack0002/stack.tm"))
	if err != nil {
		t.Fatal(err)
	}
	want := "stack {\n  id   = \"s00002\"\n  tags = [\"t2\", \"all\"]\n  after = [\"../stack0001\", \"../stack0000\"]\n}\n"
	if string(src) != want {
		t.Errorf("stack0002/stack.tm:\n%s\nwant:\n%s", src, want)
	}
	for _, f := range []string{"tmci.hcl", "area03/globals.tm", "area03/group04/globals.tm", "area00/group00/stack0000/main.tf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestGraph(t *testing.T) {
	g := Graph(1000, 5)
	index := map[string]int{}
	edges := 0
	for i, s := range g {
		index[s.Path] = i
		for _, a := range s.After {
			j, ok := index[a]
			if !ok || j >= i {
				t.Fatalf("%s is after %s, which is not an earlier stack", s.Path, a)
			}
		}
		edges += len(s.After)
	}
	if len(g) != 1000 || edges != (1000-5)*5 {
		t.Errorf("%d stacks, %d edges; want 1000 and %d", len(g), edges, (1000-5)*5)
	}
	dir := t.TempDir()
	if err := WriteGraph(dir, 100, 5); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "svc50", "stack00050", "stack.tm"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"tag:base"]`) || !strings.Contains(string(src), `tags = ["tenth"]`) {
		t.Errorf("stack00050/stack.tm:\n%s", src)
	}
	if _, err := os.Stat(filepath.Join(dir, "svc00", "stack00000", "nested", "stack.tm")); err != nil {
		t.Error(err)
	}
}
