package s3test

import (
	"net/http"
	"testing"
	"time"
)

// TestStartStop starts a server, finds it answering (unsigned requests
// are refused with 403, as S3 does) with a bucket as a directory, and
// finds it gone once the test that started it ended.
func TestStartStop(t *testing.T) {
	t.Parallel()
	var endpoint string
	t.Run("server", func(t *testing.T) {
		srv := Start(t, "tmci-s3test-secret-1a2b")
		endpoint = srv.Endpoint
		srv.Bucket(t, "states")
		resp, err := http.Get(srv.Endpoint + "/states")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned request: %s, want 403", resp.Status)
		}
		if keys := srv.Objects(t, "states"); len(keys) != 0 {
			t.Errorf("a new bucket holds %v", keys)
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(endpoint + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after its test ended: %s", resp.Status)
	}
}
