package backend

import (
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Canonical forms of state identities (DESIGN.md §2, "Isolation
// guarantees"). Two configurations share state exactly when the service
// reads and writes one object for both, so values are reduced to what the
// service sees: a path through a symlink is the path it points at, a
// PostgreSQL URL and its keyword form name one database, a host name is
// case-insensitive. Where a value cannot be reduced without the network or
// the run's environment (a DNS alias, an unset libpq default), the part
// carries a Note and is compared as written; notes are printed with the
// identity so the user knows what was assumed.
//
// Every backend runs in terraform's default workspace under tmci (tmci
// owns the workspace and refuses TF_WORKSPACE, see CheckWorkspaceEnv), so
// the object of a workspace-aware backend is its default-workspace object:
// s3 <key> (workspace_key_prefix only names other workspaces' objects),
// gcs <prefix>/default.tfstate, azurerm <key>, oss and cos <prefix>/<key>,
// kubernetes secret tfstate-default-<suffix>, consul <path>.

// maxLinks bounds the symlinks followed to resolve one path, as the
// kernel's ELOOP limit does: the repository is untrusted and may hold
// symlink loops.
const maxLinks = 40

// canon resolves local paths against the filesystem, caching what it
// learns about directories; it is safe for concurrent use. Resolution only
// ever calls Lstat and Readlink, never opens a file, so a FIFO or device
// in the repository cannot block it.
type canon struct {
	mu    sync.Mutex
	links map[string]linkInfo // by absolute clean path
}

type linkInfo struct {
	target string // "" when not a symlink
	exists bool
	err    bool // Lstat or Readlink failed for another reason
}

func (c *canon) lstat(p string) linkInfo {
	c.mu.Lock()
	li, ok := c.links[p]
	c.mu.Unlock()
	if ok {
		return li
	}
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		li = linkInfo{err: true}
	case fi.Mode()&fs.ModeSymlink != 0:
		li.exists = true
		li.target, err = os.Readlink(p)
		li.err = err != nil
	default:
		li.exists = true
	}
	c.mu.Lock()
	if c.links == nil {
		c.links = map[string]linkInfo{}
	}
	c.links[p] = li
	c.mu.Unlock()
	return li
}

// resolvePath returns the absolute path p (clean, absolute) names after
// following every symlink of its longest existing prefix; the part that
// does not exist yet is appended as written. note is non-empty when the
// path could not be resolved fully (a symlink loop, an unreadable
// directory), and then the path is returned as far as it was resolved.
// Cost: one Lstat per path component, cached across calls.
func (c *canon) resolvePath(p string) (resolved, note string) {
	todo := splitPath(p)
	done := "/"
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, name)
		li := c.lstat(next)
		switch {
		case li.err:
			return path.Join(append([]string{next}, todo...)...), "compared as written: " + next + " cannot be read"
		case !li.exists:
			// Nothing below a missing component exists: the rest is
			// lexical, as the backend will create it.
			return path.Join(append([]string{next}, todo...)...), ""
		case li.target == "":
			done = next
			continue
		}
		links++
		if links > maxLinks {
			return path.Join(append([]string{next}, todo...)...), "compared as written: more than 40 symlinks (a loop?) at " + next
		}
		target := li.target
		if path.IsAbs(target) {
			done = "/"
		}
		todo = append(splitPath(target), todo...)
	}
	return done, ""
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// localPath is the canonical local backend path: made absolute against
// the stack directory, cleaned, symlinks resolved.
func (c *canon) localPath(stackDir, p string) (string, string) {
	p = filepath.ToSlash(p)
	if !path.IsAbs(p) {
		p = path.Join(filepath.ToSlash(stackDir), p)
	}
	return c.resolvePath(path.Clean(p))
}

// hostName folds a host name as DNS does (case-insensitive) and the
// loopback spellings into one, removing a trailing dot.
func hostName(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsLoopback() {
			return "localhost"
		}
		return ip.String()
	}
	return h
}

// pgTarget is what a libpq connection string names: the server and the
// database. Credentials and options (sslmode) do not change the place.
type pgTarget struct {
	host, port, dbname string
	note               string
}

