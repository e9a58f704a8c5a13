package statestore

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/printable"
	"github.com/tmci/tmci/internal/s3test"
)

// TestS3DeleteIfUnchanged is the race of a teardown with a run that
// writes the state between tmci's read and its delete, made
// deterministic: the object is replaced through the API after the read,
// and the conditional delete must leave the new state alone.
func TestS3DeleteIfUnchanged(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "tmci-s3-race-secret-0d4e")
	srv.Bucket(t, "states")
	c := serverConfig(srv, "pr-9/app/terraform.tfstate")
	o, err := s3Target(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(data string) {
		t.Helper()
		resp, err := o.do(t.Context(), http.DefaultClient, http.MethodPut, o.url, nil, []byte(data))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	const full = `{"version":4,"resources":[{"mode":"managed","type":"terraform_data","name":"v"}]}`
	put(`{"version":4,"resources":[]}`)
	data, etag, err := o.read(t.Context(), http.DefaultClient, o.url)
	if err != nil || etag == "" {
		t.Fatalf("read: %q, etag %q, %v", data, etag, err)
	}
	put(full) // a run writes resources after tmci read the empty state
	removed, err := o.deleteIf(t.Context(), http.DefaultClient, etag)
	if err != nil || removed {
		t.Fatalf("delete of a changed object: removed %v, %v", removed, err)
	}
	if got, err := os.ReadFile(srv.Object("states", "pr-9/app/terraform.tfstate")); err != nil || string(got) != full {
		t.Fatalf("the state written in between is gone or changed: %q, %v", got, err)
	}
	_, etag, err = o.read(t.Context(), http.DefaultClient, o.url)
	if err != nil {
		t.Fatal(err)
	}
	if removed, err := o.deleteIf(t.Context(), http.DefaultClient, etag); err != nil || !removed {
		t.Fatalf("delete of the unchanged object: removed %v, %v", removed, err)
	}
	if _, err := os.Stat(srv.Object("states", "pr-9/app/terraform.tfstate")); !os.IsNotExist(err) {
		t.Errorf("the object stays after its delete (%v)", err)
	}
}

// TestS3TargetURL checks where the object is looked for, as terraform
// does: AWS's regional endpoint, virtual-hosted unless path style is
// asked for, both endpoint spellings and the variables, keys encoded as
// Signature Version 4 wants them.
func TestS3TargetURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		attrs map[string]string
		env   map[string]string
		want  string
	}{
		{map[string]string{"region": "eu-west-1"}, nil, "https://acme.s3.eu-west-1.amazonaws.com/pr-1/app%20x%2B1/terraform.tfstate"},
		{map[string]string{}, map[string]string{"AWS_DEFAULT_REGION": "us-east-2"}, "https://acme.s3.us-east-2.amazonaws.com/pr-1/app%20x%2B1/terraform.tfstate"},
		{map[string]string{"region": "us-east-1", "endpoint": "http://minio:9000/base/", "force_path_style": "true"}, nil, "http://minio:9000/base/acme/pr-1/app%20x%2B1/terraform.tfstate"},
		{map[string]string{"region": "us-east-1", "endpoints.s3": "s3.internal", "use_path_style": "true"}, nil, "https://s3.internal/acme/pr-1/app%20x%2B1/terraform.tfstate"},
		{map[string]string{"region": "us-east-1"}, map[string]string{"AWS_ENDPOINT_URL_S3": "http://10.0.0.1:7070"}, "http://acme.10.0.0.1:7070/pr-1/app%20x%2B1/terraform.tfstate"},
		{map[string]string{"region": "us-east-1", "use_path_style": "true"}, map[string]string{"AWS_S3_ENDPOINT": "http://gw:7070"}, "http://gw:7070/acme/pr-1/app%20x%2B1/terraform.tfstate"},
	} {
		cfg := &backend.Config{Type: "s3", Attrs: map[string]backend.Value{}}
		for k, v := range map[string]string{"bucket": "acme", "key": "pr-1/app x+1/terraform.tfstate", "access_key": "a", "secret_key": "s"} {
			cfg.Attrs[k] = backend.Value{Val: cty.StringVal(v)}
		}
		for k, v := range c.attrs {
			cfg.Attrs[k] = backend.Value{Val: cty.StringVal(v)}
		}
		o, err := s3Target(cfg, func(k string) string { return c.env[k] })
		if err != nil {
			t.Errorf("%v %v: %v", c.attrs, c.env, err)
			continue
		}
		if got := o.url.String(); got != c.want {
			t.Errorf("%v %v: %s, want %s", c.attrs, c.env, got, c.want)
		}
	}
}

// headFails is fault injection on a real server's answers: every HEAD
// (the lock file's) comes back 503 without reaching the server.
type headFails struct{}

func (headFails) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodHead {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
			Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestS3LockUnknown: when the server does not say whether the lock file
// exists (an error status on its HEAD), the state may be in use and
// stays.
func TestS3LockUnknown(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "tmci-s3-lock-secret-5b2e")
	srv.Bucket(t, "states")
	c := serverConfig(srv, "pr-8/app/terraform.tfstate")
	p := srv.Object("states", "pr-8/app/terraform.tfstate")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"version":4,"resources":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := removeS3(t.Context(), c, nil, &http.Client{Transport: headFails{}})
	if err == nil || removed || !strings.Contains(err.Error(), "503") {
		t.Fatalf("removed %v, %v; want the lock lookup's 503", removed, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the state went although its lock could not be looked up: %v", err)
	}
}

// serverConfig is an s3 backend of key in srv's bucket "states".
func serverConfig(srv *s3test.Server, key string) *backend.Config {
	c := &backend.Config{Type: "s3", Attrs: map[string]backend.Value{}}
	for k, v := range map[string]string{"bucket": "states", "key": key, "region": "us-east-1",
		"endpoint": srv.Endpoint, "force_path_style": "true", "access_key": srv.AccessKey, "secret_key": srv.SecretKey} {
		c.Attrs[k] = backend.Value{Val: cty.StringVal(v)}
	}
	return c
}

// TestS3ErrorPrintable: the endpoint is the repository's, so the status
// and error code it answers are untrusted; a newline or escape in them
// must not reach the error (where it could start a workflow command).
func TestS3ErrorPrintable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ status, body string }{
		{"403 Forbidden", "<Error><Code>Denied\n::error::forged\u009b31m</Code></Error>"},
		{"500 x\n::error::forged\x1b[31m", "not xml"},
	} {
		resp := &http.Response{Status: c.status, Body: io.NopCloser(strings.NewReader(c.body))}
		got := s3Error(resp)
		if !printable.Safe(got) || !strings.Contains(got, "forged") {
			t.Errorf("%q: %q, want the text with its control characters escaped", c.status, got)
		}
	}
}
