package parity

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

func TestGenerateIsDeterministic(t *testing.T) {
	for seed := range uint64(20) {
		a, b := Generate(seed), Generate(seed)
		if !bytes.Equal(txtar.Format(a.Archive), txtar.Format(b.Archive)) {
			t.Fatalf("seed %d: two archives differ", seed)
		}
		if diff := cmp.Diff(a.Queries, b.Queries); diff != "" {
			t.Fatalf("seed %d: queries differ:\n%s", seed, diff)
		}
	}
	if bytes.Equal(txtar.Format(Generate(1).Archive), txtar.Format(Generate(2).Archive)) {
		t.Error("seeds 1 and 2 give the same archive")
	}
}

func TestSectionRoundTrip(t *testing.T) {
	for _, q := range Generate(3).Queries {
		got, ok, err := ParseSection(q.Section())
		if !ok || err != nil {
			t.Fatalf("ParseSection(%q) = %v, %v", q.Section(), ok, err)
		}
		if diff := cmp.Diff(q, got); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", q.Section(), diff)
		}
	}
	for _, bad := range []string{"want feature", "want dev . list", "want main . plan"} {
		if _, ok, err := ParseSection(bad); !ok || err == nil {
			t.Errorf("ParseSection(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
	if _, ok, _ := ParseSection("stacks/a/main.tf"); ok {
		t.Error("a file section parsed as an answer")
	}
}

func TestRelPath(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"/stacks/a", "/stacks/b", "../b"},
		{"/stacks/a", "/stacks/a/x", "x"},
		{"/stacks/a/b", "/shared/f.json", "../../../shared/f.json"},
		{"/stacks/a", "/stacks/a", "."},
	} {
		if got := relPath(c.from, c.to); got != c.want {
			t.Errorf("relPath(%s, %s) = %s, want %s", c.from, c.to, got, c.want)
		}
	}
}

func TestRunAnswer(t *testing.T) {
	got := RunAnswer("/tmp/r", "/tmp/r/infra/a\n/tmp/r/b\n")
	if want := "/infra/a\n/b\n"; got != want {
		t.Errorf("RunAnswer = %q, want %q", got, want)
	}
}
