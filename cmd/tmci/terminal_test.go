package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
	"github.com/muesli/termenv"

	"github.com/tmci/tmci/internal/fixture"
)

func TestColourProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		terminal bool
		want     termenv.Profile
	}{
		{"terminal", map[string]string{"TERM": "xterm"}, true, termenv.ANSI},
		{"256 colours", map[string]string{"TERM": "xterm-256color"}, true, termenv.ANSI256},
		{"truecolor", map[string]string{"TERM": "xterm-256color", "COLORTERM": "truecolor"}, true, termenv.TrueColor},
		{"not a terminal", map[string]string{"TERM": "xterm"}, false, termenv.Ascii},
		{"NO_COLOR", map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, true, termenv.Ascii},
		{"NO_COLOR beats force", map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, true, termenv.Ascii},
		{"dumb", map[string]string{"TERM": "dumb"}, true, termenv.Ascii},
		{"no TERM", map[string]string{}, true, termenv.Ascii},
		{"CI", map[string]string{"TERM": "xterm", "CI": "true"}, true, termenv.Ascii},
		{"CLICOLOR=0", map[string]string{"TERM": "xterm", "CLICOLOR": "0"}, true, termenv.Ascii},
		{"CLICOLOR_FORCE without terminal", map[string]string{"CLICOLOR_FORCE": "1"}, false, termenv.ANSI},
		{"FORCE_COLOR in CI", map[string]string{"FORCE_COLOR": "1", "CI": "true"}, false, termenv.ANSI},
		{"FORCE_COLOR=0", map[string]string{"FORCE_COLOR": "0", "TERM": "xterm"}, false, termenv.Ascii},
		{"FORCE_COLOR=false", map[string]string{"FORCE_COLOR": "false"}, false, termenv.Ascii},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := colourProfile(func(k string) string { return tt.env[k] }, tt.terminal)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("colourProfile (-want +got):\n%s", diff)
			}
		})
	}
}

// ptyCommand starts tmci with stdin, stdout and stderr on a new pty in
// dir and returns the pty's controlling side. The caller reads from it
// and owns closing it.
func ptyCommand(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	bin, err := exec.LookPath("tmci")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Skipf("no pty on this system: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
	})
	return cmd, ptmx
}

// drain copies everything the pty prints into a buffer until it closes,
// without ever answering: a terminal that ignores colour queries.
type drain struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (d *drain) from(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		d.mu.Lock()
		d.buf.Write(b[:n])
		d.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (d *drain) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.buf.String()
}

// TestSilentTerminalDoesNotStall runs tmci on a pty that never answers
// the colour queries a terminal library may send: tmci must not wait
// for an answer (it used to stall about 10 s on such terminals).
func TestSilentTerminalDoesNotStall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := fixture.Build("../../testdata/repos/changed-single.txtar", dir); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env    []string
		colour bool
	}{
		{[]string{"TERM=xterm-256color", "COLORTERM=truecolor", "NO_COLOR="}, true},
		{[]string{"TERM=xterm-256color", "NO_COLOR=1"}, false},
	} {
		env := tt.env
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			start := time.Now()
			cmd, ptmx := ptyCommand(t, dir, append(env, "CI=", "GITHUB_ACTIONS=", "GITLAB_CI=", "TMCI_LOG=debug"), "list")
			var out drain
			done := make(chan struct{})
			go func() { out.from(ptmx); close(done) }()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("tmci list: %v\n%s", err, out.String())
			}
			select { // the pty reports EOF once tmci is gone
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the pty did not close after tmci exited")
			}
			// A stall is at least the query timeout (seconds); a normal
			// run on a loaded machine is well under one.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("tmci list on a silent terminal took %v, want well under a second", d)
			}
			if got := out.String(); strings.Contains(got, "\x1b]1") || !strings.Contains(got, "loading project") {
				t.Errorf("want the debug log and no terminal query, got %q", got)
			} else if coloured := strings.Contains(got, "\x1b["); coloured != tt.colour {
				t.Errorf("colour escapes: got %v, want %v in %q", coloured, tt.colour, got)
			}
		})
	}
}
