package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/tmci/tmci/internal/printable"
)

// Framer puts a CI system's log markers around each stack's output in
// grouped console mode: a collapsible group for a stack that went well and
// plain, expanded output for one that failed, so the failure is what a
// reader sees first. On GitHub the stack's output is also fenced with
// stop-commands, so nothing terraform prints (a resource attribute holding
// "::set-output ..." say) can act as a workflow command.
//
// The zero value frames for no CI system: a plain header line naming the
// stack and its status. A Framer is safe for concurrent use.
type Framer struct {
	Provider Provider
	// Now gives Frame's section timestamps on GitLab; nil means
	// time.Now. FrameSpan takes the times instead.
	Now func() time.Time
	// Token returns the stop-commands token; nil means a fresh random
	// one per stack, which terraform's output cannot guess.
	Token func() string
}

// Frame returns the text to print before and after the output of stack
// (a project path) whose run ended with status (as the scheduler names
// it); failed says whether the output must stay expanded.
func (f Framer) Frame(stack, status string, failed bool) (header, footer string) {
	now := f.now()
	return f.FrameSpan(stack, status, failed, now, now)
}

// FrameSpan is Frame for output that was produced from start to end:
// GitLab computes a section's duration from the two markers' times, so
// they must be when the stack started and ended, not when its output
// was printed.
func (f Framer) FrameSpan(stack, status string, failed bool, start, end time.Time) (header, footer string) {
	// A stack path reaching here is printable (project refuses others);
	// escaping again costs nothing and keeps the log's lines tmci's.
	title := fmt.Sprintf("%s (%s)", printable.String(stack), status)
	switch f.Provider {
	case GitHub:
		token := f.token()
		fence := "::stop-commands::" + token + "\n"
		unfence := "::" + token + "::\n"
		if failed {
			return "=== " + title + "\n" + fence, unfence
		}
		return "::group::" + escapeData(title) + "\n" + fence, unfence + "::endgroup::\n"
	case GitLab:
		name := sectionName(stack)
		ts := start.Unix()
		opt := "[collapsed=true]"
		if failed {
			opt = "[collapsed=false]"
		}
		header = fmt.Sprintf("\x1b[0Ksection_start:%d:%s%s\r\x1b[0K%s\n", ts, name, opt, title)
		footer = fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", end.Unix(), name)
		return header, footer
	}
	return "=== " + title + "\n", ""
}

func (f Framer) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f Framer) token() string {
	if f.Token != nil {
		return f.Token()
	}
	return randomToken()
}

// randomToken returns 128 random bits in hex, for stop-commands tokens and
// GITHUB_OUTPUT heredoc delimiters.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// sectionName turns a stack path into a GitLab section name, which may
// only hold [a-z0-9_.-]: the path, lower-cased with other characters as
// "_", then a hash of the exact path so that "/a_b" and "/a/b" (or "/A"
// and "/a") never share a section.
func sectionName(stack string) string {
	var b strings.Builder
	b.WriteString("tmci")
	for _, r := range strings.ToLower(stack) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	h := fnv.New32a()
	h.Write([]byte(stack))
	fmt.Fprintf(&b, "_%08x", h.Sum32())
	return b.String()
}

// Annotation is one GitHub error annotation: a failed stack, or a config
// diagnostic. File is relative to the repository root; Line and Col are
// 1-based and 0 when unknown.
type Annotation struct {
	File      string
	Line, Col int
	Title     string
	Message   string
}

// Error renders a as a GitHub ::error workflow command (one line).
func (a Annotation) Error() string { return a.command("error") }

// Warning renders a as a GitHub ::warning workflow command (one line).
func (a Annotation) Warning() string { return a.command("warning") }

// command renders a as the workflow command kind.
func (a Annotation) command(kind string) string {
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(a.File))
		if a.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", a.Line))
			if a.Col > 0 {
				props = append(props, fmt.Sprintf("col=%d", a.Col))
			}
		}
	}
	if a.Title != "" {
		props = append(props, "title="+escapeProperty(a.Title))
	}
	cmd := "::" + kind
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(a.Message) + "\n"
}

// AddMask returns the ::add-mask:: commands that make GitHub hide value
// in every later log line: one per line of a multi-line value, since the
// runner masks line by line. Empty lines are not masked (that would mask
// nothing useful and confuse the log).
func AddMask(value string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString("::add-mask::" + escapeData(line) + "\n")
	}
	return b.String()
}

// escapeData escapes a workflow command's message as the GitHub runner
// unescapes it: %, CR and LF.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value, which also
// may not hold the separators ":" and ",".
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
