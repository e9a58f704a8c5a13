package tf_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/fixtureprovider"
	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// fixtureStack uses every kind of object of the fixture provider.
const fixtureStack = `
terraform {
  required_providers {
    fixture = {
      source  = "tmci.test/tmci/fixture"
      version = "1.0.0"
    }
  }
}
resource "fixture_counter" "c" {
  name  = "c"
  value = 1
}
data "fixture_build" "b" {}
output "padding" {
  value = data.fixture_build.b.padding_bytes
}
`

// initProbe is a wrapper around the real binary that records every
// command it runs and, for init, its start and end in nanoseconds.
const initProbe = `#!/bin/sh
now() { date +%s%N; }
echo "cmd $1 $PWD" >>"$PROBE"
if [ "$1" = init ]; then
	echo "start $(now) $PWD" >>"$PROBE"
	"$REAL_TF" "$@"
	rc=$?
	echo "end $(now) $PWD" >>"$PROBE"
	exit $rc
fi
exec "$REAL_TF" "$@"
`

type initSpan struct {
	dir        string
	start, end int64
}

// readProbe returns the commands the probe saw (subcommand and
// directory) and the spans of the inits.
func readProbe(t *testing.T, file string) (cmds []string, spans []initSpan) {
	t.Helper()
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		if kind == "cmd" {
			cmds = append(cmds, rest)
			continue
		}
		ts, dir, _ := strings.Cut(rest, " ")
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("probe line %q: %v", sc.Text(), err)
		}
		if kind == "start" {
			open[dir] = n
		} else {
			spans = append(spans, initSpan{dir, open[dir], n})
		}
	}
	return cmds, spans
}

