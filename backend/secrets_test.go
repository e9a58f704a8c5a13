package backend

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConnPassword(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://tf:hunter2@db/state", "hunter2"},
		{"postgres://tf:p%40ss%2Fw@db/state?sslmode=disable", "p@ss/w"},
		{"postgres://tf@db/state", ""},
		{"postgres://tf:pa ss%zz@db:x/state", "pa ss%zz"},
		{"postgres://db/state", ""},
		{"host=db user=tf password=hunter2 dbname=state", "hunter2"},
		{"host=db password = 'a b\\'c\\\\d' dbname=state", `a b'c\d`},
		{"password='unterminated", "unterminated"},
		{"just text", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ConnPassword(tt.in)); diff != "" {
			t.Errorf("ConnPassword(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
