package statestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/internal/printable"
)

// The s3 backend's state object is removed with two signed requests, GET
// and a conditional DELETE (plus a HEAD of the lock file), through net/http and the AWS
// SDK's Signature Version 4 signer alone: the signer is the one part of
// S3 access that is easy to get subtly wrong, and the SDK's full S3
// client would add a large dependency tree for three requests.

// s3Object is the default workspace's state object of an s3 backend, and
// what it takes to reach it.
type s3Object struct {
	url    *url.URL // the object, path-style or virtual-hosted
	lock   *url.URL // the lock file terraform ≥ 1.10 writes with use_lockfile
	key    string
	region string
	creds  aws.Credentials

	base      *url.URL // the endpoint
	bucket    string
	pathStyle bool
}

// objectURL returns the URL of key in the bucket, or of the bucket for
// key "" (its listing).
func (o *s3Object) objectURL(key string) *url.URL {
	u := *o.base
	prefix := strings.TrimSuffix(u.Path, "/")
	if o.pathStyle {
		prefix += "/" + o.bucket
	} else {
		u.Host = o.bucket + "." + u.Host
	}
	u.Path = prefix + "/" + key
	u.RawPath = s3Escape(prefix) + "/" + s3Escape(key)
	u.RawQuery, u.Fragment = "", ""
	return &u
}

// unsupportedS3 wraps ErrUnsupported with the reason this configuration
// is out of reach.
func unsupportedS3(reason string) error {
	return fmt.Errorf("%w (%s)", ErrUnsupported, reason)
}

