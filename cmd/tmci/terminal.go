package main

import (
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// isTerminal reports whether f is an *os.File open on a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && file != nil && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}

// colourProfile decides how tmci colours its own messages, from the
// environment and whether stderr is a terminal, and never by asking the
// terminal: termenv's colour queries (OSC 10/11) stall every command for
// seconds on a terminal that does not answer (pty wrappers, script(1),
// some IDE consoles). The rules, first match wins:
//
//   - NO_COLOR set and not empty: no colour (no-color.org);
//   - CLICOLOR_FORCE or FORCE_COLOR set, not empty and not "0"/"false":
//     colour even without a terminal;
//   - stderr not a terminal, CI set, TERM empty or "dumb", or CLICOLOR=0:
//     no colour;
//   - COLORTERM truecolor/24bit: 24-bit; TERM naming 256color: 256
//     colours; otherwise the 16 ANSI colours.
func colourProfile(getenv func(string) string, terminal bool) termenv.Profile {
	if getenv("NO_COLOR") != "" {
		return termenv.Ascii
	}
	forced := false
	for _, k := range []string{"CLICOLOR_FORCE", "FORCE_COLOR"} {
		if v := strings.ToLower(getenv(k)); v != "" && v != "0" && v != "false" {
			forced = true
		}
	}
	term := getenv("TERM")
	if !forced && (!terminal || getenv("CI") != "" || term == "" || term == "dumb" || getenv("CLICOLOR") == "0") {
		return termenv.Ascii
	}
	switch ct := strings.ToLower(getenv("COLORTERM")); {
	case ct == "truecolor" || ct == "24bit":
		return termenv.TrueColor
	case strings.Contains(term, "256color"):
		return termenv.ANSI256
	}
	return termenv.ANSI
}

// plainWriter hides the file behind a writer, so the logging library,
// which queries the terminal it is given, never sees one: tmci sets the
// colour profile itself (colourProfile).
type plainWriter struct{ w io.Writer }

func (p *plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
