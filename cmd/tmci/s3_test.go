package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/s3test"
	"github.com/tmci/tmci/internal/testenv"
)

// These tests run the examples project (examples/acme) on the s3 backend
// against a real S3 server (VersityGW), with terraform 1.5.7 and tofu
// 1.6.3: previews and long-lived environments side by side, each stack's
// state at its own key, apply, a plan after apply that finds nothing,
// and the teardown of a preview that leaves no state object behind — with
// the secret key never in anything tmci prints or writes where it does
// not have to be.

// s3Bucket is the bucket examples/s3/backend.hcl names.
const s3Bucket = "acme-tfstate"

// s3Template returns examples/acme's tmci.hcl with its backend block
// replaced by examples/s3/backend.hcl, plus a workspace_key_prefix, in
// the spelling of tl: terraform 1.5.7 knows only endpoint and
// force_path_style, as the example is written; the tofu case rewrites
// them to endpoints { s3 } and use_path_style, which OpenTofu 1.6.3 also
// takes.
func s3Template(t *testing.T, tl tool) string {
	t.Helper()
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	acme, s3 := read("acme/tmci.hcl"), read("s3/backend.hcl")
	block := regexp.MustCompile(`(?s)backend "local" \{.*?\n\}\n`)
	if len(block.FindAllString(acme, -1)) != 1 {
		t.Fatal("examples/acme/tmci.hcl holds no single local backend block to replace")
	}
	// A workspace_key_prefix that carries the environment changes nothing
	// in the default workspace tmci runs: the objects stay at key, which
	// the test asserts.
	respell := map[string]string{"  region = \"us-east-1\"\n": "  region = \"us-east-1\"\n  workspace_key_prefix = \"workspaces/${environment.name}\"\n"}
	if tl.name != "terraform" {
		respell["  endpoint                    = env.S3_ENDPOINT\n"] = "  endpoints {\n    s3 = env.S3_ENDPOINT\n  }\n"
		respell["  force_path_style            = true\n"] = "  use_path_style              = true\n"
	}
	for old, spelling := range respell {
		if !strings.Contains(s3, old) {
			t.Fatalf("examples/s3/backend.hcl has no line %q to respell", old)
		}
		s3 = strings.Replace(s3, old, spelling, 1)
	}
	return block.ReplaceAllLiteralString(acme, s3)
}

// s3Acme writes examples/acme with the s3 template into a new git
// repository and returns its root and stack paths (relative).
func s3Acme(t *testing.T, tl tool) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join(examplesDir, "acme"), dir)
	writeFile(t, filepath.Join(dir, "tmci.hcl"), s3Template(t, tl))
	var stacks []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "main.tf" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte(`backend "local" {}`)) {
			return nil
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(p))
		stacks = append(stacks, filepath.ToSlash(rel))
		return os.WriteFile(p, bytes.ReplaceAll(data, []byte(`backend "local" {}`), []byte(`backend "s3" {}`)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) < 10 {
		t.Fatalf("examples/acme has %d stacks with a local backend, want the whole example", len(stacks))
	}
	writeFile(t, filepath.Join(dir, ".gitignore"), ".tmci/\n")
	testenv.Git(t, dir, "init", "-q", "-b", "main")
	testenv.Git(t, dir, "add", "-A")
	testenv.Git(t, dir, "commit", "-qm", "acme on s3")
	sort.Strings(stacks)
	return dir, stacks
}

// stateKeys returns the keys each environment's stacks must have, plus
// the environment's ledger.
func stateKeys(envs, stacks []string) []string {
	var keys []string
	for _, e := range envs {
		for _, s := range append([]string{".tmci-ledger"}, stacks...) {
			keys = append(keys, e+"/"+s+"/terraform.tfstate")
		}
	}
	sort.Strings(keys)
	return keys
}

