package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestString(t *testing.T) {
	t.Parallel()
	var s Set
	s.Add("hunter2", "p@ss w/rd&<x>", "")
	tests := []struct{ in, want string }{
		{"no secret here", "no secret here"},
		{"password=hunter2 ok", "password=*** ok"},
		{"hunter2hunter2", "******"},
		{"url postgres://u:" + url.QueryEscape("p@ss w/rd&<x>") + "@h/db", "url postgres://u:***@h/db"},
		{"userinfo " + (&url.URL{Scheme: "postgres", User: url.UserPassword("u", "p@ss w/rd&<x>"), Host: "h"}).String(), "userinfo postgres://u:***@h"},
		{"html p@ss w/rd&amp;&lt;x&gt;", "html ***"},
		{`keyword password='p@ss w/rd&<x>'`, `keyword password='***'`},
		{"hunter", "hunter"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, s.String(tt.in)); diff != "" {
			t.Errorf("String(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	js, _ := json.Marshal(map[string]string{"k": `a"b\c<d>`})
	s.Add(`a"b\c<d>`)
	if got := s.String(string(js)); strings.Contains(got, `a\"b`) {
		t.Errorf("JSON form not masked: %s", got)
	}
}

// TestLongestHeld: with secrets "abc" and "abcdef", "abc" followed by a
// write of "def" must mask the longer one, and the writer must hold "abc"
// back rather than mask it early.
func TestLongestHeld(t *testing.T) {
	t.Parallel()
	var s Set
	s.Add("abc", "abcdef")
	var out bytes.Buffer
	w := NewWriter(&s, &out)
	w.Write([]byte("x abc"))
	if got := out.String(); got != "x " {
		t.Errorf("after the first write: %q, want %q (abc held back)", got, "x ")
	}
	w.Write([]byte("def y abc"))
	w.Write([]byte(" z ab"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("x *** y *** z ab", out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestStraddle writes a text holding a secret cut at every offset into
// two writes, and in single bytes, and requires the secret never to
// appear in the output, which must otherwise be the text intact.
func TestStraddle(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-pass/w0rd"
	var s Set
	s.Add(secret)
	text := "conn postgres://tf:" + secret + "@db/state failed; again " + url.QueryEscape(secret) + "."
	want := s.String(text)
	if strings.Contains(want, "s3cr3t") {
		t.Fatalf("String leaks: %q", want)
	}
	for cut := 0; cut <= len(text); cut++ {
		var out bytes.Buffer
		w := NewWriter(&s, &out)
		w.Write([]byte(text[:cut]))
		if strings.Contains(out.String(), "s3cr3t") {
			t.Fatalf("cut %d: written before the second half: %q", cut, out.String())
		}
		w.Write([]byte(text[cut:]))
		w.Flush()
		if out.String() != want {
			t.Errorf("cut %d: %q, want %q", cut, out.String(), want)
		}
	}
	var out bytes.Buffer
	w := NewWriter(&s, &out)
	for i := range len(text) {
		w.Write([]byte{text[i]})
	}
	w.Flush()
	if out.String() != want {
		t.Errorf("byte by byte: %q, want %q", out.String(), want)
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	type inner struct{ Msg string }
	v := struct {
		A    string
		B    []string
		M    map[string]inner
		P    *inner
		Raw  []byte
		priv string
	}{A: "x hunter2", B: []string{"hunter2"}, M: map[string]inner{"k": {"hunter2!"}}, P: &inner{"-hunter2-"}, Raw: []byte("hunter2"), priv: "hunter2"}
	var s Set
	s.Add("hunter2")
	s.Value(&v)
	got := []string{v.A, v.B[0], v.M["k"].Msg, v.P.Msg, string(v.Raw)}
	if diff := cmp.Diff([]string{"x ***", "***", "***!", "-***-", "***"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzWriter: whatever the text and however it is cut into writes, no
// secret ever reaches the output, and the output is what String gives.
func FuzzWriter(f *testing.F) {
	f.Add("pw", "x pw y", uint8(1), uint8(3))
	f.Add("abcabd", "abcabcabd", uint8(2), uint8(5))
	f.Add("aaa", "aaaaaaa", uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, secret, text string, step1, step2 uint8) {
		if secret == "" || strings.Contains(Mask, secret) || strings.Contains(secret, "*") {
			t.Skip()
		}
		var s Set
		s.Add(secret)
		// Place the secret in the text so the interesting case occurs.
		text = text[:len(text)/2] + secret + text[len(text)/2:]
		var out bytes.Buffer
		w := NewWriter(&s, &out)
		steps := []int{int(step1%17) + 1, int(step2%17) + 1}
		for i, k := 0, 0; i < len(text); k++ {
			n := min(steps[k%2], len(text)-i)
			w.Write([]byte(text[i : i+n]))
			i += n
		}
		w.Flush()
		if strings.Contains(out.String(), secret) {
			t.Fatalf("secret %q in output %q", secret, out.String())
		}
		if want := s.String(text); out.String() != want {
			t.Fatalf("streamed %q, String gives %q", out.String(), want)
		}
	})
}
