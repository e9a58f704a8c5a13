package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/pgtest"
	"github.com/tmci/tmci/internal/redact"
	"github.com/tmci/tmci/internal/testenv"
)

// TestSecretsMaskedInRuns runs real terraform against a real PostgreSQL
// whose conn_str carries a password, and commands that print the password
// whole, URL-encoded, and cut across two writes with a pause between, in
// every console mode and with GitHub's step summary and outputs. It then
// greps every output stream, the step summary and outputs, and every file
// under the work directory (except the ones that hold it by design, each
// checked to be private) for the password in each of its encoded forms.
// The last step shows the grep can see: the backend file holds it.
func TestSecretsMaskedInRuns(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	conn := pgtest.NewDatabase(t, "tmci_redact_")
	// The server trusts local connections, so any password connects;
	// "/", "@" and " " make its encoded forms differ from it.
	const password = "pw-Sup3r/s3cr3t@pw x"
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	root := t.TempDir()
	files := map[string]string{
		"tmci.hcl": `backend "pg" {
  conn_str    = env.CONN
  schema_name = "${environment.name}_${slug(terramate.stack.path.basename)}"
}
environment "pr-*" {}
`,
		"stacks/app/stack.tm": `stack {
  id = "app"
}
terramate {
  config {
    run {
      env {
        PW  = sensitive(env.PW)
        ENC = env.ENC
      }
    }
  }
}
`,
		"stacks/app/main.tf": `terraform {
  backend "pg" {}
}
resource "terraform_data" "x" {
  input = "hello"
}
`,
	}
	ar := &txtar.Archive{}
	for name, data := range files {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
	}
	if err := fixture.WriteFiles(root, ar); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, root, "init", "-q") // tmci needs a repository (or a Terramate root)
	ghDir := t.TempDir()
	env := runEnv(t, bin, map[string]string{
		"CONN": u.String(), "PW": password, "ENC": url.QueryEscape(password),
		"GITHUB_STEP_SUMMARY": filepath.Join(ghDir, "summary"), "GITHUB_OUTPUT": filepath.Join(ghDir, "output"),
	})
	environ := func() []string {
		out := os.Environ()
		for k, v := range env {
			out = append(out, k+"="+v)
		}
		return out
	}
	var all bytes.Buffer
	tmciRun := func(want int, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", root}, args...), &stdout, &stderr, func(k string) string { return env[k] }, environ)
		all.Write(stdout.Bytes())
		all.Write(stderr.Bytes())
		if code != want {
			t.Fatalf("tmci %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
		}
	}
	// Half the password, a pause, the other half: two writes.
	script := `half=${#PW}; half=$((half / 2)); printf 'cut %s' "$(printf %s "$PW" | cut -c1-$half)"; sleep 0.2; printf '%s end\n' "$(printf %s "$PW" | cut -c$((half + 1))-)"; echo "whole $PW"; echo "encoded $ENC" >&2; exit 3`
	for _, mode := range []string{"stream", "grouped", "quiet"} {
		tmciRun(1, "run", "--env=pr-1", "--log-mode="+mode, "--", "sh", "-c", script)
	}
	tmciRun(0, "plan", "--env=pr-1")
	tmciRun(0, "apply", "--env=pr-1", "--from-plans")

	leaks := func(name string, data []byte) {
		for _, form := range redact.Forms(password) {
			if bytes.Contains(data, []byte(form)) {
				t.Errorf("%s holds the password (as %q):\n%s", name, form, data)
			}
		}
		// Half the password, as a cut write would leave it.
		if bytes.Contains(data, []byte(password[:len(password)/2])) {
			t.Errorf("%s holds half the password:\n%s", name, data)
		}
	}
	leaks("tmci's output", all.Bytes())
	for _, f := range []string{"summary", "output"} {
		data, err := os.ReadFile(filepath.Join(ghDir, f))
		if err != nil {
			t.Fatal(err)
		}
		leaks("GITHUB_"+f, data)
	}
	work := filepath.Join(root, ".tmci")
	var holders int
	err = filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(work, p)
		secretByDesign := d.Name() == ".tmci.tfbackend" || strings.Contains(rel, ".terraform") || strings.HasPrefix(rel, "pr-1/plans")
		switch {
		case d.IsDir() && (d.Name() == ".terraform" || d.Name() == "plans" || rel == "pr-1"):
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s is %v, want private (0700)", rel, perm)
			}
		case d.Type().IsRegular() && secretByDesign:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, form := range redact.Forms(password) {
				if bytes.Contains(data, []byte(form)) {
					holders++
					break
				}
			}
			// terraform's own files in a data directory are guarded by
			// the directory (0700, checked above).
			if perm := info.Mode().Perm(); perm&0o077 != 0 && !strings.Contains(rel, ".terraform") {
				t.Errorf("%s holds secrets by design and is %v, want 0600", rel, perm)
			}
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			leaks(rel, data)
			if strings.HasPrefix(rel, "pr-1/logs") && info.Mode().Perm()&0o077 != 0 {
				t.Errorf("log %s is %v, want 0600", rel, info.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if holders == 0 {
		t.Error("no backend file holds the password: the grep looks for the wrong text")
	}
}
