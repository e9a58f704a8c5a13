package ci

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFrame(t *testing.T) {
	fixed := func() time.Time { return time.Unix(1767225600, 0) }
	tok := func() string { return "T0K" }
	sec := sectionName("/stacks/app")
	for _, tc := range []struct {
		name           string
		f              Framer
		failed         bool
		header, footer string
	}{
		{"none", Framer{}, false, "=== /stacks/app (succeeded)\n", ""},
		{"github ok", Framer{Provider: GitHub, Token: tok}, false,
			"::group::/stacks/app (succeeded)\n::stop-commands::T0K\n", "::T0K::\n::endgroup::\n"},
		{"github failed is not grouped", Framer{Provider: GitHub, Token: tok}, true,
			"=== /stacks/app (failed)\n::stop-commands::T0K\n", "::T0K::\n"},
		{"gitlab ok", Framer{Provider: GitLab, Now: fixed}, false,
			"\x1b[0Ksection_start:1767225600:" + sec + "[collapsed=true]\r\x1b[0K/stacks/app (succeeded)\n",
			"\x1b[0Ksection_end:1767225600:" + sec + "\r\x1b[0K\n"},
		{"gitlab failed is expanded", Framer{Provider: GitLab, Now: fixed}, true,
			"\x1b[0Ksection_start:1767225600:" + sec + "[collapsed=false]\r\x1b[0K/stacks/app (failed)\n",
			"\x1b[0Ksection_end:1767225600:" + sec + "\r\x1b[0K\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := "succeeded"
			if tc.failed {
				status = "failed"
			}
			h, f := tc.f.Frame("/stacks/app", status, tc.failed)
			if diff := cmp.Diff(tc.header, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.footer, f); diff != "" {
				t.Errorf("footer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFrameTokensDiffer(t *testing.T) {
	f := Framer{Provider: GitHub}
	h1, f1 := f.Frame("/a", "succeeded", false)
	h2, _ := f.Frame("/a", "succeeded", false)
	if h1 == h2 {
		t.Error("two frames share a stop-commands token")
	}
	tok := strings.TrimSuffix(strings.SplitN(h1, "::stop-commands::", 2)[1], "\n")
	if len(tok) != 32 || !strings.HasPrefix(f1, "::"+tok+"::\n") {
		t.Errorf("token %q does not end the fence %q", tok, f1)
	}
}

func TestSectionName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_.-]+$`)
	seen := map[string]string{}
	for _, p := range []string{"/", "/a/b", "/a_b", "/A/b", "/ünï cöde/x", "/a.b-c"} {
		n := sectionName(p)
		if !valid.MatchString(n) {
			t.Errorf("sectionName(%q) = %q: not a valid GitLab section name", p, n)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("%q and %q share section %q", p, other, n)
		}
		seen[n] = p
	}
}

func TestAnnotation(t *testing.T) {
	for _, tc := range []struct {
		a    Annotation
		want string
	}{
		{Annotation{File: "stacks/a,b/stack.tm.hcl", Line: 3, Col: 5, Title: "Stack /a failed: plan", Message: "exit 1\n100% broken"},
			"::error file=stacks/a%2Cb/stack.tm.hcl,line=3,col=5,title=Stack /a failed%3A plan::exit 1%0A100%25 broken\n"},
		{Annotation{File: "tmci.hcl", Message: "m"}, "::error file=tmci.hcl::m\n"},
		{Annotation{Message: "m"}, "::error::m\n"},
	} {
		if diff := cmp.Diff(tc.want, tc.a.Error()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

func TestAddMask(t *testing.T) {
	got := AddMask("line1\r\n\n  \nli%ne2")
	want := "::add-mask::line1\n::add-mask::li%25ne2\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFrameSpanGitLabTimes(t *testing.T) {
	start, end := time.Unix(1700000000, 0), time.Unix(1700000093, 0)
	h, f := Framer{Provider: GitLab}.FrameSpan("/a", "succeeded", false, start, end)
	if !strings.Contains(h, "section_start:1700000000:") || !strings.Contains(f, "section_end:1700000093:") {
		t.Errorf("markers %q %q, want the start and end times", h, f)
	}
}
