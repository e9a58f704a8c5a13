package tf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

// cacheFixture is a plugin cache holding one provider and two stacks
// needing it: reader has a lock file matching the cache, writer has none.
type cacheFixture struct {
	cache          string
	reader, writer Stack
	cfg            stackConfig
}

func newCacheFixture(t *testing.T) cacheFixture {
	t.Helper()
	root := t.TempDir()
	entry := filepath.Join(root, "cache", "tmci.test", "tmci", "fixture", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	writeTree(t, entry, map[string]string{"terraform-provider-fixture_v1.0.0": "binary"})
	sum, err := dirhash.HashDir(entry, "", dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	code := `terraform {
  required_providers {
    fixture = { source = "tmci.test/tmci/fixture" }
  }
}
`
	writeTree(t, root, map[string]string{
		"reader/main.tf": code,
		"reader/" + lockFileName: fmt.Sprintf("provider %q {\n  version = \"1.0.0\"\n  hashes = [%q]\n}\n",
			"tmci.test/tmci/fixture", sum),
		"writer/main.tf": code,
	})
	cfg, err := readStackConfig(root, filepath.Join(root, "reader"))
	if err != nil {
		t.Fatal(err)
	}
	return cacheFixture{
		cache:  filepath.Join(root, "cache"),
		reader: Stack{Dir: filepath.Join(root, "reader"), Root: root},
		writer: Stack{Dir: filepath.Join(root, "writer"), Root: root},
		cfg:    cfg,
	}
}

// blocked starts run(fn) where fn signals its start and waits for
// release; it returns the started and done channels.
func blocked(run func(fn func() error) error, release <-chan struct{}) (started, done chan struct{}) {
	started, done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = run(func() error { close(started); <-release; return nil })
	}()
	return started, done
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func never(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s", what)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestPluginCacheReadersTogether: two inits the cache serves run at once.
func TestPluginCacheReadersTogether(t *testing.T) {
	f := newCacheFixture(t)
	var c pluginCache
	release := make(chan struct{})
	run := func(fn func() error) error { return c.run(f.cache, f.cfg, nil, fn) }
	s1, d1 := blocked(run, release)
	s2, d2 := blocked(run, release)
	waitFor(t, s1, "the first reader's start")
	waitFor(t, s2, "the second reader's start while the first runs")
	close(release)
	waitFor(t, d1, "the first reader's end")
	waitFor(t, d2, "the second reader's end")
}

// TestPluginCacheWriterAlone: an init that may write the cache (no lock
// file; or any doubt) runs with no reader beside it, and readers queued
// behind it run once it is done.
func TestPluginCacheWriterAlone(t *testing.T) {
	f := newCacheFixture(t)
	writerCfg, err := readStackConfig(f.writer.Root, f.writer.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cfg    stackConfig
		cfgErr error
	}{
		{"no lock file", writerCfg, nil},
		{"doubt", f.cfg, errDoubt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c pluginCache
			wRelease, rRelease := make(chan struct{}), make(chan struct{})
			ws, wd := blocked(func(fn func() error) error { return c.run(f.cache, tc.cfg, tc.cfgErr, fn) }, wRelease)
			waitFor(t, ws, "the writer's start")
			rs, rd := blocked(func(fn func() error) error { return c.run(f.cache, f.cfg, nil, fn) }, rRelease)
			never(t, rs, "a reader started while a writer ran")
			close(wRelease)
			waitFor(t, wd, "the writer's end")
			waitFor(t, rs, "the reader's start after the writer")
			close(rRelease)
			waitFor(t, rd, "the reader's end")
		})
	}
}

// TestPluginCacheColdStart: inits that arrive while the first one fills an
// empty cache wait for it, then find the cache serving them and run side
// by side rather than one after the other.
func TestPluginCacheColdStart(t *testing.T) {
	f := newCacheFixture(t)
	entry := filepath.Join(f.cache, "tmci.test", "tmci", "fixture", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	aside := filepath.Join(t.TempDir(), "entry")
	if err := os.Rename(entry, aside); err != nil {
		t.Fatal(err)
	}
	var c pluginCache
	release, fill := make(chan struct{}), make(chan struct{})
	// The first init finds the cache empty and installs the provider.
	reader := func(fn func() error) error { return c.run(f.cache, f.cfg, nil, fn) }
	first, wd := blocked(reader, fill)
	waitFor(t, first, "the first init's start")
	s1, d1 := blocked(reader, release)
	s2, d2 := blocked(reader, release)
	never(t, s1, "an init started while the cache was being filled")
	if err := os.Rename(aside, entry); err != nil {
		t.Fatal(err)
	}
	close(fill)
	waitFor(t, s1, "the first waiting init's start")
	waitFor(t, s2, "the second waiting init's start beside it")
	close(release)
	for _, d := range []chan struct{}{wd, d1, d2} {
		waitFor(t, d, "an init's end")
	}
}

// TestPluginCacheRehashesAChangedEntry: a cache entry replaced behind the
// runner's back (another process) is checked again, not served from the
// memo.
func TestPluginCacheRehashesAChangedEntry(t *testing.T) {
	f := newCacheFixture(t)
	var c pluginCache
	if !c.serves(f.cache, f.cfg) {
		t.Fatal("the cache does not serve a stack whose lock file matches it")
	}
	entry := filepath.Join(f.cache, "tmci.test", "tmci", "fixture", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.WriteFile(filepath.Join(entry, "terraform-provider-fixture_v1.0.0"), []byte("another binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if c.serves(f.cache, f.cfg) {
		t.Error("a changed cache entry still serves the old lock file")
	}
	if err := os.RemoveAll(entry); err != nil {
		t.Fatal(err)
	}
	if c.serves(f.cache, f.cfg) {
		t.Error("a removed cache entry serves")
	}
}

// TestPluginCacheServes: the cache serves a stack only when its lock file
// covers every provider its code needs, its code calls no remote module,
// and each locked provider is in the cache with a hash the lock file
// lists.
func TestPluginCacheServes(t *testing.T) {
	f := newCacheFixture(t)
	var c pluginCache
	if !c.serves(f.cache, f.cfg) {
		t.Fatal("the cache does not serve a stack whose lock file it matches")
	}
	writerCfg, err := readStackConfig(f.writer.Root, f.writer.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.serves(f.cache, writerCfg) {
		t.Error("the cache serves a stack without a lock file")
	}
	remote := f.cfg
	remote.remoteModules = true
	if c.serves(f.cache, remote) {
		t.Error("the cache serves a stack calling a remote module")
	}
	more := f.cfg
	more.providers = map[string]bool{"tmci.test/tmci/fixture": true, "hashicorp/aws": true}
	if c.serves(f.cache, more) {
		t.Error("the cache serves a stack needing a provider its lock file lacks")
	}
	if c.serves(filepath.Join(filepath.Dir(f.cache), "empty"), f.cfg) {
		t.Error("an empty cache serves the stack")
	}
	lock := filepath.Join(f.reader.Dir, lockFileName)
	writeTree(t, f.reader.Dir, map[string]string{lockFileName: "provider \"tmci.test/tmci/fixture\" {\n  version = \"1.0.0\"\n  hashes = [\"h1:other=\"]\n}\n"})
	otherHash, err := readStackConfig(f.reader.Root, f.reader.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.serves(f.cache, otherHash) {
		t.Errorf("the cache serves a stack whose lock file (%s) lists another hash", lock)
	}
}
