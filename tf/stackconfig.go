package tf

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/repofile"
)

// maxConfigFile bounds one Terraform file tmci reads to decide about init;
// a larger one is a doubt, and doubt means running init as before.
const maxConfigFile = 8 << 20

// maxModuleDirs bounds the local module directories followed from one
// stack.
const maxModuleDirs = 256

// errDoubt says that what init depends on could not be read with
// certainty; the caller then runs init, and runs it alone when a plugin
// cache is shared.
var errDoubt = errors.New("cannot tell what init depends on")

// stackConfig is what init depends on in a stack's Terraform code: the
// files of the stack's directory and of the local modules it calls,
// followed transitively, and the providers they need.
type stackConfig struct {
	// digest is the SHA-256 over every Terraform file's name and content
	// in those directories, and the stack's dependency lock file.
	digest string
	// providers are the provider source addresses the code needs, as
	// written ("ns/type", "host/ns/type"), lower case; an implied provider
	// is "hashicorp/<local name>".
	providers map[string]bool
	// remoteModules is set when a module's source is not a local path:
	// its own requirements are known only after init installed it.
	remoteModules bool
	// locked are the providers of the stack's dependency lock file, read
	// with the digest; lockErr is errDoubt when the file is missing
	// (lockMissing) or cannot be read with certainty.
	locked      []lockedProvider
	lockErr     error
	lockMissing bool
}

// isConfigFile reports whether terraform or tofu reads the file name as
// configuration (overrides included); terraform ignores names starting
// with ".", editor backups ending in "~" and emacs' "#name#", which no
// extension below ends. A name that merely starts with "#" is read.
func isConfigFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	for _, ext := range []string{".tf", ".tf.json", ".tofu", ".tofu.json"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// readStackConfig reads the Terraform code of the stack directory dir
// and, transitively, of the local modules it calls, none of which, nor
// any of their files or the lock file, may leave root (the repository)
// through a symbolic link. Any file it cannot
// read or parse is errDoubt.
func readStackConfig(root, dir string) (stackConfig, error) {
	if root == "" {
		root = dir
	}
	rr, err := repofile.NewRoot(root)
	if err != nil {
		return stackConfig{}, errDoubt
	}
	c := stackConfig{providers: map[string]bool{}}
	h := sha256.New()
	seen := map[string]bool{}
	queue := []string{dir}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		real, err := rr.Inside(d)
		if err != nil {
			return stackConfig{}, errDoubt
		}
		if seen[real] {
			continue
		}
		if seen[real] = true; len(seen) > maxModuleDirs {
			return stackConfig{}, errDoubt
		}
		mods, err := c.readDir(h, rr, real)
		if err != nil {
			return stackConfig{}, err
		}
		for _, m := range mods {
			queue = append(queue, filepath.Join(real, filepath.FromSlash(m)))
		}
	}
	if hasTestFiles(dir) || hasTestFiles(filepath.Join(dir, "tests")) {
		return stackConfig{}, errDoubt
	}
	lockFile := filepath.Join(dir, lockFileName)
	if fi, err := os.Lstat(lockFile); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if _, err := rr.Inside(lockFile); err != nil {
			return stackConfig{}, errDoubt
		}
	}
	lock, err := repofile.Read(lockFile, maxConfigFile)
	switch {
	case err == nil:
		fmt.Fprintf(h, "lock %d\n", len(lock))
		h.Write(lock)
		c.locked, c.lockErr = parseLockFile(lock, lockFile)
	case errors.Is(err, os.ErrNotExist):
		c.lockErr, c.lockMissing = errDoubt, true
	default:
		return stackConfig{}, errDoubt
	}
	c.digest = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// hasTestFiles reports whether dir may hold test files: terraform 1.6
// and tofu read them at init (in the stack and its "tests" directory) for
// the modules and providers their run blocks use, which readDir does not
// follow. A directory that cannot be listed, but exists, counts as one.
func hasTestFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	for _, e := range entries {
		for _, ext := range []string{".tftest.hcl", ".tftest.json", ".tofutest.hcl", ".tofutest.json"} {
			if strings.HasSuffix(e.Name(), ext) {
				return true
			}
		}
	}
	return false
}

// lockFileName is the dependency lock file terraform keeps in the stack
// directory.
const lockFileName = ".terraform.lock.hcl"

