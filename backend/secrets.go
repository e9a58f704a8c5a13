package backend

import (
	"net/url"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// SecretValues returns every value of c that must never be printed: each
// sensitive attribute's value (list elements one by one), and the
// password inside any URL-form or keyword-form connection string, which
// terraform prints on its own (a pg backend that cannot connect quotes
// its whole conn_str, or libpq quotes parts of it). Numbers and booleans
// are left out: masking "5432" would garble output and protect nothing.
func (c *Config) SecretValues() []string {
	var out []string
	for _, n := range c.Names() {
		v := c.Attrs[n]
		for _, s := range stringsOf(v.Val) {
			if v.Sensitive {
				out = append(out, s)
			}
			if pw := ConnPassword(s); pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}

func stringsOf(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch {
	case v.Type() == cty.String:
		return []string{v.AsString()}
	case v.Type().IsCollectionType() || v.Type().IsTupleType() || v.Type().IsObjectType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, stringsOf(e)...)
		}
		return out
	}
	return nil
}

// ConnPassword returns the password of a connection string in URL form
// (scheme://user:password@host/...) or libpq's keyword form
// (host=h password='p w' ...), or "" when it holds none.
func ConnPassword(s string) string {
	if scheme, rest, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, " =") {
		if u, err := url.Parse(s); err == nil {
			if u.User == nil {
				return ""
			}
			pw, _ := u.User.Password()
			return pw
		}
		// Unparsable (terraform then prints it whole in its error): the
		// text between the user's colon and the last @ before the path.
		auth, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(auth[:at], ":"); ok {
				return pw
			}
		}
		return ""
	}
	for rest := s; rest != ""; {
		rest = strings.TrimLeft(rest, " \t\n\r")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return ""
		}
		key = strings.TrimSpace(key)
		val, tail := keywordValue(strings.TrimLeft(after, " \t"))
		if key == "password" {
			return val
		}
		rest = tail
	}
	return ""
}

// keywordValue reads one value of libpq's keyword form: single-quoted
// with backslash escapes, or up to the next white space.
func keywordValue(s string) (val, rest string) {
	if !strings.HasPrefix(s, "'") {
		end := strings.IndexAny(s, " \t\n\r")
		if end < 0 {
			return s, ""
		}
		return s[:end], s[end:]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

// envSecrets names the environment variables each backend type takes
// credentials from when the configuration leaves them out; terraform
// reads them itself, so tmci would not otherwise know their values.
var envSecrets = map[string][]string{
	"s3":   {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
	"http": {"TF_HTTP_PASSWORD"},
	"pg":   {"PG_CONN_STR"},
}

// EnvSecretValues returns the values of the environment variables (read
// with getenv) that c's backend type takes credentials from, to be masked
// like SecretValues: whole values, and the password of a connection
// string.
func (c *Config) EnvSecretValues(getenv func(string) string) []string {
	var out []string
	for _, name := range envSecrets[c.Type] {
		v := getenv(name)
		if v == "" {
			continue
		}
		if pw := ConnPassword(v); pw != "" {
			out = append(out, pw)
		}
		out = append(out, v)
	}
	return out
}
