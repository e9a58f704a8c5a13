package tf_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// The tests in this file run real terraform under the scheduler, as the
// CLI will: one task per stack, a data directory and log per stack.

// project is a set of stacks below root with one environment's work dir.
type project struct {
	root, work string
}

func (p project) stack(name, backendFile string) tf.Stack {
	return tf.Stack{
		Dir:         filepath.Join(p.root, "stacks", name),
		DataDir:     filepath.Join(p.work, "data", name),
		BackendFile: backendFile,
	}
}

func (p project) logPath(name string) string { return filepath.Join(p.work, "logs", name+".log") }

// TestFailurePropagation plans three stacks, one of them broken: the stack
// after it is skipped naming it, the independent one is planned.
func TestFailurePropagation(t *testing.T) {
	t.Parallel()
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := requireBinary(t, binName)
			p := project{root: t.TempDir()}
			p.work = filepath.Join(p.root, ".tmci", "pr-1")
			ok := "resource \"terraform_data\" \"x\" {\n  input = 1\n}\n"
			writeFiles(t, p.root, map[string]string{
				"stacks/broken/main.tf":       "resource \"terraform_data\" \"x\" {\n",
				"stacks/after-broken/main.tf": ok,
				"stacks/independent/main.tf":  ok,
			})
			r := newRunner(t, bin)
			g := scheduler.Deps{
				Order: []string{"broken", "independent", "after-broken"},
				After: map[string][]string{"after-broken": {"broken"}},
			}
			opts := scheduler.Options{Parallel: 2, Logs: scheduler.LogFiles(p.logPath)}
			rs, err := scheduler.Run(t.Context(), g, opts, func(ctx context.Context, name string, out io.Writer) (bool, error) {
				s := p.stack(name, "")
				s.Out = out
				if err := r.Init(ctx, s); err != nil {
					return false, err
				}
				return r.Plan(ctx, s, filepath.Join(p.work, "plans", name+".tfplan"))
			})
			if err != nil {
				t.Fatal(err)
			}
			type outcome struct {
				Node, Status string
				Changes      bool
				FailedDeps   []string
			}
			var got []outcome
			for _, r := range rs {
				got = append(got, outcome{r.Node, r.Status.String(), r.Value, r.FailedDeps})
			}
			want := []outcome{
				{Node: "broken", Status: "failed"},
				{Node: "independent", Status: "succeeded", Changes: true},
				{Node: "after-broken", Status: "skipped", FailedDeps: []string{"broken"}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(rs[0].Err.Error(), "terraform init in ") && !strings.HasPrefix(rs[0].Err.Error(), "tofu init in ") {
				t.Errorf("broken: error %q, want one naming the init", rs[0].Err)
			}
			log, err := os.ReadFile(p.logPath("broken"))
			if err != nil || !bytes.Contains(log, []byte("Unclosed configuration block")) {
				t.Errorf("log of broken lacks terraform's error (%v):\n%s", err, log)
			}
			if _, err := os.Stat(p.logPath("after-broken")); !os.IsNotExist(err) {
				t.Errorf("the skipped stack has a log (%v)", err)
			}
		})
	}
}

