package statestore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/internal/s3test"
	"github.com/tmci/tmci/statestore"
)

// s3Secret is distinctive, so that finding it in an error is no accident.
const s3Secret = "tmci-s3test-secret-7f3a9c"

// putObject writes an object straight into the server's directory, as
// VersityGW's posix backend stores it.
func putObject(t *testing.T, srv *s3test.Server, bucket, key, data string) string {
	t.Helper()
	p := srv.Object(bucket, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func s3Config(srv *s3test.Server, key string, extra map[string]string) map[string]string {
	attrs := map[string]string{
		"bucket": "states", "key": key, "region": "us-east-1",
		"endpoint": srv.Endpoint, "force_path_style": "true",
		"access_key": srv.AccessKey, "secret_key": srv.SecretKey,
	}
	for k, v := range extra {
		if v == "" {
			delete(attrs, k)
		} else {
			attrs[k] = v
		}
	}
	return attrs
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestS3 removes emptied state objects from a real S3 server (VersityGW)
// with signed requests, and leaves every other object alone.
func TestS3(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, s3Secret)
	srv.Bucket(t, "states")
	remove := func(attrs map[string]string, env map[string]string) (bool, error) {
		t.Helper()
		c := config("s3", attrs)
		return statestore.RemoveEmpty(t.Context(), c, t.TempDir(), func(k string) string { return env[k] })
	}

	t.Run("empty", func(t *testing.T) {
		// Both spellings of the endpoint, and a key whose characters
		// Signature Version 4 must encode (a wrong encoding is a 403).
		for _, c := range []struct {
			key   string
			extra map[string]string
		}{
			{"pr-1/services/api/terraform.tfstate", nil},
			{"pr-2/a b+c=d,e@f/terraform.tfstate", map[string]string{"endpoint": "", "force_path_style": "", "endpoints.s3": srv.Endpoint, "use_path_style": "true"}},
		} {
			p := putObject(t, srv, "states", c.key, emptyState)
			removed, err := remove(s3Config(srv, c.key, c.extra), nil)
			if err != nil || !removed {
				t.Fatalf("%s: removed %v, %v", c.key, removed, err)
			}
			if exists(p) {
				t.Errorf("%s: the object is still in the bucket", c.key)
			}
			removed, err = remove(s3Config(srv, c.key, c.extra), nil)
			if err != nil || removed {
				t.Errorf("%s again: removed %v, %v; want nothing to remove", c.key, removed, err)
			}
		}
	})

	t.Run("full", func(t *testing.T) {
		p := putObject(t, srv, "states", "prod/app/terraform.tfstate", fullState)
		removed, err := remove(s3Config(srv, "prod/app/terraform.tfstate", nil), nil)
		if err != nil || removed {
			t.Fatalf("removed %v, %v", removed, err)
		}
		if !exists(p) {
			t.Error("a state holding resources was removed")
		}
	})

	t.Run("locked", func(t *testing.T) {
		p := putObject(t, srv, "states", "pr-3/app/terraform.tfstate", emptyState)
		putObject(t, srv, "states", "pr-3/app/terraform.tfstate.tflock", `{"ID":"x"}`)
		removed, err := remove(s3Config(srv, "pr-3/app/terraform.tfstate", nil), nil)
		if err == nil || removed || !strings.Contains(err.Error(), "locked") {
			t.Fatalf("removed %v, %v; want a locked error", removed, err)
		}
		if !exists(p) {
			t.Error("a locked state was removed")
		}
	})

	t.Run("locked, key with control characters", func(t *testing.T) {
		// A key may hold any character; the error shows it escaped.
		key := "pr-3/x\n::error::forged\x1b[31m/terraform.tfstate"
		p := putObject(t, srv, "states", key, emptyState)
		putObject(t, srv, "states", key+".tflock", `{"ID":"x"}`)
		removed, err := remove(s3Config(srv, key, nil), nil)
		if err == nil || removed || !strings.Contains(err.Error(), "locked") || !printable.Safe(err.Error()) {
			t.Fatalf("removed %v, %q; want a locked error without control characters", removed, err)
		}
		if !exists(p) {
			t.Error("a locked state was removed")
		}
	})

	t.Run("env credentials", func(t *testing.T) {
		p := putObject(t, srv, "states", "pr-4/app/terraform.tfstate", emptyState)
		attrs := s3Config(srv, "pr-4/app/terraform.tfstate", map[string]string{"access_key": "", "secret_key": "", "region": ""})
		env := map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey, "AWS_REGION": "us-east-1"}
		removed, err := remove(attrs, env)
		if err != nil || !removed || exists(p) {
			t.Fatalf("removed %v, %v, object left %v", removed, err, exists(p))
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		p := putObject(t, srv, "states", "pr-5/app/terraform.tfstate", emptyState)
		wrong := "tmci-wrong-secret-91bd"
		removed, err := remove(s3Config(srv, "pr-5/app/terraform.tfstate", map[string]string{"secret_key": wrong}), nil)
		if err == nil || removed {
			t.Fatalf("removed %v, %v; want the server's refusal", removed, err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), s3Secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
		if !exists(p) {
			t.Error("the object went although the request was refused")
		}
	})

	t.Run("unsupported", func(t *testing.T) {
		for name, extra := range map[string]map[string]string{
			"lock table":     {"dynamodb_table": "locks"},
			"profile":        {"profile": "ci"},
			"no credentials": {"access_key": "", "secret_key": ""},
			"customer key":   {"sse_customer_key": "c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLWVub3VnaCE="},
		} {
			p := putObject(t, srv, "states", "pr-6/"+name+"/terraform.tfstate", emptyState)
			removed, err := remove(s3Config(srv, "pr-6/"+name+"/terraform.tfstate", extra), nil)
			if !errors.Is(err, statestore.ErrUnsupported) || removed {
				t.Errorf("%s: removed %v, %v; want ErrUnsupported", name, removed, err)
			}
			if !exists(p) {
				t.Errorf("%s: the object was removed", name)
			}
		}
	})
}

// TestS3Find lists the ledgers of a pattern environment in a bucket:
// keys with the marker replaced by one same name, nothing else.
func TestS3Find(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, s3Secret)
	srv.Bucket(t, "states")
	for _, k := range []string{
		"pr-1/.tmci-ledger/terraform.tfstate", "pr-22/.tmci-ledger/terraform.tfstate",
		"prod/.tmci-ledger/terraform.tfstate", "pr-3/app/terraform.tfstate",
		"pr-4/.tmci-ledger/terraform.tfstate.tflock", "pr-a b/.tmci-ledger/terraform.tfstate",
	} {
		putObject(t, srv, "states", k, `{"key":"`+k+`"}`)
	}
	c := config("s3", s3Config(srv, "pr-MARK/.tmci-ledger/terraform.tfstate", nil))
	found, err := statestore.Find(t.Context(), c, t.TempDir(), "MARK", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range found {
		got[f.Name] = string(f.Data)
	}
	want := map[string]string{
		"1":  `{"key":"pr-1/.tmci-ledger/terraform.tfstate"}`,
		"22": `{"key":"pr-22/.tmci-ledger/terraform.tfstate"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	if _, err := statestore.Find(t.Context(), config("s3", s3Config(srv, "ledger.tfstate", map[string]string{"bucket": "MARK-states"})), "/", "MARK", nil); !errors.Is(err, statestore.ErrUnsupported) {
		t.Errorf("a bucket that depends on the name: %v, want ErrUnsupported", err)
	}
	// The same with a key that holds the marker: only the bucket's refuses.
	if _, err := statestore.Find(t.Context(), config("s3", s3Config(srv, "pr-MARK/ledger.tfstate", map[string]string{"bucket": "MARK-states"})), "/", "MARK", nil); !errors.Is(err, statestore.ErrUnsupported) {
		t.Errorf("a bucket that depends on the name, key with the marker: %v, want ErrUnsupported", err)
	}
	if _, err := statestore.Find(t.Context(), config("s3", s3Config(srv, "pr-MARK/ledger.tfstate", map[string]string{"endpoint": srv.Endpoint + "/MARK"})), "/", "MARK", nil); !errors.Is(err, statestore.ErrUnsupported) {
		t.Errorf("an endpoint that depends on the name: %v, want ErrUnsupported", err)
	}
}

// TestS3FindPages: a listing longer than one page (1,000 keys) is
// followed to its end.
func TestS3FindPages(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, s3Secret)
	srv.Bucket(t, "paged")
	for i := range 1000 {
		putObject(t, srv, "paged", fmt.Sprintf("pr-0/fill/%04d", i), "{}")
	}
	putObject(t, srv, "paged", "pr-zz/.tmci-ledger/terraform.tfstate", `{"last":true}`)
	c := config("s3", s3Config(srv, "pr-MARK/.tmci-ledger/terraform.tfstate", map[string]string{"bucket": "paged"}))
	found, err := statestore.Find(t.Context(), c, t.TempDir(), "MARK", nil)
	if err != nil || len(found) != 1 || found[0].Name != "zz" {
		t.Errorf("found %v, %v; want zz from the second page", found, err)
	}
}