// readDir hashes and parses the configuration files of one module
// directory into c and returns the local module sources it calls.
func (c *stackConfig) readDir(h io.Writer, rr repofile.Root, dir string) (modules []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errDoubt
	}
	fmt.Fprintf(h, "dir %q\n", dir)
	m := moduleCode{local: map[string]string{}, used: map[string]bool{}}
	for _, e := range entries {
		if !isConfigFile(e.Name()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if _, err := rr.Inside(name); err != nil {
				return nil, errDoubt
			}
		}
		src, err := repofile.Read(name, maxConfigFile)
		if err != nil {
			return nil, errDoubt
		}
		fmt.Fprintf(h, "file %q %d\n", e.Name(), len(src))
		h.Write(src)
		if err := m.parse(e.Name(), src); err != nil {
			return nil, err
		}
	}
	for name := range m.used {
		if name == "terraform" && m.local[name] == "" {
			continue // the built-in provider of terraform_data
		}
		addr := m.local[name]
		if addr == "" {
			addr = "hashicorp/" + name
		}
		c.providers[addr] = true
	}
	for _, addr := range m.local {
		c.providers[addr] = true
	}
	c.remoteModules = c.remoteModules || m.remote
	return m.modules, nil
}

// moduleCode is what one module directory's files say about providers.
type moduleCode struct {
	// local maps a required_providers local name to its source address.
	local map[string]string
	// used holds the local names resources, data sources and provider
	// blocks refer to.
	used    map[string]bool
	modules []string
	remote  bool
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "terraform"},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "check", LabelNames: []string{"name"}},
	{Type: "import"},
	{Type: "ephemeral", LabelNames: []string{"type", "name"}},
}}

var terraformSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "required_providers"}}}

var resourceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "provider"}}}

var moduleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}}}

func (m *moduleCode) parse(name string, src []byte) error {
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		f, diags = boundedhcl.ParseJSON(src, name)
	} else {
		f, diags = boundedhcl.ParseConfig(src, name)
	}
	if diags.HasErrors() || f == nil {
		return errDoubt
	}
	content, _, diags := f.Body.PartialContent(fileSchema)
	if diags.HasErrors() {
		return errDoubt
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "terraform":
			if err := m.requiredProviders(b.Body); err != nil {
				return err
			}
		case "provider":
			m.used[b.Labels[0]] = true
		case "resource", "data", "ephemeral":
			if err := m.resource(b); err != nil {
				return err
			}
		case "module":
			if err := m.module(b.Body); err != nil {
				return err
			}
		default:
			// check blocks may hold scoped data sources, and import
			// blocks name providers: not read here, so doubt.
			return errDoubt
		}
	}
	return nil
}

func (m *moduleCode) requiredProviders(body hcl.Body) error {
	content, _, diags := body.PartialContent(terraformSchema)
	if diags.HasErrors() {
		return errDoubt
	}
	for _, b := range content.Blocks {
		attrs, diags := b.Body.JustAttributes()
		if diags.HasErrors() {
			return errDoubt
		}
		for name, attr := range attrs {
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() || !v.IsKnown() || v.IsNull() {
				return errDoubt
			}
			source := "hashicorp/" + name
			switch {
			case v.Type() == cty.String:
				// The legacy form: a version constraint alone.
			case v.Type().IsObjectType():
				if v.Type().HasAttribute("source") {
					s := v.GetAttr("source")
					if s.Type() != cty.String || !s.IsKnown() || s.IsNull() {
						return errDoubt
					}
					source = s.AsString()
				}
			default:
				return errDoubt
			}
			m.local[name] = normalizeSource(source)
		}
	}
	return nil
}

func (m *moduleCode) resource(b *hcl.Block) error {
	content, _, diags := b.Body.PartialContent(resourceSchema)
	if diags.HasErrors() {
		return errDoubt
	}
	if attr, ok := content.Attributes["provider"]; ok {
		t, diags := hcl.AbsTraversalForExpr(attr.Expr)
		if diags.HasErrors() {
			return errDoubt
		}
		m.used[t.RootName()] = true
		return nil
	}
	prefix, _, _ := strings.Cut(b.Labels[0], "_")
	m.used[prefix] = true
	return nil
}

func (m *moduleCode) module(body hcl.Body) error {
	content, _, diags := body.PartialContent(moduleSchema)
	if diags.HasErrors() {
		return errDoubt
	}
	attr, ok := content.Attributes["source"]
	if !ok {
		return errDoubt
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
		return errDoubt
	}
	s := v.AsString()
	if strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		m.modules = append(m.modules, s)
	} else {
		m.remote = true
	}
	return nil
}

// normalizeSource returns a provider source address in lower case with
// the implied namespace of a one-part address.
func normalizeSource(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.Contains(s, "/") {
		return "hashicorp/" + s
	}
	return s
}

// covers reports whether the locked provider address (host/ns/type)
// satisfies the required source address. A source address without a
// host means terraform's default registry, or OpenTofu's.
func covers(locked, required string) bool {
	if strings.Count(required, "/") == 2 {
		return locked == required
	}
	for _, h := range [...]string{"registry.terraform.io", "registry.opentofu.org"} {
		if locked == h+"/"+required {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