// TestSharedPluginCacheInitsOneAtATime runs many inits against a shared
// TF_PLUGIN_CACHE_DIR that a provider from a local filesystem mirror fills.
// A wrapper around the real binary records any two inits running at once.
func TestSharedPluginCacheInitsOneAtATime(t *testing.T) {
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := requireBinary(t, binName)
			dir := t.TempDir()
			mirror := filepath.Join(dir, "mirror")
			fakeProviderMirror(t, mirror)
			cfg := filepath.Join(dir, "cli.tfrc")
			writeFiles(t, dir, map[string]string{"cli.tfrc": fmt.Sprintf(`
provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["example.com/*/*"]
  }
}
`, mirror)})
			probe := filepath.Join(dir, "probe")
			wrapper := filepath.Join(dir, "tf-wrapper")
			writeFiles(t, dir, map[string]string{"tf-wrapper": `
#!/bin/sh
# Runs the real binary; an init that finds another one running says so.
if [ "$1" = init ]; then
	mkdir "$PROBE/held" 2>/dev/null || echo overlap >>"$PROBE/overlaps"
	"$REAL_TF" "$@"
	rc=$?
	rmdir "$PROBE/held" 2>/dev/null
	exit $rc
fi
exec "$REAL_TF" "$@"
`})
			if err := os.Chmod(wrapper, 0o755); err != nil {
				t.Fatal(err)
			}
			const stacks = 6
			var names []string
			files := map[string]string{}
			for i := range stacks {
				name := fmt.Sprintf("s%d", i)
				names = append(names, name)
				files["stacks/"+name+"/main.tf"] = `
terraform {
  required_providers {
    fake = {
      source  = "example.com/tmci/fake"
      version = "1.0.0"
    }
  }
}
`
			}
			writeFiles(t, dir, files)

			for _, shared := range []bool{true, false} {
				if err := os.RemoveAll(probe); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(probe, 0o755); err != nil {
					t.Fatal(err)
				}
				p := project{root: dir, work: filepath.Join(dir, ".tmci", fmt.Sprint(shared))}
				env := []string{"TF_CLI_CONFIG_FILE=" + cfg, "PROBE=" + probe, "REAL_TF=" + bin}
				if shared {
					env = append(env, "TF_PLUGIN_CACHE_DIR="+filepath.Join(p.work, "plugin-cache"))
					if err := os.MkdirAll(filepath.Join(p.work, "plugin-cache"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				r := newRunner(t, wrapper, env...)
				opts := scheduler.Options{Parallel: stacks, Logs: scheduler.LogFiles(p.logPath)}
				rs, err := scheduler.Run(t.Context(), scheduler.Deps{Order: names}, opts,
					func(ctx context.Context, name string, out io.Writer) (struct{}, error) {
						s := p.stack(name, "")
						s.Out = out
						return struct{}{}, r.Init(ctx, s)
					})
				if err != nil {
					t.Fatal(err)
				}
				for _, res := range rs {
					if res.Status != scheduler.Succeeded {
						log, _ := os.ReadFile(p.logPath(res.Node))
						t.Fatalf("init of %s: %v %v\n%s", res.Node, res.Status, res.Err, log)
					}
					lock, err := os.ReadFile(filepath.Join(dir, "stacks", res.Node, ".terraform.lock.hcl"))
					if err != nil || !bytes.Contains(lock, []byte(`"example.com/tmci/fake"`)) {
						t.Errorf("%s: lock file lacks the provider (%v)", res.Node, err)
					}
				}
				overlaps, _ := os.ReadFile(filepath.Join(probe, "overlaps"))
				switch {
				case shared && len(overlaps) > 0:
					t.Errorf("inits ran at once while sharing a plugin cache")
				case !shared && len(overlaps) == 0 && runtime.NumCPU() > 1:
					// Without a cache inits run in parallel; if none ever
					// overlapped, the probe proves nothing above.
					t.Errorf("the probe saw no overlap without a cache: it cannot detect one")
				}
				if shared {
					cached := listFiles(t, filepath.Join(p.work, "plugin-cache"))
					want := []string{"example.com/tmci/fake/1.0.0/" + runtime.GOOS + "_" + runtime.GOARCH + "/terraform-provider-fake_v1.0.0"}
					if diff := cmp.Diff(want, cached); diff != "" {
						t.Errorf("plugin cache (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

// fakeProviderMirror writes a provider package into a filesystem mirror in
// the packed layout. init installs it without running it.
func fakeProviderMirror(t *testing.T, mirror string) {
	t.Helper()
	dir := filepath.Join(mirror, "example.com", "tmci", "fake")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("terraform-provider-fake_1.0.0_%s_%s.zip", runtime.GOOS, runtime.GOARCH)))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "terraform-provider-fake_v1.0.0", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	// A few hundred KiB, so that installing takes a moment.
	body := "#!/bin/sh\necho 'this fake provider only exists to be installed' >&2\nexit 1\n" + strings.Repeat("#\n", 200_000)
	if _, err := io.WriteString(w, body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
