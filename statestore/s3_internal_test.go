package statestore

import (
	"net/http"
	"os"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/tmci/tmci/backend"
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
	c := &backend.Config{Type: "s3", Attrs: map[string]backend.Value{}}
	for k, v := range map[string]string{"bucket": "states", "key": "pr-9/app/terraform.tfstate", "region": "us-east-1",
		"endpoint": srv.Endpoint, "force_path_style": "true", "access_key": srv.AccessKey, "secret_key": srv.SecretKey} {
		c.Attrs[k] = backend.Value{Val: cty.StringVal(v)}
	}
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