// pgConn parses a conn_str in URL form (postgres://, postgresql://) or
// keyword form (host=... port=... dbname=...), applying libpq's defaults
// where a value is missing: host localhost (terraform's pg backend uses
// lib/pq, whose default is localhost), port 5432, database the user name.
// A host or database a run could take from PGHOST or PGDATABASE instead is
// reported in note, since check cannot know the run's environment.
func pgConn(conn string) pgTarget {
	kv, ok := pgKeywords(conn)
	if !ok {
		return pgTarget{host: conn, note: "compared as written: not a PostgreSQL URL or keyword string"}
	}
	t := pgTarget{host: kv["host"], port: kv["port"], dbname: kv["dbname"]}
	var assumed []string
	if t.host == "" {
		t.host = "localhost"
		assumed = append(assumed, "host (PGHOST)")
	}
	if t.port == "" {
		t.port = "5432"
	}
	if t.dbname == "" {
		t.dbname = kv["user"]
		assumed = append(assumed, "database (PGDATABASE)")
	}
	hosts := strings.Split(t.host, ",")
	for i, h := range hosts {
		if !strings.HasPrefix(h, "/") {
			hosts[i] = hostName(h)
		}
	}
	t.host = strings.Join(hosts, ",")
	if len(assumed) > 0 {
		t.note = "libpq defaults assumed for " + strings.Join(assumed, ", ")
	}
	return t
}

// pgKeywords returns the parameters of a connection string in either form.
func pgKeywords(conn string) (map[string]string, bool) {
	conn = strings.TrimSpace(conn)
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			return nil, false
		}
		kv := map[string]string{}
		if u.User != nil {
			kv["user"] = u.User.Username()
		}
		kv["host"] = u.Hostname()
		kv["port"] = u.Port()
		kv["dbname"] = strings.TrimPrefix(u.Path, "/")
		for k, vs := range u.Query() {
			if len(vs) > 0 && (k == "host" || k == "port" || k == "dbname" || k == "user") {
				kv[k] = vs[len(vs)-1]
			}
		}
		return kv, true
	}
	if conn == "" {
		return map[string]string{}, true
	}
	return parseKeywords(conn)
}

// parseKeywords parses libpq's keyword=value form: values may be quoted
// with single quotes, in which \' and \\ are escapes; spaces may surround
// '='. It reports false on a malformed string.
func parseKeywords(s string) (map[string]string, bool) {
	kv := map[string]string{}
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skip()
		if i >= len(s) {
			return kv, true
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skip()
		if key == "" || i >= len(s) || s[i] != '=' {
			return nil, false
		}
		i++
		skip()
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				ch := s[i]
				if ch == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if ch == '\'' {
					closed = true
					break
				}
				val.WriteByte(ch)
			}
			if !closed {
				return nil, false
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		kv[key] = val.String()
	}
}

// httpAddress canonicalises an http URL: scheme and host folded to lower
// case, the default port dropped, the path's percent-encoding normalised.
// The path itself is compared as written: servers may or may not treat
// /a/../b and /b, or a trailing slash, as one resource.
func httpAddress(a string) (string, string) {
	u, err := url.Parse(a)
	if err != nil || u.Host == "" {
		return a, "compared as written: not a URL with a host"
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := hostName(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	out := scheme + "://" + host + (&url.URL{Path: u.Path}).EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.Query().Encode()
	}
	return out, ""
}

// consulAddress canonicalises a consul agent address: host:port, with the
// client's default 127.0.0.1:8500 and the scheme dropped (one agent serves
// both).
func consulAddress(a string) (string, string) {
	note := ""
	if a == "" {
		a = "127.0.0.1:8500"
		note = "default agent 127.0.0.1:8500 assumed (CONSUL_HTTP_ADDR)"
	}
	if i := strings.Index(a, "://"); i >= 0 {
		a = a[i+3:]
	}
	a = strings.TrimSuffix(a, "/")
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, "8500"
	}
	return net.JoinHostPort(hostName(host), port), note
}
