package tf

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"
)

// Counts are the resource counts of an apply or destroy, read from
// terraform's closing line; Counted is false when it printed none (it
// failed before the end).
type Counts struct {
	Summary Summary
	Counted bool
}

// countWriter reads the resource counts of terraform's (or tofu's)
// closing line, "Apply complete! Resources: 1 added, 0 changed, 0
// destroyed." or "Destroy complete! Resources: 2 destroyed.", so apply
// and destroy report counts without a saved plan to show. terraform
// counts a replacement as added and destroyed. It is safe for the two
// goroutines copying stdout and stderr.
type countWriter struct {
	mu     sync.Mutex
	line   []byte
	counts Counts
}

var (
	applyLine   = regexp.MustCompile(`(?:Apply|Destroy) complete! Resources: (?:\d+ imported, )?(\d+) added, (\d+) changed, (\d+) destroyed`)
	destroyLine = regexp.MustCompile(`Destroy complete! Resources: (\d+) destroyed`)
)

// maxCountLine bounds the partial line a countWriter keeps: no count
// line is this long.
const maxCountLine = 4096

func (c *countWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.line = append(c.line, p...)
	for {
		i := bytes.IndexByte(c.line, '\n')
		if i < 0 {
			break
		}
		c.scan(c.line[:i])
		c.line = c.line[i+1:]
	}
	if len(c.line) > maxCountLine {
		c.line = c.line[:0]
	}
	return len(p), nil
}

func (c *countWriter) scan(line []byte) {
	num := func(b []byte) int { n, _ := strconv.Atoi(string(b)); return n }
	if m := applyLine.FindSubmatch(line); m != nil {
		c.counts = Counts{Summary: Summary{Create: num(m[1]), Update: num(m[2]), Delete: num(m[3])}, Counted: true}
	} else if m := destroyLine.FindSubmatch(line); m != nil {
		c.counts = Counts{Summary: Summary{Delete: num(m[1])}, Counted: true}
	}
}

// result reads a last line that has no newline and returns the counts.
func (c *countWriter) result() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scan(c.line)
	c.line = nil
	return c.counts
}

// maxPlanOutput bounds the plan output kept for counting; a longer one
// is counted by show -json.
const maxPlanOutput = 8 << 20

// boundedBuffer keeps up to max bytes of a command's output; it is safe
// for the two goroutines copying stdout and stderr.
type boundedBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
	} else if !b.overflow {
		b.buf.Write(p)
	}
	return len(p), nil
}

// summary counts the plan from the kept output; ok is false when the
// output was cut or is not understood.
func (b *boundedBuffer) summary() (Summary, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overflow {
		return Summary{}, false
	}
	return SummaryFromOutput(b.buf.Bytes())
}