// TestPluginCacheInstallsEachProviderOnce inits stacks that use a real
// provider (terraform-plugin-framework, from a filesystem mirror) with a
// cold TF_PLUGIN_CACHE_DIR at --parallel 3, their lock files committed:
// terraform installs the provider into the cache once, alone, and the
// other inits link it side by side. Then InitIfNeeded skips every init
// whose inputs did not change, redoes the one whose code changed, and
// redoes them all once the cache they link into is gone.
func TestPluginCacheInstallsEachProviderOnce(t *testing.T) {
	bins := map[string]string{}
	for _, name := range binaries {
		bins[name] = requireBinary(t, name)
	}
	work := t.TempDir()
	cliConfig, err := fixtureprovider.Setup(t.Context(), os.Environ(), filepath.Join("..", "testdata", "provider"), work, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := bins[binName]
			dir := t.TempDir()
			wrapper := filepath.Join(dir, "tf-probe")
			writeFiles(t, dir, map[string]string{"tf-probe": initProbe})
			if err := os.Chmod(wrapper, 0o755); err != nil {
				t.Fatal(err)
			}
			// The lock file a developer would commit, made by one init.
			writeFiles(t, dir, map[string]string{"lock/main.tf": fixtureStack})
			if err := newRunner(t, bin, "TF_CLI_CONFIG_FILE="+cliConfig).Init(t.Context(), tf.Stack{Dir: filepath.Join(dir, "lock")}); err != nil {
				t.Fatal(err)
			}
			lock, err := os.ReadFile(filepath.Join(dir, "lock", ".terraform.lock.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			const stacks = 6
			var names []string
			files := map[string]string{}
			for i := range stacks {
				name := fmt.Sprintf("s%d", i)
				names = append(names, name)
				files["stacks/"+name+"/main.tf"] = fixtureStack
				files["stacks/"+name+"/.terraform.lock.hcl"] = string(lock)
			}
			writeFiles(t, dir, files)
			cache := filepath.Join(dir, "plugin-cache")
			probe := filepath.Join(dir, "probe")
			p := project{root: dir, work: filepath.Join(dir, ".tmci")}
			r := newRunner(t, wrapper, "TF_CLI_CONFIG_FILE="+cliConfig, "TF_PLUGIN_CACHE_DIR="+cache, "PROBE="+probe, "REAL_TF="+bin)

			// initAll runs InitIfNeeded in every stack and returns the
			// directories whose init ran, from the probe, and the logs.
			initAll := func() (inited []string, spans []initSpan, logs map[string]string) {
				t.Helper()
				if err := os.MkdirAll(cache, 0o755); err != nil {
					t.Fatal(err)
				}
				os.Remove(probe)
				opts := scheduler.Options{Parallel: 3, Logs: scheduler.LogFiles(p.logPath)}
				rs, err := scheduler.Run(t.Context(), scheduler.Deps{Order: names}, opts,
					func(ctx context.Context, name string, out io.Writer) (bool, error) {
						s := p.stack(name, "")
						s.Root, s.Out = dir, out
						return r.InitIfNeeded(ctx, s)
					})
				if err != nil {
					t.Fatal(err)
				}
				logs = map[string]string{}
				for _, res := range rs {
					log, _ := os.ReadFile(p.logPath(res.Node))
					logs[res.Node] = string(log)
					if res.Status != scheduler.Succeeded {
						t.Fatalf("init of %s: %v %v\n%s", res.Node, res.Status, res.Err, log)
					}
				}
				cmds, spans := readProbe(t, probe)
				for _, c := range cmds {
					sub, d, _ := strings.Cut(c, " ")
					if sub != "init" {
						t.Errorf("probe saw %q, want init only", c)
					}
					inited = append(inited, filepath.Base(d))
				}
				sort.Strings(inited)
				return inited, spans, logs
			}
			// coldCache checks one run from an empty cache in which every
			// stack inits, or, with skips, may skip an init once the
			// provider is back in the cache its data directory links to.
			coldCache := func(skips bool, inited []string, spans []initSpan, logs map[string]string) {
				t.Helper()
				if diff := cmp.Diff(names, inited); diff != "" && !skips {
					t.Fatalf("inits (-want +got):\n%s", diff)
				}
				var installer []string
				for name, log := range logs {
					switch {
					case strings.Contains(log, "Installing tmci.test/tmci/fixture v1.0.0"):
						installer = append(installer, name)
					case skips && (strings.HasPrefix(log, "tmci: init skipped") || strings.Contains(log, "Using previously-installed tmci.test/tmci/fixture v1.0.0")):
					case !strings.Contains(log, "Using tmci.test/tmci/fixture v1.0.0 from the shared cache directory"):
						t.Errorf("%s neither installed the provider nor used the cache:\n%s", name, log)
					}
				}
				if len(installer) != 1 {
					t.Fatalf("stacks that installed the provider into the cache: %v, want exactly one", installer)
				}
				var writer initSpan
				for _, s := range spans {
					if filepath.Base(s.dir) == installer[0] {
						writer = s
					}
				}
				readersOverlap := false
				for i, a := range spans {
					for _, b := range spans[i+1:] {
						if a.start < b.end && b.start < a.end {
							if a == writer || b == writer {
								t.Errorf("the init installing into the cache (%s) ran beside %s", installer[0], filepath.Base(b.dir))
							} else {
								readersOverlap = true
							}
						}
					}
				}
				// With nothing skipped, five inits read the cache three at
				// a time: some must have overlapped.
				if !skips && !readersOverlap && runtime.NumCPU() > 1 {
					t.Errorf("no two inits reading the cache ran at once: %+v", spans)
				}
				cached := listFiles(t, cache)
				want := []string{"tmci.test/tmci/fixture/1.0.0/" + runtime.GOOS + "_" + runtime.GOARCH + "/terraform-provider-fixture_v1.0.0"}
				if diff := cmp.Diff(want, cached); diff != "" {
					t.Errorf("plugin cache (-want +got):\n%s", diff)
				}
			}

			inited, spans, logs := initAll()
			coldCache(false, inited, spans, logs)

			// Nothing changed: no init runs, and each log says why.
			inited, _, logs = initAll()
			if len(inited) != 0 {
				t.Errorf("inits ran again with nothing changed: %v", inited)
			}
			for name, log := range logs {
				if !strings.Contains(log, "tmci: init skipped") {
					t.Errorf("%s: the log does not say init was skipped:\n%s", name, log)
				}
			}

			// One stack's code changed: that one inits.
			writeFiles(t, dir, map[string]string{"stacks/s2/main.tf": fixtureStack + "output \"x\" {\n  value = 1\n}\n"})
			if inited, _, _ := initAll(); !cmp.Equal(inited, []string{"s2"}) {
				t.Errorf("after changing s2, inits ran in %v, want [s2]", inited)
			}

			// The cache the data directories link into is gone: the
			// stacks that start first find their provider link broken and
			// init, one of them installs the provider, and the later ones
			// may find their link whole again.
			if err := os.RemoveAll(cache); err != nil {
				t.Fatal(err)
			}
			inited, spans, logs = initAll()
			coldCache(true, inited, spans, logs)

			// The provider runs: a plan of one stack reads its data source.
			s := p.stack("s0", "")
			s.Root = dir
			var out bytes.Buffer
			s.Out = &out
			changes, err := r.Plan(t.Context(), s, filepath.Join(p.work, "s0.tfplan"))
			if err != nil || !changes || !strings.Contains(out.String(), "fixture_counter.c") {
				t.Errorf("plan with the provider: changes %v, err %v\n%s", changes, err, out.String())
			}
		})
	}
}
