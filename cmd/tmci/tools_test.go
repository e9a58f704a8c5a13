package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
)

// This file proves that the backend files tmci writes are accepted by the
// real tools: terraform 1.5.7 and OpenTofu 1.6.3 init and apply two stacks
// with `tmci generate` output, and each stack's state lands in its own
// place — a local file, a PostgreSQL schema, a path on an HTTP state server.

// tool is a terraform-compatible binary at a pinned version.
type tool struct{ name, version string }

var tools = []tool{{"terraform", "v1.5.7"}, {"tofu", "v1.6.3"}}

// findTool returns the path of tl at its pinned version: on PATH, or in
// $HOME/go/bin where `go install` puts it.
func findTool(t *testing.T, tl tool) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath(tl.name); err == nil {
		candidates = append(candidates, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", tl.name))
	}
	for _, c := range candidates {
		out, err := exec.Command(c, "version").Output()
		if err == nil && reportsVersion(string(out), tl.version, builtAs(c)) {
			return c
		}
	}
	testenv.Missing(t, "%s", fmt.Sprintf("%s %s not found on PATH or in ~/go/bin; install it with go install (see .ci/run)", tl.name, tl.version))
	return ""
}

// reportsVersion reports whether a binary is the pinned version: out, the
// output of its `version` command ("Terraform v1.5.7", "OpenTofu v1.6.3"),
// must name exactly version on its first line. A binary built by `go
// install` of the release's module version prints the prerelease
// "-dev" suffix (the release build sets it away by linker flag); it is
// taken only when module, its Go build info's module version, is exactly
// version. Any other development build or a longer version number
// (v1.6.30) is another tool.
func reportsVersion(out, version, module string) bool {
	first, _, _ := strings.Cut(out, "\n")
	fields := strings.Fields(first)
	if len(fields) != 2 {
		return false
	}
	return fields[1] == version || fields[1] == version+"-dev" && module == version
}

// builtAs returns the module version bin was built from, as its Go build
// info records it, or "" when it records none.
func builtAs(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	return info.Main.Version
}

// localStateTemplate keeps each stack's state of each environment below
// the project's state/ directory.
const localStateTemplate = `backend "local" {
  path = "${terramate.root.path.fs.absolute}/state/${environment.name}/${terramate.stack.path.relative}.tfstate"
}`

// toolProject writes a two-stack project whose tmci.hcl declares template
// (the backend block) and returns its root.
func toolProject(t *testing.T, typ, template string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "-- tmci.hcl --\n%s\nenvironment \"prod\" {}\nenvironment \"staging\" {}\n", template)
	for _, s := range []string{"app", "db"} {
		fmt.Fprintf(&b, "-- stacks/%s/stack.tm --\nstack {}\n", s)
		fmt.Fprintf(&b, "-- stacks/%s/main.tf --\nterraform {\n  backend %q {}\n}\nresource \"terraform_data\" \"marker\" {\n  input = \"marker-%s\"\n}\n", s, typ, s)
	}
	return archiveProject(t, b.String())
}

// archiveProject writes the files of archive (txtar text) into a new
// directory with an empty .git, a project root, and returns it.
func archiveProject(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	if err := fixture.WriteFiles(dir, txtar.Parse([]byte(archive))); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tmci runs the CLI in-process and fails the test on a non-zero exit.
func tmci(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] }, os.Environ); code != 0 {
		t.Fatalf("tmci %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// initApply runs init with the generated file and apply in stack dir.
func initApply(t *testing.T, bin, dir, env, dataDir string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "cli.tfrc")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-input=false", "-no-color", "-backend-config=backend." + env + ".tfbackend"},
		{"apply", "-input=false", "-no-color", "-auto-approve"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_DATA_DIR="+dataDir, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE="+cfg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s in %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), dir, err, out)
		}
	}
}

func TestToolsLocalBackend(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			bin := findTool(t, tl)
			root := toolProject(t, "local", `backend "local" {
  path = "${env.STATE_DIR}/${environment.name}/${terramate.stack.path.relative}.tfstate"
}`)
			env := map[string]string{"STATE_DIR": t.TempDir()}
			for _, e := range []string{"prod", "staging"} {
				tmci(t, env, "-C", root, "generate", "--env="+e)
				for _, s := range []string{"app", "db"} {
					initApply(t, bin, filepath.Join(root, "stacks", s), e, filepath.Join(t.TempDir(), "data"))
					state, err := os.ReadFile(filepath.Join(env["STATE_DIR"], e, "stacks", s+".tfstate"))
					if err != nil {
						t.Fatalf("the state of %s in %s is not where the template puts it: %v", s, e, err)
					}
					if !strings.Contains(string(state), `"marker-`+s+`"`) {
						t.Errorf("state of %s in %s does not hold its resource:\n%s", s, e, state)
					}
				}
			}
			// No state stayed in the stack directories.
			for _, s := range []string{"app", "db"} {
				if _, err := os.Stat(filepath.Join(root, "stacks", s, "terraform.tfstate")); err == nil {
					t.Errorf("stack %s has a local terraform.tfstate: the backend config was ignored", s)
				}
			}
		})
	}
}

