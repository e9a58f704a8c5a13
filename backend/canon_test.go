package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestResolvePath checks local paths against a real directory tree with
// symlinks, including paths that do not exist yet and symlink loops, which
// an untrusted repository may hold.
func TestResolvePath(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	mk("real/state")
	mk("stacks/app")
	ln("../real", "stacks/link")              // relative directory link
	ln(filepath.Join(dir, "real"), "abs")     // absolute directory link
	ln("loop-b", "loop-a")                    // a two-link loop
	ln("loop-a", "loop-b")                    //
	ln("self/x", "self")                      // a link into itself
	ln("../real/state/f.tfstate", "stacks/f") // a link to a file not yet there
	tests := []struct {
		stack, path string
		want        string
		note        bool
	}{
		{"stacks/app", "prod.tfstate", "stacks/app/prod.tfstate", false},
		{"stacks/app", "../link/state/prod.tfstate", "real/state/prod.tfstate", false},
		{"stacks/app", dir + "/abs/state/./x/../prod.tfstate", "real/state/prod.tfstate", false},
		{"stacks/app", "../../abs/new/dir/p.tfstate", "real/new/dir/p.tfstate", false},
		{"stacks/app", "../f", "real/state/f.tfstate", false},
		{"stacks/app", "../../loop-a/x", "", true},
		{"stacks/app", "../../self/y", "", true},
	}
	var c canon
	for _, tt := range tests {
		done := make(chan struct{})
		var got, note string
		go func() {
			got, note = c.localPath(filepath.Join(dir, tt.stack), tt.path)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: resolving did not end", tt.path)
		}
		if tt.note {
			if note == "" {
				t.Errorf("%s: no note for an unresolvable path (got %s)", tt.path, got)
			}
			continue
		}
		if note != "" || got != filepath.Join(dir, tt.want) {
			t.Errorf("%s: got %s (%s), want %s", tt.path, got, note, filepath.Join(dir, tt.want))
		}
	}
}

// TestPGConn checks that both forms of a conn_str reduce to one place.
func TestPGConn(t *testing.T) {
	tests := []struct {
		conn string
		want pgTarget
	}{
		{"postgres://u:pw@DB.Example.com/state?sslmode=disable", pgTarget{host: "db.example.com", port: "5432", dbname: "state"}},
		{"host=db.example.com port=5432 dbname=state user=bob password='a b\\'c'", pgTarget{host: "db.example.com", port: "5432", dbname: "state"}},
		{"host = db.example.com dbname = state", pgTarget{host: "db.example.com", port: "5432", dbname: "state"}},
		{"postgresql:///state?host=/var/run/postgresql", pgTarget{host: "/var/run/postgresql", port: "5432", dbname: "state"}},
		{"postgres://127.0.0.1:55480/tmci", pgTarget{host: "localhost", port: "55480", dbname: "tmci"}},
		{"host=::1 port=55480 dbname=tmci", pgTarget{host: "localhost", port: "55480", dbname: "tmci"}},
		{"user=alice", pgTarget{host: "localhost", port: "5432", dbname: "alice", note: "libpq defaults assumed for host (PGHOST), database (PGDATABASE)"}},
		{"host='unterminated", pgTarget{host: "host='unterminated", note: "compared as written: not a PostgreSQL URL or keyword string"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, pgConn(tt.conn), cmp.AllowUnexported(pgTarget{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.conn, diff)
		}
	}
}

// TestIdentityCanonical checks that spellings of one state object get one
// identity and that different objects do not, per backend type.
func TestIdentityCanonical(t *testing.T) {
	tests := []struct {
		typ     string
		a, b    string
		same    bool
		noteInA string
	}{
		{"pg", `conn_str = "postgres://a:x@db/state"` + "\n" + `schema_name = "s"`, `conn_str = "host=DB dbname=state user=b"` + "\n" + `schema_name = "s"`, true, ""},
		{"pg", `conn_str = "postgres://db/state"` + "\n" + `schema_name = "s"`, `conn_str = "host=db port=5433 dbname=state"` + "\n" + `schema_name = "s"`, false, ""},
		{"s3", `bucket = "b"` + "\n" + `key = "k"` + "\n" + `workspace_key_prefix = "x"`, `bucket = "b"` + "\n" + `key = "k"`, true, ""},
		{"s3", `bucket = "b"` + "\n" + `key = "k"` + "\n" + `endpoint = "https://MINIO.local:443"`, `bucket = "b"` + "\n" + `key = "k"` + "\n" + `endpoint = "https://minio.local/"`, false, ""},
		{"s3", `bucket = "b"` + "\n" + `key = "k"`, `bucket = "b"` + "\n" + `key = "K"`, false, ""},
		{"gcs", `bucket = "b"` + "\n" + `prefix = "/a/"`, `bucket = "b"` + "\n" + `prefix = "a"`, true, ""},
		{"azurerm", `storage_account_name = "acct"` + "\n" + `container_name = "c"` + "\n" + `key = "k"`, `storage_account_name = "ACCT"` + "\n" + `container_name = "C"` + "\n" + `key = "k"`, true, ""},
		{"http", `address = "HTTPS://Example.com:443/state/a"`, `address = "https://example.com/state/%61"`, true, ""},
		{"consul", `address = "http://LOCALHOST:8500"` + "\n" + `path = "p"`, `path = "p"`, true, ""},
		{"kubernetes", `secret_suffix = "a"` + "\n" + `namespace = "default"`, `secret_suffix = "a"`, true, "current context"},
		{"oss", `bucket = "b"` + "\n" + `prefix = "a/"` + "\n" + `key = "k"`, `bucket = "b"` + "\n" + `prefix = "a"` + "\n" + `key = "k"`, true, ""},
		{"cos", `bucket = "b"` + "\n" + `prefix = "a"`, `bucket = "b"` + "\n" + `prefix = "a"` + "\n" + `key = "other"`, false, ""},
		{"remote", `organization = "Acme"` + "\n" + "workspaces {\nname = \"App\"\n}", `organization = "acme"` + "\n" + "workspaces {\nname = \"app\"\n}", true, ""},
		{"http", `address = "not a url"`, `address = "not a url"`, true, "compared as written"},
	}
	for _, tt := range tests {
		a, b := resolveType(t, tt.typ, tt.a).Identity(nil), resolveType(t, tt.typ, tt.b).Identity(nil)
		if same := a.Key() == b.Key(); same != tt.same {
			t.Errorf("%s: same=%v, want %v:\n  %s\n  %s", tt.typ, same, tt.same, a, b)
		}
		if tt.noteInA != "" && !strings.Contains(a.String(), tt.noteInA) {
			t.Errorf("%s: identity %s does not say %q", tt.typ, a, tt.noteInA)
		}
	}
}

// FuzzPGConn feeds conn_str values, which come from the untrusted
// repository, to the parser: it must end, not panic, and give a
// case-folded host whenever it parses.
func FuzzPGConn(f *testing.F) {
	for _, s := range []string{
		"postgres://u:pw@DB/state?sslmode=disable", "host=db dbname=state", "host='a b' port=1",
		"host='unterminated", `a=\`, "=x", "postgresql:///d?host=/tmp", "", "host = x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := pgConn(s)
		if strings.HasPrefix(got.note, "compared as written") {
			return
		}
		for _, h := range strings.Split(got.host, ",") {
			if !strings.HasPrefix(h, "/") && h != strings.ToLower(h) {
				t.Errorf("%q: host %q not folded", s, h)
			}
		}
	})
}
