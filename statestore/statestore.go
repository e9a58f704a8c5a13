// Package statestore removes the state objects terraform leaves behind
// when an ephemeral environment is torn down: after destroy a state
// object still exists, holding no resources, on every backend; a preview
// environment torn down every day would leave thousands. It speaks to the
// backends tmci can reach itself: local (files), pg (PostgreSQL), http
// (GitLab-managed state and other servers that accept DELETE) and s3
// (signed requests to AWS or any S3-compatible server). Other
// types are reported as unsupported, never guessed at.
//
// An object is removed only when it holds no resources, read right
// before removal: a state a concurrent run filled again is left alone.
package statestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/printable"
)

// ErrUnsupported says tmci cannot remove a state object of that type.
var ErrUnsupported = errors.New("tmci cannot remove state objects of this backend type; remove it by hand or with the backend's tools")

// Supports reports whether RemoveEmpty handles backend type t.
func Supports(t string) bool { return t == "local" || t == "pg" || t == "http" || t == "s3" }

// maxState bounds how much of a state tmci reads to tell whether it is
// empty; an empty state is a few hundred bytes.
const maxState = 64 << 20

// empty reports whether state data holds no resources.
func empty(data []byte) (bool, error) {
	var st struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return false, fmt.Errorf("the state is not JSON: %w", err)
	}
	return len(st.Resources) == 0, nil
}

// RemoveEmpty removes the state object c identifies when it exists and
// holds no resources. dir is the directory terraform ran in (a relative
// local path resolves against it); getenv reads the variables the
// backends fall back to (PG_CONN_STR, TF_HTTP_USERNAME,
// AWS_ACCESS_KEY_ID, ...). It returns
// whether it removed something, false with no error when there was
// nothing or the state still holds resources, and ErrUnsupported for the
// other types.
func RemoveEmpty(ctx context.Context, c *backend.Config, dir string, getenv func(string) string) (bool, error) {
	switch c.Type {
	case "local":
		return removeLocal(c, dir)
	case "pg":
		return removePG(ctx, c, getenv)
	case "http":
		return removeHTTP(ctx, c, getenv, stateClient())
	case "s3":
		return removeS3(ctx, c, getenv, stateClient())
	}
	return false, ErrUnsupported
}

// stateClient is the HTTP client of the http and s3 requests: a server
// (the repository names it) that stops answering fails the request after
// a minute instead of holding the teardown until it is interrupted.
func stateClient() *http.Client { return &http.Client{Timeout: time.Minute} }

func attr(c *backend.Config, name string, getenv func(string) string, envName string) string {
	if v, ok := c.String(name); ok && v != "" {
		return v
	}
	if envName != "" && getenv != nil {
		return getenv(envName)
	}
	return ""
}

func removeLocal(c *backend.Config, dir string) (bool, error) {
	path := attr(c, "path", nil, "")
	if path == "" {
		path = "terraform.tfstate"
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	data, err := readState(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ok, err := empty(data); err != nil || !ok {
		return false, err
	}
	if err := os.Remove(path); err != nil {
		return false, err
	}
	// terraform keeps the previous state next to it; it held the
	// resources just destroyed.
	if err := os.Remove(path + ".backup"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, err
	}
	// The directory terraform created for the state, when now empty.
	_ = os.Remove(filepath.Dir(path))
	return true, nil
}

// readState reads at most maxState bytes of a local state file.
func readState(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxState))
}

// removePG deletes the default workspace's row and, when the schema's
// states table is then empty, the table and the schema (RESTRICT: a
// schema that holds anything else stays).
func removePG(ctx context.Context, c *backend.Config, getenv func(string) string) (bool, error) {
	conn := attr(c, "conn_str", getenv, "PG_CONN_STR")
	schema := attr(c, "schema_name", getenv, "PG_SCHEMA_NAME")
	if schema == "" {
		schema = "terraform_remote_state"
	}
	db, err := sql.Open("postgres", conn)
	if err != nil {
		return false, fmt.Errorf("connecting to the pg backend: %w", err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("connecting to the pg backend: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	table := pq.QuoteIdentifier(schema) + ".states"
	var data string
	err = tx.QueryRowContext(ctx, "SELECT data FROM "+table+" WHERE name = 'default' FOR UPDATE").Scan(&data)
	var pqErr *pq.Error
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &pqErr) && pqErr.Code == "42P01": // no row; no table
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the state in schema %s: %w", schema, err)
	}
	if len(data) > maxState {
		return false, nil
	}
	if ok, err := empty([]byte(data)); err != nil || !ok {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE name = 'default'"); err != nil {
		return false, fmt.Errorf("removing the state in schema %s: %w", schema, err)
	}
	var left int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&left); err != nil {
		return false, err
	}
	if left == 0 {
		if _, err := tx.ExecContext(ctx, "DROP TABLE "+table); err != nil {
			return false, fmt.Errorf("removing the states table of schema %s: %w", schema, err)
		}
		if _, err := tx.ExecContext(ctx, "DROP SCHEMA "+pq.QuoteIdentifier(schema)+" RESTRICT"); err != nil && !(errors.As(err, &pqErr) && pqErr.Code == "2BP01") {
			return false, fmt.Errorf("removing schema %s: %w", schema, err)
		}
	}
	return true, tx.Commit()
}

// removeHTTP reads the state with GET and deletes it with DELETE, with
// the backend's basic-auth credentials.
func removeHTTP(ctx context.Context, c *backend.Config, getenv func(string) string, client *http.Client) (bool, error) {
	address := attr(c, "address", getenv, "TF_HTTP_ADDRESS")
	user := attr(c, "username", getenv, "TF_HTTP_USERNAME")
	pass := attr(c, "password", getenv, "TF_HTTP_PASSWORD")
	do := func(method string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, address, nil)
		if err != nil {
			return nil, err
		}
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		return client.Do(req)
	}
	resp, err := do(http.MethodGet)
	if err != nil {
		return false, fmt.Errorf("reading the http state: %w", redactURL(err, address))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxState))
	resp.Body.Close()
	switch {
	case err != nil:
		return false, err
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusNoContent || len(data) == 0:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("reading the http state: %s", printable.String(resp.Status))
	}
	if ok, err := empty(data); err != nil || !ok {
		return false, err
	}
	resp, err = do(http.MethodDelete)
	if err != nil {
		return false, fmt.Errorf("deleting the http state: %w", redactURL(err, address))
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return false, fmt.Errorf("deleting the http state: %s (the server may not accept DELETE)", printable.String(resp.Status))
	}
	return true, nil
}

// redactURL keeps an address, which may carry credentials or tokens,
// out of an error message.
func redactURL(err error, address string) error {
	if address == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), address, backend.Redacted))
}
