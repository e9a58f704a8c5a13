// Package redact masks a run's secret values in everything tmci writes
// or prints (DESIGN.md §9): the console, every stack's log, the reports
// and error messages.
//
// A Set holds the secrets known so far and grows while tmci learns them
// (a backend resolved, a sensitive() value evaluated). Each secret is
// registered with the forms it takes when something encodes it: URL
// escaping (terraform prints a pg conn_str as given), JSON and Go string
// escaping, HTML/XML escaping, HCL template escaping and the quoting of
// libpq's keyword form. A Writer masks a stream whose writes may cut a
// secret anywhere: it holds back only the longest tail that could still
// grow into a secret, so output is delayed by at most one secret's length.
package redact

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces every secret, as GitHub Actions masks its own.
const Mask = "***"

// Set is the secrets of one run. The zero value is empty and ready; a
// nil *Set masks nothing. It is safe for concurrent use.
type Set struct {
	mu       sync.RWMutex
	patterns int           // number of forms
	byFirst  [256][][]byte // forms by first byte, longest first
	// pair[a][b] is whether a form starts with a, b; short[a] whether
	// "a" is a form. Together they reject almost every position at once.
	pair  *[256][256]bool
	short [256]bool
	seen  map[string]bool
}

// Add registers secret values and their encoded forms. Empty values are
// ignored. Short values are masked too: a one-character password masks
// every occurrence of that character, garbling output rather than leaking.
func (s *Set) Add(values ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, v := range values {
		for _, f := range Forms(v) {
			if f == "" || s.seen[f] {
				continue
			}
			s.seen[f] = true
			s.patterns++
			list := append(s.byFirst[f[0]], []byte(f))
			slices.SortStableFunc(list, func(a, b []byte) int { return len(b) - len(a) })
			s.byFirst[f[0]] = list
			if s.pair == nil {
				s.pair = new([256][256]bool)
			}
			if len(f) == 1 {
				s.short[f[0]] = true
			} else {
				s.pair[f[0]][f[1]] = true
			}
		}
	}
}

// Len is the number of registered forms.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.patterns
}

// Forms returns v and the forms an encoder may turn it into, each once.
func Forms(v string) []string {
	if v == "" {
		return nil
	}
	jsonInner := func(escapeHTML bool) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		_ = enc.Encode(v)
		out := strings.TrimSuffix(b.String(), "\n")
		return out[1 : len(out)-1]
	}
	quoted := strconv.Quote(v)
	userinfo := (&url.URL{User: url.UserPassword("u", v)}).String() // "//u:...@"
	forms := []string{
		v,
		url.QueryEscape(v),
		url.PathEscape(v),
		strings.TrimSuffix(strings.TrimPrefix(userinfo, "//u:"), "@"),
		jsonInner(true),
		jsonInner(false),
		quoted[1 : len(quoted)-1],
		html.EscapeString(v),
		xmlEscape(v),
		strings.NewReplacer("${", "$${", "%{", "%%{").Replace(v),
		strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v),
	}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// xmlEscape is encoding/xml's EscapeText, which also escapes newlines and
// tabs as character references.
func xmlEscape(v string) string {
	return strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;", `'`, "&#39;",
		"\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;").Replace(v)
}

// String returns s with every secret masked.
func (s *Set) String(text string) string {
	if s.Len() == 0 {
		return text
	}
	out, _ := s.mask(nil, []byte(text), true)
	return string(out)
}

// Bytes returns b with every secret masked (a new slice when something
// was masked).
func (s *Set) Bytes(b []byte) []byte {
	if s.Len() == 0 {
		return b
	}
	out, _ := s.mask(nil, b, true)
	return out
}

// mask appends buf to dst with every secret replaced by Mask. Unless
// final, it stops at the first position where the rest of buf is a proper
// prefix of a secret (it could still complete with the next write) and
// returns that rest as held. O(len(buf) · forms sharing a first byte ·
// their length) in the worst case; bytes that start no secret are copied
// in runs.
func (s *Set) mask(dst, buf []byte, final bool) (out, held []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, copied := 0, 0
	for i < len(buf) {
		c := buf[i]
		candidates := s.byFirst[c]
		if len(candidates) == 0 || i+1 < len(buf) && !s.short[c] && !s.pair[c][buf[i+1]] {
			i++
			continue
		}
		matched, partial := 0, false
		for _, p := range candidates {
			rest := buf[i:]
			if len(rest) >= len(p) {
				if bytes.HasPrefix(rest, p) {
					matched = len(p) // longest first: the first match is the longest
					break
				}
			} else if !final && bytes.HasPrefix(p, rest) {
				partial = true
			}
		}
		switch {
		case partial:
			// A longer secret may complete here: hold from i on, even when
			// a shorter one already matches.
			dst = append(dst, buf[copied:i]...)
			return dst, buf[i:]
		case matched > 0:
			dst = append(dst, buf[copied:i]...)
			dst = append(dst, Mask...)
			i += matched
			copied = i
		default:
			i++
		}
	}
	return append(dst, buf[copied:]...), nil
}

// Writer masks the secrets of a Set in a stream written to W. Call Flush
// (or Close) at the end of the stream to release what it holds back. It is
// safe for concurrent use; concurrent writers must still write whole
// units (lines) if their output must not interleave.
type Writer struct {
	set  *Set
	w    io.Writer
	mu   sync.Mutex
	held []byte
	in   []byte // scratch: held and the write
	out  []byte // scratch: the masked text
}

// NewWriter returns a Writer masking set's secrets on their way to w.
func NewWriter(set *Set, w io.Writer) *Writer { return &Writer{set: set, w: w} }

// Write masks p, with whatever the previous write held back before it,
// and writes all of it but a possible secret's beginning. It reports
// len(p) on success.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.set.Len() == 0 && len(w.held) == 0 {
		return w.write(p, len(p))
	}
	// in and out are reused: a log is written in many small pieces.
	w.in = append(append(w.in[:0], w.held...), p...)
	out, held := w.set.mask(w.out[:0], w.in, false)
	w.held = append(w.held[:0], held...)
	w.out = out
	return w.write(out, len(p))
}

func (w *Writer) write(b []byte, n int) (int, error) {
	if len(b) == 0 {
		return n, nil
	}
	if _, err := w.w.Write(b); err != nil {
		return 0, err
	}
	return n, nil
}

// Flush writes what is held back, masked: the stream ended, so it can no
// longer grow into a secret.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return nil
	}
	out, _ := w.set.mask(nil, w.held, true)
	w.held = nil
	_, err := w.write(out, 0)
	return err
}

// Close flushes and closes W when it is an io.Closer.
func (w *Writer) Close() error {
	err := w.Flush()
	if c, ok := w.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Value masks every string reachable from ptr (struct fields, slices,
// maps, pointers), in place. It is for report values before they are
// rendered, so that no rendering's escaping hides a secret from the
// byte-level pass.
func (s *Set) Value(ptr any) {
	if s.Len() == 0 {
		return
	}
	s.walk(reflect.ValueOf(ptr))
}

func (s *Set) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			s.walk(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.walk(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			if v.CanSet() {
				v.SetBytes(s.Bytes(v.Bytes()))
			}
			return
		}
		for i := range v.Len() {
			s.walk(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			s.walk(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(s.String(v.String()))
		}
	}
}
