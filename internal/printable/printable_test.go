package printable

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"stacks/app", "stacks/app"},
		{"stacks/é日本", "stacks/é日本"},
		{"a\n::warning::x", `a\n::warning::x`},
		{"red\x1b[31m", `red\x1b[31m`},
		{"cr\rtab\t", `cr\rtab\t`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"del\x7f", `del\x7f`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, String(tt.in)); diff != "" {
			t.Errorf("String(%q) (-want +got):\n%s", tt.in, diff)
		}
		if Safe(tt.in) != (tt.in == tt.want) {
			t.Errorf("Safe(%q) = %v", tt.in, Safe(tt.in))
		}
	}
	if got := Lines("ok line\nbad\x1b line\n"); got != "ok line\nbad\\x1b line\n" {
		t.Errorf("Lines: %q", got)
	}
}
