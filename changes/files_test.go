package changes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePorcelain(t *testing.T) {
	out := []byte("M  staged.tf\x00 M unstaged.tf\x00MM both.tf\x00 D gone.tf\x00D  removed.tf\x00?? new dir/file name.tf\x00A  added.tf\x00")
	got, err := parsePorcelain(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []statusEntry{
		{"staged.tf", Staged}, {"unstaged.tf", Unstaged}, {"both.tf", Staged | Unstaged},
		{"gone.tf", Unstaged}, {"removed.tf", Staged}, {"new dir/file name.tf", Untracked}, {"added.tf", Staged},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(statusEntry{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parsePorcelain([]byte("garbage")); err == nil {
		t.Error("parsePorcelain accepted a malformed record")
	}
}

func TestParseNameStatus(t *testing.T) {
	got, err := parseNameStatus([]byte("M\x00a/main.tf\x00D\x00b/gone.tf\x00A\x00c/new file.tf\x00T\x00d/link\x00"))
	if err != nil {
		t.Fatal(err)
	}
	want := []diffEntry{{"a/main.tf", false}, {"b/gone.tf", true}, {"c/new file.tf", false}, {"d/link", false}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(diffEntry{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, err := parseNameStatus(nil); err != nil || got != nil {
		t.Errorf("empty output: %v, %v", got, err)
	}
	if _, err := parseNameStatus([]byte("M\x00")); err == nil {
		t.Error("parseNameStatus accepted a record without a path")
	}
}

// The git output parsers never panic, and what they accept round-trips:
// every entry has a non-empty path.
func FuzzParsePorcelain(f *testing.F) {
	f.Add([]byte("M  a.tf\x00?? b/c.tf\x00"))
	f.Add([]byte(" D x\x00"))
	f.Fuzz(func(t *testing.T, out []byte) {
		entries, err := parsePorcelain(out)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.path == "" {
				t.Errorf("entry with an empty path from %q", out)
			}
		}
	})
}

func FuzzParseNameStatus(f *testing.F) {
	f.Add([]byte("M\x00a.tf\x00D\x00b.tf\x00"))
	f.Add([]byte("A\x00"))
	f.Fuzz(func(t *testing.T, out []byte) {
		entries, err := parseNameStatus(out)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.path == "" {
				t.Errorf("entry with an empty path from %q", out)
			}
		}
	})
}
