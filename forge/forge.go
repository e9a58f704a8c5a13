// Package forge posts tmci's Markdown to the code forge a pipeline runs
// for: one comment on a pull request (GitHub) or merge request (GitLab),
// and one issue, each found again by the HTML-comment marker it starts
// with and updated in place instead of piling up.
//
// Only a handful of documented REST endpoints are used (listed on each
// client). Tokens are sent in a header and appear in no error or log: an
// error names the method, the path and the status, never the request.
package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// MaxPages bounds the listing of existing comments or issues (100 per
// page): a thread longer than this is not searched further and a new
// comment is created, rather than listing without end.
const MaxPages = 50

// maxResponse bounds the body tmci reads from one API response.
const maxResponse = 16 << 20

// Target is the thread a comment belongs to.
type Target struct {
	// Number is the pull request number (GitHub) or the merge request
	// IID (GitLab).
	Number int
}

// Issue describes the issue Upsert opens when none carries the marker.
type Issue struct {
	Title  string
	Labels []string
}

// Result says what an upsert did.
type Result struct {
	// Created is true when a new comment or issue was made, false when an
	// existing one was updated.
	Created bool
	// URL is the comment's or issue's web address, when the API gave one.
	URL string
}

// Client posts to one forge project.
type Client interface {
	// UpsertComment makes body the one comment on t whose text starts
	// with a line marker matches: it updates the first such comment written by the
	// token's user, or creates one.
	UpsertComment(ctx context.Context, t Target, marker *regexp.Regexp, body string) (Result, error)
	// UpsertIssue makes body the description of the one open issue whose
	// text starts with a line marker matches, or opens one.
	UpsertIssue(ctx context.Context, marker *regexp.Regexp, body string, issue Issue) (Result, error)
}

// HasMarker reports whether the first line of text (leading blank space
// ignored) is matched by marker, an expression anchored to the whole
// line: a marker quoted or mentioned later in someone's comment does not
// count.
func HasMarker(text string, marker *regexp.Regexp) bool {
	line, _, _ := strings.Cut(strings.TrimLeft(text, " \t\r\n"), "\n")
	return marker.MatchString(strings.TrimRight(line, " \t\r"))
}

// Exact returns the marker expression that matches exactly line.
func Exact(line string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(line) + `$`)
}

// api is what both clients share: a base URL, a header that carries the
// token, and JSON requests whose errors never include the token.
type api struct {
	http    *http.Client
	base    *url.URL
	headers http.Header
	// secret is the token, removed from any API message repeated in an
	// error.
	secret string
}

func newAPI(hc *http.Client, base string, headers http.Header, secret string) (*api, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL", base)
	}
	if u.User != nil {
		return nil, errors.New("the API URL carries credentials: pass the token in its variable instead")
	}
	return &api{http: hc, base: u, headers: headers, secret: secret}, nil
}

// find lists path 100 items a page and returns the first item match
// accepts, or nil. more says, from a page's response headers, whether
// another page follows; at most MaxPages pages are read.
func find[T any](ctx context.Context, a *api, path string, q url.Values, more func(http.Header, int) bool, match func(*T) bool) (*T, error) {
	for page := 1; page <= MaxPages; page++ {
		q.Set("per_page", "100")
		q.Set("page", strconv.Itoa(page))
		var items []T
		h, err := a.do(ctx, http.MethodGet, path, q, nil, &items)
		if err != nil {
			return nil, err
		}
		for i := range items {
			if match(&items[i]) {
				return &items[i], nil
			}
		}
		if len(items) == 0 || !more(h, page) {
			return nil, nil
		}
	}
	return nil, nil
}

// StatusError is an API response outside 2xx.
type StatusError struct {
	Method, Path string
	Status       int
	// Message is the API's own message, cut short.
	Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// do sends one request to path (with query) and decodes a JSON response
// into out (when not nil). It returns the response headers.
func (a *api) do(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	u := *a.base
	u.Path = a.base.Path + path // path holds only checked names and numbers
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = strings.NewReader(string(data))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range a.headers {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		// A *url.Error names the URL, which holds no token; unwrap it to
		// the cause all the same so nothing of the request is repeated.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", method, path, err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("%s %s: response larger than %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Message: apiMessage(data, a.secret)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s %s: the response is not the expected JSON: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// apiMessage extracts the "message" (GitHub, GitLab) or "error" field of
// an error response, printable, without secret and cut to 200 bytes.
func apiMessage(data []byte, secret string) string {
	var m struct {
		Message any `json:"message"`
		Error   any `json:"error"`
	}
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	v := m.Message
	if v == nil {
		v = m.Error
	}
	if v == nil {
		return ""
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, fmt.Sprint(v))
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[token]")
	}
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