// s3Target works out the state object of c the way terraform 1.5 and
// tofu 1.6 do for the default workspace: the object is key itself
// (workspace_key_prefix only places other workspaces' objects), in
// bucket, at the endpoint (endpoint, endpoints.s3, AWS_ENDPOINT_URL_S3
// or AWS_S3_ENDPOINT; AWS's regional endpoint otherwise), path-style
// when force_path_style or use_path_style is set. Credentials come from
// access_key, secret_key and token, or AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; profiles, shared
// credential files and assumed roles are not followed.
func s3Target(c *backend.Config, getenv func(string) string) (*s3Object, error) {
	for _, a := range []string{"profile", "shared_credentials_file", "shared_credentials_files", "role_arn", "assume_role.role_arn", "assume_role_with_web_identity.role_arn"} {
		if _, ok := c.Attrs[a]; ok {
			return nil, unsupportedS3("tmci signs with access_key/secret_key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY only, and the backend sets " + a)
		}
	}
	if attr(c, "sse_customer_key", getenv, "AWS_SSE_CUSTOMER_KEY") != "" {
		return nil, unsupportedS3("the state is encrypted with a customer key (sse_customer_key)")
	}
	bucket := attr(c, "bucket", nil, "")
	key := attr(c, "key", nil, "")
	if bucket == "" || key == "" {
		return nil, errors.New("the s3 backend has no bucket or key")
	}
	region := attr(c, "region", getenv, "AWS_REGION")
	if region == "" && getenv != nil {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return nil, errors.New("the s3 backend has no region (set region, or AWS_REGION)")
	}
	endpoint := attr(c, "endpoint", nil, "")
	if endpoint == "" {
		endpoint = attr(c, "endpoints.s3", getenv, "AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" && getenv != nil {
		endpoint = getenv("AWS_S3_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	base, err := url.Parse(endpoint)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("the s3 endpoint %q is not an http or https URL", endpoint)
	}
	creds := aws.Credentials{
		AccessKeyID:     attr(c, "access_key", getenv, "AWS_ACCESS_KEY_ID"),
		SecretAccessKey: attr(c, "secret_key", getenv, "AWS_SECRET_ACCESS_KEY"),
		SessionToken:    attr(c, "token", getenv, "AWS_SESSION_TOKEN"),
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, unsupportedS3("no credentials: set access_key and secret_key in the backend, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	o := &s3Object{key: key, region: region, creds: creds, base: base, bucket: bucket,
		pathStyle: isTrue(c, "force_path_style") || isTrue(c, "use_path_style")}
	o.url, o.lock = o.objectURL(key), o.objectURL(key+".tflock")
	return o, nil
}

func isTrue(c *backend.Config, name string) bool {
	v, _ := c.String(name)
	return v == "true"
}

// s3Escape encodes a key as Signature Version 4 wants the path: every
// byte but the unreserved characters and '/' as %XX.
func s3Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~/", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// do sends one signed request with the extra headers h and body (nil
// for none).
func (o *s3Object) do(ctx context.Context, client *http.Client, method string, u *url.URL, h http.Header, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = nil, nil, 0
	}
	req.URL = u
	for k, v := range h {
		req.Header[k] = v
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, o.creds, req, hash, "s3", o.region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("signing the request: %w", err)
	}
	return client.Do(req)
}

// s3Error is the text of an S3 error response: its status and XML code,
// with control characters escaped (the endpoint is the repository's to
// choose, and a newline in an error could start a CI workflow command).
func s3Error(resp *http.Response) string {
	var e struct {
		Code string `xml:"Code"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if xml.NewDecoder(bytes.NewReader(body)).Decode(&e) == nil && e.Code != "" {
		return printable.String(resp.Status + " " + e.Code)
	}
	return printable.String(resp.Status)
}

// removeS3 reads the state object and deletes it when it holds no
// resources and no lock file says a run is using it. The delete is
// conditional on the object being the one read (If-Match with its ETag),
// so a state a concurrent run wrote in between is left alone; a server
// that ignores the condition leaves the small window between the two
// requests, as for the other backends.
func removeS3(ctx context.Context, c *backend.Config, getenv func(string) string, client *http.Client) (bool, error) {
	if _, ok := c.Attrs["dynamodb_table"]; ok {
		// terraform keeps the state's MD5 in the table and, with the
		// object gone but the digest left, refuses the next state at
		// this key until the digest is removed; tmci does not speak
		// DynamoDB.
		return false, unsupportedS3("dynamodb_table is set: the lock table keeps a digest of the state that tmci cannot remove, and a new state at this key would not match it")
	}
	o, err := s3Target(c, getenv)
	if err != nil {
		return false, err
	}
	data, etag, err := o.read(ctx, client, o.url)
	if err != nil || data == nil {
		return false, err
	}
	if ok, err := empty(data); err != nil || !ok {
		return false, err
	}
	resp, err := o.do(ctx, client, http.MethodHead, o.lock, nil, nil)
	if err != nil {
		return false, fmt.Errorf("looking for the lock file of the %s: %w", o.where(), err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return o.deleteIf(ctx, client, etag)
	case http.StatusOK:
		return false, fmt.Errorf("the %s is locked (%s exists): a run may be using it; it stays", o.where(), printable.String(o.lock.Path))
	}
	// Any other answer (403, 500, ...) does not say there is no lock.
	return false, fmt.Errorf("looking for the lock file of the %s: %s; it stays", o.where(), printable.String(resp.Status))
}

func (o *s3Object) where() string { return "s3 object " + o.url.Redacted() }

// read returns the data and ETag of the object at u, or nil data when
// there is no object.
func (o *s3Object) read(ctx context.Context, client *http.Client, u *url.URL) ([]byte, string, error) {
	resp, err := o.do(ctx, client, http.MethodGet, u, nil, nil)
	if err != nil {
		return nil, "", fmt.Errorf("reading the %s: %w", "s3 object "+u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, "", nil
	default:
		return nil, "", fmt.Errorf("reading the %s: %s", "s3 object "+u.Redacted(), s3Error(resp))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxState))
	if err != nil {
		return nil, "", fmt.Errorf("reading the %s: %w", "s3 object "+u.Redacted(), err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, resp.Header.Get("ETag"), nil
}

// deleteIf deletes the object if its ETag is still etag (any, when the
// server gave none). An object changed since it was read stays: false
// with no error, as for a state that holds resources.
func (o *s3Object) deleteIf(ctx context.Context, client *http.Client, etag string) (bool, error) {
	var h http.Header
	if etag != "" {
		h = http.Header{"If-Match": {etag}}
	}
	resp, err := o.do(ctx, client, http.MethodDelete, o.url, h, nil)
	if err != nil {
		return false, fmt.Errorf("deleting the %s: %w", o.where(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPreconditionFailed:
		return false, nil
	case resp.StatusCode/100 != 2:
		return false, fmt.Errorf("deleting the %s: %s", o.where(), s3Error(resp))
	}
	return true, nil
}

// maxListPages bounds a listing: 1,000 keys a page.
const maxListPages = 1000

// findS3 lists the objects whose key is c's key with the marker replaced
// by one same name, below the key's part before the first marker
// (ListObjectsV2), and reads each. A bucket or endpoint that holds the
// marker cannot be listed.
func findS3(ctx context.Context, c *backend.Config, marker string, getenv func(string) string, client *http.Client) ([]Found, error) {
	o, err := s3Target(c, getenv)
	if err != nil {
		return nil, err
	}
	i := strings.Index(o.key, marker)
	if i < 0 || strings.Contains(o.bucket, marker) || strings.Contains(o.base.String(), marker) {
		return nil, ErrUnsupported
	}
	re := pattern(o.key, marker)
	var out []Found
	token := ""
	for range maxListPages {
		q := url.Values{"list-type": {"2"}, "prefix": {o.key[:i]}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		u := o.objectURL("")
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		var page struct {
			Keys      []string `xml:"Contents>Key"`
			Truncated bool     `xml:"IsTruncated"`
			Next      string   `xml:"NextContinuationToken"`
		}
		if err := o.list(ctx, client, u, &page); err != nil {
			return nil, err
		}
		for _, k := range page.Keys {
			name, ok := re.Name(k)
			if !ok {
				continue
			}
			data, _, err := o.read(ctx, client, o.objectURL(k))
			if err != nil {
				return nil, err
			}
			if data != nil {
				out = append(out, Found{Name: name, Data: data})
			}
		}
		if !page.Truncated || page.Next == "" {
			return out, nil
		}
		token = page.Next
	}
	return nil, fmt.Errorf("listing s3 bucket %s: more than %d pages", o.bucket, maxListPages)
}

// list GETs one page of a bucket listing into page.
func (o *s3Object) list(ctx context.Context, client *http.Client, u *url.URL, page any) error {
	resp, err := o.do(ctx, client, http.MethodGet, u, nil, nil)
	if err != nil {
		return fmt.Errorf("listing s3 bucket %s: %w", o.bucket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("listing s3 bucket %s: %s", o.bucket, s3Error(resp))
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxState)).Decode(page); err != nil {
		return fmt.Errorf("listing s3 bucket %s: %w", o.bucket, err)
	}
	return nil
}
