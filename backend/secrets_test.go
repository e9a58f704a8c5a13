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

// TestEnvSecretValues checks the credentials terraform reads from the
// environment per backend type: whole values, plus the password inside a
// connection string, and nothing for a type that reads none.
func TestEnvSecretValues(t *testing.T) {
	env := map[string]string{
		"AWS_SECRET_ACCESS_KEY": "aws-secret", "AWS_SESSION_TOKEN": "aws-token",
		"PG_CONN_STR": "postgres://u:pg-pw@db/state", "TF_HTTP_PASSWORD": "http-pw",
	}
	getenv := func(k string) string { return env[k] }
	for typ, want := range map[string][]string{
		"s3":    {"aws-secret", "aws-token"},
		"pg":    {"pg-pw", "postgres://u:pg-pw@db/state"},
		"http":  {"http-pw"},
		"local": nil,
	} {
		got := (&Config{Type: typ}).EnvSecretValues(getenv)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", typ, diff)
		}
	}
}
