// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by TMCI_TEST_PG, so that their state schemas and advisory
// locks never meet another test's.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq" // the postgres driver
	"github.com/tmci/tmci/internal/testenv"
)

// Env names the variable holding the server's connection string.
const Env = "TMCI_TEST_PG"

// NewDatabase creates a database named prefix plus a random suffix,
// dropped when the test ends, and returns its connection string. Without
// TMCI_TEST_PG the test is skipped, or fails where nothing may be
// skipped (testenv.Missing).
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		testenv.Missing(t, "%s is not set: give it a PostgreSQL connection string to run this test", Env)
	}
	db := Open(t, admin)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open opens conn for the test and closes it when the test ends.
func Open(t testing.TB, conn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
