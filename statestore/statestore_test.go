package statestore_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/statestore"
)

const (
	emptyState = `{"version":4,"serial":3,"resources":[]}`
	fullState  = `{"version":4,"serial":2,"resources":[{"mode":"managed","type":"terraform_data","name":"v"}]}`
)

func config(typ string, attrs map[string]string) *backend.Config {
	c := &backend.Config{Type: typ, Attrs: map[string]backend.Value{}}
	for k, v := range attrs {
		c.Attrs[k] = backend.Value{Val: cty.StringVal(v)}
	}
	return c
}

// TestLocal removes an emptied state file with its backup and leaves a
// state that holds resources.
func TestLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string]string{"empty/terraform.tfstate": emptyState, "empty/terraform.tfstate.backup": fullState, "full/terraform.tfstate": fullState} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := statestore.RemoveEmpty(t.Context(), config("local", map[string]string{"path": "empty/terraform.tfstate"}), dir, nil)
	if err != nil || !removed {
		t.Fatalf("empty state: removed %v, %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "empty")); !os.IsNotExist(err) {
		t.Errorf("the emptied state's directory stays (%v)", err)
	}
	removed, err = statestore.RemoveEmpty(t.Context(), config("local", map[string]string{"path": filepath.Join(dir, "full/terraform.tfstate")}), "/", nil)
	if err != nil || removed {
		t.Fatalf("state with resources: removed %v, %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "full/terraform.tfstate")); err != nil {
		t.Errorf("a state with resources was removed: %v", err)
	}
}

// stateServer stands in for GitLab's terraform state API (GET, DELETE
// with basic auth), which cannot run here.
type stateServer struct {
	mu     sync.Mutex
	states map[string]string
}

func (s *stateServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "gitlab-ci-token" || p != "job-token" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.states[r.URL.Path]
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodGet:
		w.Write([]byte(data))
	case r.Method == http.MethodDelete:
		delete(s.states, r.URL.Path)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
	}
}

// TestHTTP deletes an emptied state with the credentials of the config
// or of TF_HTTP_*, and leaves a full or missing one alone.
func TestHTTP(t *testing.T) {
	t.Parallel()
	srv := &stateServer{states: map[string]string{"/state/pr-7-app": emptyState, "/state/prod-app": fullState}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	getenv := func(k string) string {
		return map[string]string{"TF_HTTP_USERNAME": "gitlab-ci-token", "TF_HTTP_PASSWORD": "job-token"}[k]
	}
	for _, tc := range []struct {
		name, path string
		removed    bool
	}{
		{"empty", "/state/pr-7-app", true},
		{"full", "/state/prod-app", false},
		{"missing", "/state/pr-8-app", false},
	} {
		removed, err := statestore.RemoveEmpty(t.Context(), config("http", map[string]string{"address": ts.URL + tc.path}), "/", getenv)
		if err != nil || removed != tc.removed {
			t.Errorf("%s: removed %v, %v; want %v", tc.name, removed, err, tc.removed)
		}
	}
	if _, ok := srv.states["/state/pr-7-app"]; ok {
		t.Error("the emptied state is still on the server")
	}
	if _, ok := srv.states["/state/prod-app"]; !ok {
		t.Error("the state with resources was deleted")
	}
	if _, err := statestore.RemoveEmpty(t.Context(), config("http", map[string]string{"address": ts.URL + "/state/prod-app", "password": "wrong"}), "/", nil); err == nil {
		t.Error("a refused read went unreported")
	}
}

// TestHTTPHostileStatus: the address is the repository's, and Go passes
// a status line's control characters through; an escape or a C1 control
// in it must not reach the error (or a CI log) as is.
func TestHTTPHostileStatus(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = http.ReadRequest(bufio.NewReader(c))
			_, _ = io.WriteString(c, "HTTP/1.1 500 x\x1b[31m\u009b forged\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
			c.Close()
		}
	}()
	_, err = statestore.RemoveEmpty(t.Context(), config("http", map[string]string{"address": "http://" + l.Addr().String() + "/state"}), "/", nil)
	if err == nil || !strings.Contains(err.Error(), "forged") || !printable.Safe(err.Error()) {
		t.Errorf("got %q, want the server's status with its control characters escaped", err)
	}
}

// TestUnsupported: other types are refused, not guessed at.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	if _, err := statestore.RemoveEmpty(t.Context(), config("gcs", map[string]string{"bucket": "b", "prefix": "k"}), "/", nil); err != statestore.ErrUnsupported {
		t.Errorf("gcs: %v, want ErrUnsupported", err)
	}
}

// TestLocalFindMarkerTwice lists local ledgers whose path holds the
// environment name twice: only files whose two names agree are found,
// and a name outside [a-z0-9._-] (a control character) is not.
func TestLocalFindMarkerTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"pr-1/pr-1.tfstate", "pr-2/pr-2.tfstate", "pr-1/pr-2.tfstate", "pr\x1b[2J/pr\x1b[2J.tfstate"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fullState), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, err := statestore.Find(t.Context(), config("local", map[string]string{"path": "MARK/MARK.tfstate"}), dir, "MARK", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found {
		if string(f.Data) != fullState {
			t.Errorf("%s: data %q", f.Name, f.Data)
		}
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "pr-1,pr-2" {
		t.Errorf("found %q, want pr-1 and pr-2", names)
	}
}