// s3Environments returns tmci environments --json as "name:stacks".
func s3Environments(t *testing.T, env map[string]string, root string) []string {
	t.Helper()
	code, stdout, stderr := tmciCode(t.Context(), env, "-C", root, "environments", "--json")
	var list []struct {
		Name   string `json:"name"`
		Stacks int    `json:"stacks"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil {
		t.Fatalf("tmci environments --json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	var out []string
	for _, e := range list {
		out = append(out, fmt.Sprintf("%s:%d", e.Name, e.Stacks))
	}
	return out
}

func TestS3Examples(t *testing.T) {
	t.Parallel()
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			t.Parallel()
			bin := findTool(t, tl)
			secret := "tmci-S3-secret-" + tl.name + "-4c1e9b7d20"
			srv := s3test.Start(t, secret)
			srv.Bucket(t, s3Bucket)
			root, stacks := s3Acme(t, tl)
			// The terraform case gives the keys to the template, the tofu
			// case to terraform's own variables.
			extra := map[string]string{"S3_ENDPOINT": srv.Endpoint, "S3_ACCESS_KEY": srv.AccessKey, "S3_SECRET_KEY": secret}
			if tl.name == "tofu" {
				extra = map[string]string{"S3_ENDPOINT": srv.Endpoint, "AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": secret}
			}
			env := runEnv(t, bin, extra)
			var outputs []string
			tmciRun := func(want int, args ...string) {
				t.Helper()
				outputs = append(outputs, tmciWant(t, want, env, append([]string{"-C", root}, args...)...))
			}

			tmciRun(0, "check")
			envs := []string{"pr-1", "pr-2", "prod", "staging"}
			for _, e := range envs {
				tmciRun(0, "apply", "--env="+e, "--yes", "--log-mode=quiet", "--parallel=4")
			}
			if diff := cmp.Diff(stateKeys(envs, stacks), srv.Objects(t, s3Bucket)); diff != "" {
				t.Fatalf("state objects after apply (-want +got):\n%s", diff)
			}
			// The bucket is listed for the environments it holds, each
			// with every stack applied.
			n := len(stacks)
			if diff := cmp.Diff([]string{fmt.Sprint("pr-1:", n), fmt.Sprint("pr-2:", n), fmt.Sprint("prod:", n), fmt.Sprint("staging:", n)}, s3Environments(t, env, root)); diff != "" {
				t.Errorf("tmci environments after apply (-want +got):\n%s", diff)
			}
			for _, s := range stacks {
				var st struct {
					Resources []json.RawMessage `json:"resources"`
				}
				data, err := os.ReadFile(srv.Object(s3Bucket, "pr-2/"+s+"/terraform.tfstate"))
				if err != nil || json.Unmarshal(data, &st) != nil || len(st.Resources) == 0 {
					t.Errorf("the pr-2 state of %s holds no resources (%v): %.200s", s, err, data)
				}
			}

			// A plan right after apply finds nothing to do: exit 0 with
			// --detailed-exitcode, and no stack counts a change.
			for _, e := range []string{"pr-1", "prod"} {
				tmciRun(0, "plan", "--env="+e, "--detailed-exitcode", "--log-mode=quiet", "--parallel=4")
				var rep struct {
					Totals struct {
						WithChanges int `json:"with_changes"`
					} `json:"totals"`
					Stacks []struct {
						Path   string `json:"path"`
						Status string `json:"status"`
						Plan   struct {
							Changes bool `json:"changes"`
						} `json:"plan"`
						Backend struct {
							Type     string            `json:"type"`
							Identity map[string]string `json:"identity"`
						} `json:"backend"`
					} `json:"stacks"`
				}
				readJSON(t, filepath.Join(root, ".tmci", e, "report.json"), &rep)
				if len(rep.Stacks) != len(stacks) || rep.Totals.WithChanges != 0 {
					t.Errorf("%s: the plan report has %d stacks (want %d), %d with changes (want 0)", e, len(rep.Stacks), len(stacks), rep.Totals.WithChanges)
				}
				for _, s := range rep.Stacks {
					if s.Status != "succeeded" || s.Plan.Changes {
						t.Errorf("%s: stack %s after apply: status %s, changes %v", e, s.Path, s.Status, s.Plan.Changes)
					}
					// The identity's canonical form names loopback localhost.
					wantID := map[string]string{"endpoint": strings.Replace(srv.Endpoint, "127.0.0.1", "localhost", 1), "bucket": s3Bucket, "key": e + s.Path + "/terraform.tfstate"}
					if diff := cmp.Diff(wantID, s.Backend.Identity); s.Backend.Type != "s3" || diff != "" {
						t.Errorf("%s: stack %s state identity, type %s (-want +got):\n%s", e, s.Path, s.Backend.Type, diff)
					}
				}
			}

			// Tearing down pr-1 removes its state objects and its
			// ledger's; the other environments keep theirs.
			tmciRun(0, "destroy", "--env=pr-1", "--yes", "--log-mode=quiet", "--parallel=4")
			if diff := cmp.Diff(stateKeys(envs[1:], stacks), srv.Objects(t, s3Bucket)); diff != "" {
				t.Errorf("state objects after destroying pr-1 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{fmt.Sprint("pr-2:", n), fmt.Sprint("prod:", n), fmt.Sprint("staging:", n)}, s3Environments(t, env, root)); diff != "" {
				t.Errorf("tmci environments after destroying pr-1 (-want +got):\n%s", diff)
			}

			// The check must have looked at something: with the keys in
			// the template, the backend files of the environments still
			// applied hold the secret.
			if holders := checkSecretKept(t, filepath.Join(root, ".tmci"), secret, outputs); tl.name != "tofu" && holders == 0 {
				t.Error("no file of the work directory holds the secret key: the check saw nothing")
			}
		})
	}
}

// checkSecretKept fails t when secret is in any output or any file of the
// work directory other than those terraform needs it in (the backend
// files, terraform's record of the backend in its data directory, saved
// plans), and when one of those lies in a directory others can enter, or
// is one of tmci's own and readable by others. It returns how many files
// hold it.
func checkSecretKept(t *testing.T, work, secret string, outputs []string) int {
	t.Helper()
	for i, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("the secret key is in the output of tmci command %d", i)
		}
	}
	holders := 0
	err := filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte(secret)) {
			return nil
		}
		holders++
		rel, _ := filepath.Rel(work, p)
		name := filepath.Base(p)
		// terraform records the backend configuration in its data
		// directory with the mode it likes (0644); the directory keeps
		// it private. tmci's own files must be 0600 themselves.
		terraformOwn := name == "terraform.tfstate" && filepath.Base(filepath.Dir(p)) == ".terraform"
		tmciOwn := name == ".tmci.tfbackend" || name == "ledger.tfbackend" || strings.HasSuffix(name, ".tfplan")
		if !terraformOwn && !tmciOwn {
			t.Errorf("the secret key is in %s", rel)
			return nil
		}
		if fi, err := os.Stat(p); tmciOwn && (err != nil || fi.Mode().Perm()&0o077 != 0) {
			t.Errorf("%s holds the secret key and is not private: %v %v", rel, fi.Mode(), err)
		}
		for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s holds the secret key in a directory others can enter: %s %v %v", rel, dir, fi.Mode(), err)
			}
			if dir == work {
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The check must have looked at something: the backend files of
	// the environments still applied hold the key (or, with the key
	// from the environment, nothing does).
	t.Logf("%d files in the work directory hold the secret key, all private", holders)
	return holders
}

// TestS3AttributesForBinary checks that a backend attribute the binary
// does not know is refused at its line in tmci.hcl, by check and before a
// run starts terraform, instead of by terraform at a line of the
// generated backend file: terraform 1.5.7 refuses the endpoint spelling
// of 1.6 (endpoints, use_path_style), tofu 1.6.3 and terraform 1.5.7
// refuse use_lockfile.
func TestS3AttributesForBinary(t *testing.T) {
	t.Parallel()
	template := `backend "s3" {
  bucket         = "tfstate"
  key            = "${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
  region         = "us-east-1"
  use_path_style = true
  endpoints {
    s3 = "http://127.0.0.1:1"
  }
  use_lockfile = true
}`
	for _, c := range []struct {
		tl   tool
		want []string
	}{
		{tools[0], []string{
			"tmci.hcl:5:3: Backend attribute unknown to terraform 1.5.7",
			"tmci.hcl:6:3: Backend attribute unknown to terraform 1.5.7",
			"tmci.hcl:9:3: Backend attribute unknown to terraform 1.5.7",
		}},
		{tools[1], []string{"tmci.hcl:9:3: Backend attribute unknown to OpenTofu 1.6.3"}},
	} {
		t.Run(c.tl.name, func(t *testing.T) {
			t.Parallel()
			bin := findTool(t, c.tl)
			root := toolProject(t, "s3", template)
			env := runEnv(t, bin, nil)
			for _, args := range [][]string{{"check"}, {"plan", "--env=prod"}} {
				code, stdout, stderr := tmciCode(t.Context(), env, append([]string{"-C", root}, args...)...)
				var got []string
				for _, line := range strings.Split(stderr, "\n") {
					if strings.HasPrefix(line, "tmci.hcl:") {
						got = append(got, line)
					}
				}
				if diff := cmp.Diff(c.want, got); code != 1 || diff != "" {
					t.Errorf("tmci %s: exit %d, want 1; diagnostics (-want +got):\n%s\n%s%s", args[0], code, diff, stdout, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(root, ".tmci", "prod", "stacks")); !os.IsNotExist(err) {
				t.Errorf("plan started work for the stacks (%v)", err)
			}
		})
	}
}

// TestS3EnvSecretMasked checks that credentials the s3 backend takes from
// the environment, which terraform reads itself, are masked like those of
// the template: a command that prints them shows *** on stdout and
// in its log.
func TestS3EnvSecretMasked(t *testing.T) {
	t.Parallel()
	const secret = "tmci-env-secret-8e51c0aa7d"
	root := toolProject(t, "s3", `backend "s3" {
  bucket = "acme-tfstate"
  key    = "${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
  region = "us-east-1"
}`)
	env := map[string]string{"PATH": os.Getenv("PATH"), "AWS_SECRET_ACCESS_KEY": secret}
	out := tmciWant(t, 0, env, "-C", root, "run", "--env=prod", "--log-mode=stream", "--", "sh", "-c", `echo "key=$AWS_SECRET_ACCESS_KEY"`)
	if strings.Contains(out, secret) || strings.Count(out, "key=***") != 2 {
		t.Errorf("want key=*** for both stacks and no secret:\n%s", out)
	}
	for _, s := range []string{"app", "db"} {
		log, err := os.ReadFile(filepath.Join(root, ".tmci", "prod", "logs", "stacks", s+".log"))
		if err != nil || bytes.Contains(log, []byte(secret)) || !bytes.Contains(log, []byte("key=***")) {
			t.Errorf("log of %s: %v\n%s", s, err, log)
		}
	}
}
