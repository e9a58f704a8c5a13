package tf

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
)

// pluginCache coordinates the inits of one runner that share a
// TF_PLUGIN_CACHE_DIR. Terraform does not lock the cache: an init that
// installs a provider removes and unpacks its directory there, and
// another init reading that directory at the same moment fails its
// checksum (terraform issue 31964). Reading is safe, though, so:
//
//   - an init that will only read the cache runs beside other readers,
//     under mu held shared. It is one whose stack has a dependency lock
//     file covering every provider its code needs, whose code calls no
//     remote module, and whose every locked provider is in the cache
//     with a checksum the lock file lists: terraform then links the
//     cached package and writes nothing there (providercache.Installer,
//     terraform 1.4 and later, OpenTofu alike);
//   - any other init may write the cache and runs alone, under mu held
//     exclusively. Without a lock file terraform installs every provider
//     into the cache again, whatever the cache holds.
//
// So with committed lock files a cold cache gets each provider once, by
// the first init that needs it, and every later init reads it in
// parallel. Anything tmci cannot read with certainty counts as a writer.
type pluginCache struct {
	mu      sync.RWMutex
	writers sync.Mutex

	hashMu sync.Mutex
	// hashes holds the h1 checksum of each cache entry verified since the
	// last writer ran; a writer may replace entries, so it empties it.
	hashes map[string]hashMemo
}

// run runs init (fn) of the stack whose code (and lock file) is cfg with
// the cache at dir: as a reader when the cache already serves the stack,
// otherwise alone. cfgErr is readStackConfig's error, errDoubt.
func (c *pluginCache) run(dir string, cfg stackConfig, cfgErr error, fn func() error) error {
	serves := func() bool { return cfgErr == nil && c.serves(dir, cfg) }
	c.mu.RLock()
	if serves() {
		defer c.mu.RUnlock()
		return fn()
	}
	c.mu.RUnlock()
	// Would-be writers queue here, not on mu, so that readers go on
	// meanwhile; each checks again once the writers before it are done,
	// as one of them may have filled the cache.
	c.writers.Lock()
	c.mu.RLock()
	if serves() {
		c.writers.Unlock()
		defer c.mu.RUnlock()
		return fn()
	}
	c.mu.RUnlock()
	defer c.writers.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.forget()
	return fn()
}

// serves reports whether an init of the stack whose code is cfg only
// reads the cache at dir (see pluginCache).
func (c *pluginCache) serves(dir string, cfg stackConfig) bool {
	if cfg.remoteModules {
		return false
	}
	if cfg.lockErr != nil {
		return false
	}
	for req := range cfg.providers {
		if !slices.ContainsFunc(cfg.locked, func(p lockedProvider) bool { return covers(p.addr, req) }) {
			return false
		}
	}
	for _, p := range cfg.locked {
		entry := filepath.Join(dir, filepath.FromSlash(p.addr), p.version, runtime.GOOS+"_"+runtime.GOARCH)
		h, ok := c.hash(entry)
		if !ok || !slices.Contains(p.hashes, h) {
			return false
		}
	}
	return true
}

// hash returns the h1 checksum of a cache entry, as terraform computes
// it (the Go modules directory hash). It is computed once while the
// entry's files keep their names, sizes, times and inodes: a cache
// emptied or refilled by another process is hashed again.
func (c *pluginCache) hash(entry string) (string, bool) {
	c.hashMu.Lock()
	defer c.hashMu.Unlock()
	sig, ok := entrySignature(entry)
	if !ok {
		return "", false
	}
	if m, ok := c.hashes[entry]; ok && m.sig == sig {
		return m.sum, m.sum != ""
	}
	sum, err := dirhash.HashDir(entry, "", dirhash.Hash1)
	if err != nil {
		sum = ""
	}
	if c.hashes == nil {
		c.hashes = map[string]hashMemo{}
	}
	c.hashes[entry] = hashMemo{sig: sig, sum: sum}
	return sum, sum != ""
}