func TestToolsPGBackend(t *testing.T) {
	t.Parallel()
	conn := os.Getenv("TMCI_TEST_PG")
	if conn == "" {
		testenv.Missing(t, "TMCI_TEST_PG is not set: give a PostgreSQL connection string (see .ci/postgres.sh)")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		testenv.Missing(t, "psql not found: install the PostgreSQL client")
	}
	query := func(t *testing.T, sql string) string {
		t.Helper()
		out, err := exec.Command(psql, conn, "-tAc", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", sql, err, out)
		}
		return string(out)
	}
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			bin := findTool(t, tl)
			root := toolProject(t, "pg", `backend "pg" {
  conn_str    = env.TMCI_TEST_PG
  schema_name = "tmci_${env.RUN}_${environment.name}_${slug(terramate.stack.path.basename)}"
}`)
			// A schema prefix per test run and tool keeps runs apart.
			run := fmt.Sprintf("%s%d", tl.name, os.Getpid())
			env := map[string]string{"TMCI_TEST_PG": conn, "RUN": run}
			t.Cleanup(func() {
				for _, s := range []string{"app", "db"} {
					exec.Command(psql, conn, "-tAc", fmt.Sprintf("DROP SCHEMA IF EXISTS tmci_%s_prod_%s CASCADE", run, s)).Run()
				}
			})
			tmci(t, env, "-C", root, "generate", "--env=prod", "--allow-secrets")
			for _, s := range []string{"app", "db"} {
				initApply(t, bin, filepath.Join(root, "stacks", s), "prod", filepath.Join(t.TempDir(), "data"))
			}
			for _, s := range []string{"app", "db"} {
				got := query(t, fmt.Sprintf("SELECT data FROM tmci_%s_prod_%s.states WHERE name = 'default'", run, s))
				if !strings.Contains(got, `"marker-`+s+`"`) {
					t.Errorf("schema of %s does not hold its state:\n%s", s, got)
				}
			}
		})
	}
}

// stateServer is a minimal HTTP state backend: GET returns a state, POST
// stores it, and LOCK/UNLOCK hold one lock per address, as the http
// backend expects. It records every state path written.
type stateServer struct {
	mu     sync.Mutex
	states map[string][]byte
	locks  map[string]bool
}

func (s *stateServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch r.Method {
	case http.MethodGet:
		st, ok := s.states[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Write(st)
	case http.MethodPost:
		s.states[r.URL.Path] = body
	case "LOCK":
		if s.locks[r.URL.Path] {
			w.WriteHeader(http.StatusLocked)
			return
		}
		s.locks[r.URL.Path] = true
	case "UNLOCK":
		delete(s.locks, r.URL.Path)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func TestToolsHTTPBackend(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			bin := findTool(t, tl)
			srv := &stateServer{states: map[string][]byte{}, locks: map[string]bool{}}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			root := toolProject(t, "http", `backend "http" {
  address        = "${env.STATE_URL}/${environment.name}/${terramate.stack.path.relative}"
  lock_address   = "${env.STATE_URL}/${environment.name}/${terramate.stack.path.relative}"
  unlock_address = "${env.STATE_URL}/${environment.name}/${terramate.stack.path.relative}"
  password       = "not-a-real-secret"
}`)
			env := map[string]string{"STATE_URL": ts.URL}
			tmci(t, env, "-C", root, "generate", "--env=prod", "--allow-secrets")
			for _, s := range []string{"app", "db"} {
				initApply(t, bin, filepath.Join(root, "stacks", s), "prod", filepath.Join(t.TempDir(), "data"))
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.states) != 2 {
				t.Errorf("the server holds %d states, want 2", len(srv.states))
			}
			for _, s := range []string{"app", "db"} {
				st := srv.states["/prod/stacks/"+s]
				if !strings.Contains(string(st), `"marker-`+s+`"`) {
					t.Errorf("state at /prod/stacks/%s does not hold its resource:\n%s", s, st)
				}
			}
			if len(srv.locks) != 0 {
				t.Errorf("locks left behind: %v", srv.locks)
			}
		})
	}
}

// TestReportsVersion: the tool finder takes a binary only at exactly its
// pinned version; a development build or a longer version number that
// merely starts with it is another tool.
func TestReportsVersion(t *testing.T) {
	for _, tc := range []struct {
		name, out, version, module string
		want                       bool
	}{
		{"terraform release", "Terraform v1.5.7\non linux_amd64\n", "v1.5.7", "", true},
		{"tofu release", "OpenTofu v1.6.3\non linux_amd64\n", "v1.6.3", "", true},
		{"go install of the release", "OpenTofu v1.6.3-dev\non linux_amd64\n", "v1.6.3", "v1.6.3", true},
		{"dev build", "OpenTofu v1.6.3-dev\non linux_amd64\n", "v1.6.3", "(devel)", false},
		{"dev build without build info", "OpenTofu v1.6.3-dev\non linux_amd64\n", "v1.6.3", "", false},
		{"dev build of a later commit", "OpenTofu v1.6.3-dev\n", "v1.6.3", "v1.6.4-0.20240101000000-abcdef123456", false},
		{"other prerelease", "OpenTofu v1.6.3-rc1\n", "v1.6.3", "v1.6.3", false},
		{"longer version", "OpenTofu v1.6.30\non linux_amd64\n", "v1.6.3", "", false},
		{"other version", "Terraform v1.5.6\n", "v1.5.7", "", false},
		{"version on a later line", "Terraform v1.9.0\nYour version is out of date! The latest is v1.5.7\n", "v1.5.7", "", false},
		{"empty", "", "v1.5.7", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reportsVersion(tc.out, tc.version, tc.module); got != tc.want {
				t.Errorf("reportsVersion(%q, %q, %q) = %v, want %v", tc.out, tc.version, tc.module, got, tc.want)
			}
		})
	}
}
