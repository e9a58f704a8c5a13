package statestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lib/pq"

	"github.com/tmci/tmci/backend"
)

// Found is a state object Find found: the text that stood where the
// marker was in the config, and the state's data.
type Found struct {
	Name string
	Data []byte
}

// nameChars is what an environment name (or the part of it a template
// placed) can hold.
const nameChars = `([a-z0-9._-]+)`

// Find lists the state objects of c's backend whose identity is c's with
// the marker, wherever it appears, replaced by one same name. c is a
// config resolved for an environment name containing marker; the result
// names what stood in its place. It reaches local (a glob), pg (the
// schemas of the database) and s3 (a bucket listing below the key's
// part before the marker); other types, and a config whose connection
// itself depends on the name, give ErrUnsupported.
func Find(ctx context.Context, c *backend.Config, dir, marker string, getenv func(string) string) ([]Found, error) {
	switch c.Type {
	case "local":
		return findLocal(c, dir, marker)
	case "pg":
		return findPG(ctx, c, marker, getenv)
	case "s3":
		return findS3(ctx, c, marker, getenv, stateClient())
	}
	return nil, ErrUnsupported
}

// namePattern matches, anchored, the texts that are s with every
// marker replaced by one same name. RE2 has no backreferences, so each
// marker is its own group and Name checks that they agree.
type namePattern struct{ re *regexp.Regexp }

func pattern(s, marker string) namePattern {
	parts := strings.Split(s, marker)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return namePattern{regexp.MustCompile("^" + strings.Join(parts, nameChars) + "$")}
}

// Name returns the name that stood for the marker in text, and false
// when text does not match or its markers' names differ.
func (p namePattern) Name(text string) (string, bool) {
	sub := p.re.FindStringSubmatch(text)
	if sub == nil {
		return "", false
	}
	for _, n := range sub[2:] {
		if n != sub[1] {
			return "", false
		}
	}
	return sub[1], true
}

func findLocal(c *backend.Config, dir, marker string) ([]Found, error) {
	path := attr(c, "path", nil, "")
	if path == "" || !strings.Contains(path, marker) {
		return nil, ErrUnsupported
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	matches, err := filepath.Glob(strings.ReplaceAll(globEscape(path), globEscape(marker), "*"))
	if err != nil {
		return nil, err
	}
	re := pattern(path, marker)
	var out []Found
	for _, m := range matches {
		name, ok := re.Name(m)
		if !ok {
			continue
		}
		data, err := readState(m)
		if err != nil {
			return nil, err
		}
		out = append(out, Found{Name: name, Data: data})
	}
	return out, nil
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

func findPG(ctx context.Context, c *backend.Config, marker string, getenv func(string) string) ([]Found, error) {
	conn := attr(c, "conn_str", getenv, "PG_CONN_STR")
	schema := attr(c, "schema_name", getenv, "PG_SCHEMA_NAME")
	if strings.Contains(conn, marker) || !strings.Contains(schema, marker) {
		return nil, ErrUnsupported
	}
	db, err := sql.Open("postgres", conn)
	if err != nil {
		return nil, fmt.Errorf("connecting to the pg backend: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'states'`)
	if err != nil {
		return nil, fmt.Errorf("listing the pg backend's schemas: %w", err)
	}
	re := pattern(schema, marker)
	var schemas, names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		if name, ok := re.Name(s); ok {
			schemas, names = append(schemas, s), append(names, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Found
	for i, s := range schemas {
		var data string
		err := db.QueryRowContext(ctx, "SELECT data FROM "+pq.QuoteIdentifier(s)+".states WHERE name = 'default'").Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the state in schema %s: %w", s, err)
		}
		out = append(out, Found{Name: names[i], Data: []byte(data)})
	}
	return out, nil
}
