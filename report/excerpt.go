package report

import (
	"bytes"
	"strings"
	"sync"
)

// maxPlanText bounds what PlanText keeps of a plan's output: far more
// than any report shows (a comment holds 64 KiB), little enough that a
// thousand stacks planning at once stay cheap.
const maxPlanText = 512 << 10

// planStarts are the lines where the part of a plan's output worth
// showing begins, earliest wins: the drift note, the legend or the
// actions. terraform and tofu word them alike.
var planStarts = []string{
	"Note: Objects have changed outside of ",
	"Terraform used the selected providers",
	"OpenTofu used the selected providers",
	"Terraform will perform the following actions",
	"OpenTofu will perform the following actions",
	"Changes to Outputs:",
}

// planEnds are where the excerpt ends: the rule and notes terraform and
// tofu print after the plan and its output changes.
var planEnds = []string{"\n─────", "\nSaved the plan to:", "\nNote: You didn't use the -out option"}

// PlanText is an io.Writer that keeps the start of a plan's output for
// its excerpt. It is safe for concurrent use (stdout and stderr of one
// command may be copied at once).
type PlanText struct {
	mu  sync.Mutex
	buf bytes.Buffer
	cut bool
}

// Write implements io.Writer; it never fails.
func (p *PlanText) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := maxPlanText - p.buf.Len(); len(b) > room {
		p.buf.Write(b[:max(room, 0)])
		p.cut = true
	} else {
		p.buf.Write(b)
	}
	return len(b), nil
}

// Excerpt returns the human part of the plan: from the first of
// planStarts to the first of planEnds (or the end), without the refresh
// lines before it and the saved-plan notes after it. It is ""
// when the output holds none of it (no changes).
func (p *PlanText) Excerpt() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	text := p.buf.String()
	start := -1
	for _, m := range planStarts {
		if i := strings.Index(text, m); i >= 0 && (start < 0 || i < start) {
			start = i
		}
	}
	if start < 0 {
		return ""
	}
	text = text[start:]
	for _, m := range planEnds {
		if i := strings.Index(text, m); i >= 0 {
			text = text[:i]
			p.cut = false // the cut, if any, came after the end
		}
	}
	text = strings.TrimRight(text, "\n")
	if p.cut {
		text += "\n… (output cut)"
	}
	return text
}

// tailLines and tailBytes bound a log tail: enough for terraform's error
// box, little enough for a comment holding several failures.
const (
	tailLines = 40
	tailBytes = 8 << 10
)

// TailOf returns the last lines of a log (at most tailLines lines and
// tailBytes bytes, from a line start), where a failed command explains
// itself.
func TailOf(log []byte) string {
	text := strings.TrimRight(string(log), "\n")
	if len(text) > tailBytes {
		text = text[len(text)-tailBytes:]
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			text = text[nl+1:]
		}
	}
	lines := strings.Split(text, "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	return strings.TrimLeft(strings.Join(lines, "\n"), "\n")
}