// hashMemo is a cache entry's checksum and the signature of the files it
// was computed from.
type hashMemo struct{ sig, sum string }

// entrySignature describes the files of a cache entry directory without
// reading them: name, size, modification time and inode of each.
func entrySignature(entry string) (string, bool) {
	var b strings.Builder
	err := filepath.WalkDir(entry, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%q %d %d %v %d\n", path, fi.Size(), fi.ModTime().UnixNano(), fi.Mode(), inode(fi))
		return nil
	})
	return b.String(), err == nil
}

func (c *pluginCache) forget() {
	c.hashMu.Lock()
	c.hashes = nil
	c.hashMu.Unlock()
}

// lockedProvider is one provider block of a dependency lock file.
type lockedProvider struct {
	addr, version string
	hashes        []string
}

var lockSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "provider", LabelNames: []string{"source"}}}}

var lockProviderSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "version", Required: true},
	{Name: "hashes"},
}}

// parseLockFile reads the providers of the dependency lock file src,
// named name; one it cannot read with certainty is errDoubt.
func parseLockFile(src []byte, name string) ([]lockedProvider, error) {
	f, diags := boundedhcl.ParseConfig(src, name)
	if diags.HasErrors() || f == nil {
		return nil, errDoubt
	}
	content, _, diags := f.Body.PartialContent(lockSchema)
	if diags.HasErrors() {
		return nil, errDoubt
	}
	var out []lockedProvider
	for _, b := range content.Blocks {
		attrs, _, diags := b.Body.PartialContent(lockProviderSchema)
		if diags.HasErrors() {
			return nil, errDoubt
		}
		p := lockedProvider{addr: strings.ToLower(b.Labels[0])}
		if strings.Count(p.addr, "/") != 2 || strings.Contains(p.addr, "..") {
			return nil, errDoubt
		}
		v, diags := attrs.Attributes["version"].Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
			return nil, errDoubt
		}
		p.version = v.AsString()
		if p.version == "" || strings.ContainsAny(p.version, `/\`) || p.version == ".." {
			return nil, errDoubt
		}
		if a, ok := attrs.Attributes["hashes"]; ok {
			hv, diags := a.Expr.Value(nil)
			if diags.HasErrors() || !hv.IsWhollyKnown() || hv.IsNull() || !(hv.Type().IsTupleType() || hv.Type().IsListType()) {
				return nil, errDoubt
			}
			for it := hv.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.Type() != cty.String || e.IsNull() {
					return nil, errDoubt
				}
				p.hashes = append(p.hashes, e.AsString())
			}
		}
		out = append(out, p)
	}
	return out, nil
}

var cliConfigSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "plugin_cache_dir"}}}

// cliCacheDir returns the plugin_cache_dir of the CLI configuration file
// that commands with environment env read (the first of cliConfigFiles
// that sets it), with $VARIABLES expanded as terraform does; "" when there
// is none. A configuration that cannot be read gives "": terraform then
// fails on it before touching a cache.
func cliCacheDir(env []string) string {
	vars := initEnv(env)
	for _, file := range cliConfigFiles(vars) {
		src, err := repofile.Read(file, maxConfigFile)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return ""
		}
		f, diags := boundedhcl.ParseConfig(src, file)
		if diags.HasErrors() || f == nil {
			return ""
		}
		content, _, diags := f.Body.PartialContent(cliConfigSchema)
		if diags.HasErrors() {
			return ""
		}
		attr, ok := content.Attributes["plugin_cache_dir"]
		if !ok {
			// terraform reads one of ~/.terraformrc and ~/.tofurc,
			// tofu the other: a cache in either counts.
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
			return ""
		}
		return os.Expand(v.AsString(), func(name string) string { return lookupEnv(env, name) })
	}
	return ""
}

// lookupEnv returns the last value of name in env.
func lookupEnv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}
