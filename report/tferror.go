package report

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// TerraformError returns the first "Error: …" summary of terraform's
// output in log (plain, or inside the box terraform draws), without the
// "Error: " prefix, or "".
func TerraformError(log string) string {
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(line, "│╷╵ "))
		if rest, ok := strings.CutPrefix(line, "Error: "); ok && rest != "" {
			return rest
		}
	}
	return ""
}

// tfLocation is terraform's "  on FILE line N" under a diagnostic; the
// file is relative to the directory terraform ran in.
var tfLocation = regexp.MustCompile(`^on (\S.*?) line ([0-9]{1,9})(?:,|:|$)`)

// TerraformLocation returns the file and line of terraform's first error
// diagnostic in log ("on main.tf line 17"), the file as terraform wrote
// it (relative to the stack directory, or "../modules/…"), slash-separated
// and clean; ok is false when there is none. The log is the untrusted
// output of the repository's code: callers must check the file stays in
// the project before pointing at it.
func TerraformLocation(log string) (file string, line int, ok bool) {
	inError := false
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(l, "│╷╵ "))
		if strings.HasPrefix(l, "Error: ") {
			inError = true
			continue
		}
		if strings.HasPrefix(l, "Warning: ") {
			inError = false
			continue
		}
		m := tfLocation.FindStringSubmatch(l)
		if m == nil || !inError {
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil || n < 1 {
			continue
		}
		f := path.Clean(strings.ReplaceAll(m[1], `\`, "/"))
		return f, n, true
	}
	return "", 0, false
}
