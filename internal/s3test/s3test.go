// Package s3test gives a test an S3 server of its own: VersityGW serving
// a temporary directory on a free loopback port, killed when the test
// ends. Tests of the s3 backend use it instead of a fake, so terraform,
// tofu and tmci's own state removal speak to a real S3 implementation
// (request signing, path-style addressing, conditional writes).
package s3test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tmci/tmci/internal/testenv"
)

// Version is the VersityGW release the tests are written against; .ci/run
// installs it.
const Version = "v1.8.0"

// install says how to get the server, for the skip or failure message.
const install = "go install " + module + "/cmd/versitygw@" + Version + " (see .ci/run)"

const module = "github.com/versity/versitygw"

// AccessKey is the root access key of every test server.
const AccessKey = "tmci-test-access"

// Server is one running VersityGW. Each directory below Dir is a bucket,
// and an object is the file at Dir/<bucket>/<key>.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Dir       string
	AccessKey string
	SecretKey string
}

// Start starts a server whose root secret key is secret (pick a
// distinctive one, so a test can search its outputs for it) and returns
// it once it answers HTTP. The server is killed, with SIGKILL (VersityGW
// does not always stop on SIGTERM), when t ends. Without the versitygw
// binary the test is skipped, or fails under TMCI_TEST_REQUIRE_ALL.
func Start(t testing.TB, secret string) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	var last error
	for range 3 { // another process may take the free port first
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Endpoint: "http://127.0.0.1:" + port, Dir: dir, AccessKey: AccessKey, SecretKey: secret}
		if last = s.start(t, bin, port); last == nil {
			return s
		}
	}
	t.Fatalf("versitygw did not start: %v", last)
	return nil
}

func (s *Server) start(t testing.TB, bin, port string) error {
	var out lockedBuffer
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+port, "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		// A request signed with this server's keys: another server that
		// took the port in the meantime would refuse it.
		if resp, err := client.Do(s.signedListBuckets(ctx)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited: %s", out.String())
		case <-ctx.Done():
			stop()
			return fmt.Errorf("versitygw did not answer on port %s within 30s: %s", port, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// signedListBuckets is a ListBuckets request signed with the server's
// root keys.
func (s *Server) signedListBuckets(ctx context.Context) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	_ = v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "s3", "us-east-1", time.Now().UTC())
	return req
}

// Bucket creates bucket name and returns its directory.
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(s.Dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Object returns the file holding the object key of bucket.
func (s *Server) Object(bucket, key string) string {
	return filepath.Join(s.Dir, bucket, filepath.FromSlash(key))
}

// Objects lists the objects of bucket as keys, sorted, leaving out the
// directories VersityGW creates for the '/' in keys.
func (s *Server) Objects(t testing.TB, bucket string) []string {
	t.Helper()
	root := filepath.Join(s.Dir, bucket)
	var keys []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".sgwtmp") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// binary returns the path of versitygw at Version, on PATH or in
// ~/go/bin, or skips (fails under TMCI_TEST_REQUIRE_ALL) saying how to
// install it.
func binary(t testing.TB) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("versitygw"); err == nil {
		candidates = append(candidates, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", "versitygw"))
	}
	for _, c := range candidates {
		// A go-installed versitygw prints "Version: git"; its build info
		// holds the module version.
		if info, err := buildinfo.ReadFile(c); err == nil && info.Main.Path == module && info.Main.Version == Version {
			return c
		}
	}
	testenv.Missing(t, "versitygw %s not found on PATH or in ~/go/bin: %s", Version, install)
	return ""
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// lockedBuffer collects the server's output, written from the exec
// package's copying goroutines and read on failure.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
