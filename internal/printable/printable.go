// Package printable makes text from an untrusted repository safe to show
// on a terminal or in a CI log: a path or name holding a newline could
// start a GitHub workflow command at the beginning of a line, and an ANSI
// escape could rewrite what a reader sees.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe reports whether s holds no control character (C0, DEL, C1),
// no Unicode format character (bidirectional overrides) and only valid
// UTF-8.
func Safe(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// String returns s with every character Safe refuses written as a Go
// escape (\n, \x1b, \u202e), and s itself when it is safe.
func String(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Lines applies String to each line of s, keeping its newlines: for
// messages whose line breaks are tmci's own.
func Lines(s string) string {
	if Safe(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = String(l)
	}
	return strings.Join(lines, "\n")
}
