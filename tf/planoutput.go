package tf

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// Plan output lines SummaryFromOutput reads. terraform and tofu print
// them, without -no-color's escapes, for every plan since 0.15.
var (
	// planLine is the closing count ("Plan: 1 to add, ...").
	planLine = regexp.MustCompile(`^Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.$`)
	// headerLine opens one resource instance's change: "  # ADDR will be
	// created". The address may hold spaces (map keys), so the action is
	// matched from the end.
	headerLine = regexp.MustCompile(`^  # (.+?) (will be created|will be updated in-place|must be replaced|will be replaced, as requested|will be destroyed|will be read during apply|has moved to .+)$`)
	movedFrom  = regexp.MustCompile(` \(moved from [^)]+\)$`)
)

// SummaryFromOutput counts a plan from terraform's or tofu's
// human-readable plan output (with -no-color), so that tmci plan need
// not start a third process, `show -json`, for every stack with changes.
// It is deliberately strict: ok is false, and the caller must read the
// plan file with Show instead, whenever the output holds anything it does
// not fully understand — drift, imports, an unknown change header — or
// when the changes it found do not add up to the closing "Plan:" line.
func SummaryFromOutput(out []byte) (s Summary, ok bool) {
	sawPlanLine := false
	var add, change, destroy int
	for line := range bytes.Lines(out) {
		text := strings.TrimRight(string(line), "\r\n")
		switch {
		case strings.Contains(text, "\x1b["):
			return Summary{}, false // colored: not the format read here
		case strings.HasPrefix(text, "Terraform detected the following changes made outside of"),
			strings.HasPrefix(text, "OpenTofu detected the following changes made outside of"):
			return Summary{}, false // drift: the counts need the JSON
		case text == "Changes to Outputs:":
			s.OutputChanges = true
		case strings.HasPrefix(text, "Plan: "):
			m := planLine.FindStringSubmatch(text)
			if m == nil || m[1] != "" && m[1] != "0" {
				return Summary{}, false // imports, or a newer format
			}
			sawPlanLine = true
			add, _ = strconv.Atoi(m[2])
			change, _ = strconv.Atoi(m[3])
			destroy, _ = strconv.Atoi(m[4])
		case strings.HasPrefix(text, "  # (") || !strings.HasPrefix(text, "  # "):
			// An explanation under a header, or not a header.
		default:
			m := headerLine.FindStringSubmatch(text)
			if m == nil {
				return Summary{}, false
			}
			addr := movedFrom.ReplaceAllString(m[1], "")
			addr = strings.Replace(addr, " (deposed object ", " (deposed ", 1) // as ParsePlan names it
			var action Action
			switch verb := m[2]; {
			case verb == "will be created":
				action, s.Create = Create, s.Create+1
			case verb == "will be updated in-place":
				action, s.Update = Update, s.Update+1
			case verb == "must be replaced", verb == "will be replaced, as requested":
				action, s.Replace = Replace, s.Replace+1
			case verb == "will be destroyed":
				action, s.Delete = Delete, s.Delete+1
			default: // a read or a move changes nothing
				continue
			}
			s.Changes = append(s.Changes, Change{Address: addr, Action: action})
		}
	}
	if !sawPlanLine {
		// Only output values change, or the output is not a plan's.
		return s, len(s.Changes) == 0 && s.OutputChanges
	}
	if add != s.Create+s.Replace || change != s.Update || destroy != s.Delete+s.Replace {
		return Summary{}, false
	}
	return s, true
}
