package scheduler

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LogSink opens the destination of one node's complete output.
type LogSink interface {
	Open(node string) (io.WriteCloser, error)
}

// LogFiles is a LogSink writing each node's output to the file whose path
// it returns for the node, creating parent directories (0700) and
// truncating an older log (0600: a command's output may hold anything).
// It never writes through a symbolic link. The naming (e.g.
// <work>/<env>/logs/<stack>.log) is the caller's.
type LogFiles func(node string) string

// Open implements LogSink.
func (f LogFiles) Open(node string) (io.WriteCloser, error) {
	path := f(node)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the log directory of %s: %w", node, err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the log file of %s: %w", node, err)
	}
	return file, nil
}

// Mode is how a Console shows the output of running nodes.
type Mode int

const (
	// Quiet shows nothing; the output is only in the logs.
	Quiet Mode = iota
	// Stream shows every line as soon as it is complete, prefixed with
	// the node, so that lines of parallel nodes never mix.
	Stream
	// Grouped shows each node's output whole when the node ends.
	Grouped
)

// ParseMode parses a --log-mode value.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "quiet":
		return Quiet, nil
	case "stream":
		return Stream, nil
	case "grouped":
		return Grouped, nil
	}
	return Quiet, fmt.Errorf("unknown log mode %q: use stream, grouped or quiet", s)
}

// maxPartialLine bounds what Stream holds of a line still missing its
// newline; a longer line is shown in pieces rather than held in memory.
const maxPartialLine = 64 << 10

// Console writes the output of many concurrent nodes to one writer, so that
// no line is ever cut by another node's. It is safe for concurrent use;
// set the exported fields before the run starts.
type Console struct {
	// Prefix returns the text put before each line in Stream mode; nil
	// means "[node] ".
	Prefix func(node string) string
	// Frame returns the lines put before and after a node's output in
	// Grouped mode (e.g. a CI system's collapsible-group markers); nil
	// means a plain header naming the node and its status, no footer.
	Frame func(node string, s Status) (header, footer string)
	// Span, when set, is used instead of Frame and also gets when the
	// node's output was opened (its task started) and when it closed,
	// for markers that carry times (GitLab's section durations).
	Span func(node string, s Status, start, end time.Time) (header, footer string)

	mode Mode
	mu   sync.Mutex // serialises writes to w
	w    io.Writer
}

// NewConsole returns a Console writing to w in the given mode.
func NewConsole(w io.Writer, mode Mode) *Console {
	return &Console{w: w, mode: mode}
}

// Print writes text as one unit, between whole node lines; for the
// caller's own messages (heartbeats, progress) during a run.
func (c *Console) Print(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.w, text)
}

func (c *Console) prefix(node string) string {
	if c.Prefix != nil {
		return c.Prefix(node)
	}
	return "[" + node + "] "
}

func (c *Console) frame(node string, s Status, start time.Time) (string, string) {
	if c.Span != nil {
		return c.Span(node, s, start, time.Now())
	}
	if c.Frame != nil {
		return c.Frame(node, s)
	}
	return fmt.Sprintf("=== %s (%s)\n", node, s), ""
}

// nodeOutput is the writer a task gets: it copies to the node's log and
// feeds the console. Write is safe for concurrent use, since a command's
// stdout and stderr may be copied by two goroutines.
type nodeOutput struct {
	node    string
	mu      sync.Mutex
	log     io.WriteCloser // nil without a sink
	console *Console       // nil when quiet
	buf     []byte         // Stream: the unfinished line; Grouped: everything
	err     error          // first log write error
	started time.Time      // when the node's task started
	holding bool           // console output goes to held (see Hold)
	held    []byte
}

// Holder is implemented by the writer a Task gets. Hold keeps what is
// written from the console (the log still gets everything) until the
// returned release is called: release(true) shows the held output, as
// for a step that failed; release(false) drops it, for routine chatter
// such as terraform init's. At most maxHeld bytes are held; the rest is
// only in the log. Hold and release must not overlap for one writer.
type Holder interface {
	Hold() (release func(show bool))
}

// maxHeld bounds the output Hold keeps in memory.
const maxHeld = 1 << 20

// Hold implements Holder.
func (o *nodeOutput) Hold() func(show bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.holding = true
	return func(show bool) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.holding = false
		held := o.held
		o.held = nil
		if !show || o.console == nil || len(held) == 0 {
			return
		}
		if len(held) >= maxHeld {
			held = append(held, "\n[more output in the log]\n"...)
		}
		o.buf = append(o.buf, held...)
		if o.console.mode == Stream {
			o.flushLines(false)
		}
	}
}

func openOutput(node string, sink LogSink, console *Console) (*nodeOutput, error) {
	o := &nodeOutput{node: node, started: time.Now()}
	if console != nil && console.mode != Quiet {
		o.console = console
	}
	if sink != nil {
		log, err := sink.Open(node)
		if err != nil {
			return nil, err
		}
		o.log = log
	}
	return o, nil
}

// Write never fails for the task: a log write error is reported when the
// node ends, so that a full disk does not turn into a confusing failure of
// the command whose output was being copied.
func (o *nodeOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil && o.err == nil {
		if _, err := o.log.Write(p); err != nil {
			o.err = fmt.Errorf("write the log of %s: %w", o.node, err)
		}
	}
	if o.console == nil {
		return len(p), nil
	}
	if o.holding {
		if room := maxHeld - len(o.held); room > 0 {
			o.held = append(o.held, p[:min(room, len(p))]...)
		}
		return len(p), nil
	}
	o.buf = append(o.buf, p...)
	if o.console.mode == Stream {
		o.flushLines(false)
	}
	return len(p), nil
}

// flushLines writes the complete lines of buf to the console in one locked
// write, keeping the unfinished tail unless all is set.
func (o *nodeOutput) flushLines(all bool) {
	end := bytes.LastIndexByte(o.buf, '\n') + 1
	if all || len(o.buf)-end > maxPartialLine {
		end = len(o.buf)
	}
	if end == 0 {
		return
	}
	prefix := o.console.prefix(o.node)
	var b bytes.Buffer
	for line := range bytes.Lines(o.buf[:end]) {
		b.WriteString(prefix)
		b.Write(line)
		if line[len(line)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	o.buf = append(o.buf[:0], o.buf[end:]...)
	o.console.Print(b.String())
}

// close shows what the console still holds and closes the log.
func (o *nodeOutput) close(s Status) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.console != nil {
		switch o.console.mode {
		case Stream:
			o.flushLines(true)
		case Grouped:
			header, footer := o.console.frame(o.node, s, o.started)
			body := o.buf
			if len(body) > 0 && body[len(body)-1] != '\n' {
				body = append(body, '\n')
			}
			o.console.Print(header + string(body) + footer)
		}
		o.buf = nil
	}
	if o.log == nil {
		return nil
	}
	if err := o.log.Close(); err != nil && o.err == nil {
		o.err = fmt.Errorf("close the log of %s: %w", o.node, err)
	}
	return o.err
}
