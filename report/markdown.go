package report

import (
	"cmp"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Size limits of the places tmci's Markdown goes to.
const (
	// SummaryLimit is GitHub's limit for one step's job summary.
	SummaryLimit = 1 << 20
	// CommentLimit is GitHub's limit for a pull request comment (and an
	// issue body), in characters. tmci counts bytes, which is never less.
	CommentLimit = 65536
)

// mermaidMaxEdges and mermaidMaxText are Mermaid's default limits, which
// GitHub and GitLab keep: a larger graph renders as an error box.
const (
	mermaidMaxEdges = 500
	mermaidMaxText  = 50000
)

// minExcerpt is the smallest part of a plan excerpt worth showing; when
// less room is left, the excerpt is left out rather than cut.
const minExcerpt = 1024

// noteReserve is the room kept free for the note saying what was cut.
const noteReserve = 1024

// statusIcon is how Markdown tables show a stack status.
var statusIcon = map[string]string{
	StatusSucceeded:   "✅",
	StatusFailed:      "❌",
	StatusSkipped:     "⏭️",
	StatusInterrupted: "⚠️",
	StatusNotStarted:  "⏸️",
}

// doc assembles a Markdown document under a byte limit and remembers what
// it had to cut, so the reader is told.
type doc struct {
	limit int
	b     strings.Builder
	// cut holds one phrase per kind of cut ("2 plan excerpts shortened").
	cut []string
}

// room is how many bytes may still be added, keeping the note's reserve.
func (d *doc) room() int { return d.limit - noteReserve - d.b.Len() }

// add appends s when it fits and reports whether it did.
func (d *doc) add(s string) bool {
	if len(s) > d.room() {
		return false
	}
	d.b.WriteString(s)
	return true
}

// finish appends the note about cuts, naming the limit, and returns the
// document.
func (d *doc) finish(limitName string) []byte {
	if len(d.cut) > 0 {
		fmt.Fprintf(&d.b, "\n> [!NOTE]\n> Cut to stay under %s: %s. The complete output is in the per-stack logs and report.json.\n",
			limitName, strings.Join(d.cut, ", "))
	}
	out := d.b.String()
	if len(out) > d.limit { // only when even the header did not fit
		out = out[:d.limit]
	}
	return []byte(out)
}

// mdOptions says how renderRun lays out a run report.
type mdOptions struct {
	limit     int
	limitName string
	// marker, if set, starts the document as an HTML comment, so a bot
	// can find and update its own comment.
	marker string
	graph  bool
}

// Summary renders the run as the job summary: a status table, a Mermaid
// graph of the run coloured by status and a collapsible excerpt of each
// failed or changed stack, all under SummaryLimit bytes.
func Summary(r *Report) []byte { return summaryWithin(r, SummaryLimit) }

// summaryWithin is Summary under a smaller limit, for appending to a
// step summary that already holds other output.
func summaryWithin(r *Report, limit int) []byte {
	return renderRun(r, mdOptions{limit: limit, limitName: "GitHub's 1 MiB step summary limit", graph: true})
}

// Comment renders the run as a pull or merge request comment: the status
// table and excerpts without the graph, under CommentLimit. It starts
// with a marker naming the command and environment.
func Comment(r *Report) []byte {
	return renderRun(r, mdOptions{
		limit:     CommentLimit,
		limitName: "the 65,536-character comment limit",
		marker:    fmt.Sprintf("<!-- tmci %s %s -->\n", r.Command, r.Environment),
	})
}

func renderRun(r *Report, o mdOptions) []byte {
	d := &doc{limit: o.limit}
	d.b.Grow(min(o.limit, SummaryLimit))
	d.add(o.marker)
	d.add(fmt.Sprintf("### tmci %s · `%s`\n\n%s\n\n", r.Command, r.Environment, totalsLine(r)))
	deleted(d, r)
	if len(r.Stacks) == 0 {
		d.add("No stacks selected.\n")
		return d.finish(o.limitName)
	}
	table(d, r.Command, r.Stacks)
	if o.graph {
		graph(d, r.Command, r.Stacks)
	}
	excerpts(d, r.Stacks)
	return d.finish(o.limitName)
}

// totalsLine sums up the run in one line.
func totalsLine(r *Report) string {
	t := r.Totals
	var parts []string
	for _, c := range []struct {
		n      int
		status string
	}{{t.Failed, StatusFailed}, {t.Interrupted, StatusInterrupted}, {t.Succeeded, StatusSucceeded}, {t.Skipped, StatusSkipped}, {t.NotStarted, StatusNotStarted}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d %s", statusIcon[c.status], c.n, strings.ReplaceAll(c.status, "_", " ")))
		}
	}
	line := "**" + plural(t.Stacks, "stack") + "**"
	if len(parts) > 0 {
		line += " · " + strings.Join(parts, " · ")
	}
	if t.WithChanges > 0 {
		line += fmt.Sprintf(" · %s with changes: **%d** to create, **%d** to update, **%d** to delete",
			plural(t.WithChanges, "stack"), t.Create+t.Replace, t.Update, t.Delete+t.Replace)
	} else if len(r.Deleted) == 0 && (r.Command == "plan" || r.Command == "drift") {
		line += " · no changes"
	}
	if n := len(r.Deleted); n > 0 {
		line += fmt.Sprintf(" · ⚠️ **%s deleted** from the code, resources not destroyed", plural(n, "stack"))
	}
	return line
}

// deleted lists the deleted stacks, whose resources outlive their code
// until tmci destroy --deleted removes them.
func deleted(d *doc, r *Report) {
	if len(r.Deleted) == 0 {
		return
	}
	d.add(fmt.Sprintf("> [!WARNING]\n> These stacks are gone from the code, but their resources in `%s` are not destroyed by this change. "+
		"Run `tmci destroy --deleted --env=%s --yes` to destroy them.\n\n| deleted stack | last seen in |\n|---|---|\n", r.Environment, r.Environment))
	for _, s := range r.Deleted {
		rev := s.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if !d.add(fmt.Sprintf("| %s | %s (%s) |\n", code(s.Path), code(rev), s.Source)) {
			return
		}
	}
	d.add("\n")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// changed reports whether a stack is worth a reader's eye in a run of
// command: a plan with changes, or in a drift run any drift.
func changed(s *StackReport, command string) bool {
	if command == "drift" {
		return Drifted(s)
	}
	return s.Plan != nil && s.Plan.Changes
}

// rowRank orders stacks by how much a reader needs them when the table
// must be cut: failures first, stacks without changes last.
func rowRank(s *StackReport, command string) int {
	switch {
	case s.Status == StatusFailed || s.Status == StatusInterrupted:
		return 0
	case changed(s, command):
		return 1
	case s.Status == StatusSkipped || s.Status == StatusNotStarted:
		return 2
	}
	return 3
}

// table adds the status table, one row per stack in run order. When the
// rows do not fit in half the room, rows are kept by rank (failures
// first, see rowRank) as long as they fit, and the rest are counted.
func table(d *doc, command string, stacks []StackReport) {
	const head = "| Stack | Status | Create | Update | Delete | Duration |\n|---|---|--:|--:|--:|--:|\n"
	rows := make([]string, len(stacks))
	byRank := make([]int, len(stacks))
	for i := range stacks {
		rows[i] = row(&stacks[i])
		byRank[i] = i
	}
	slices.SortStableFunc(byRank, func(a, b int) int {
		return cmp.Compare(rowRank(&stacks[a], command), rowRank(&stacks[b], command))
	})
	keep := make([]bool, len(stacks))
	size, budget := len(head), d.room()/2
	for _, i := range byRank {
		if size+len(rows[i]) <= budget {
			keep[i] = true
			size += len(rows[i])
		}
	}
	var b strings.Builder
	b.Grow(size + 1)
	b.WriteString(head)
	omitted := 0
	for i := range stacks {
		if keep[i] {
			b.WriteString(rows[i])
		} else {
			omitted++
		}
	}
	b.WriteString("\n")
	if omitted > 0 {
		d.cut = append(d.cut, fmt.Sprintf("%s not listed in the table", plural(omitted, "stack")))
	}
	d.add(b.String())
}

func row(s *StackReport) string {
	c, u, del := "", "", ""
	if s.Plan != nil {
		sum := s.Plan.Summary
		c, u, del = fmt.Sprint(sum.Create+sum.Replace), fmt.Sprint(sum.Update), fmt.Sprint(sum.Delete+sum.Replace)
	}
	dur := ""
	if s.StartedAt != nil {
		dur = formatDuration(time.Duration(s.DurationMS) * time.Millisecond)
	}
	status := statusIcon[s.Status] + " " + strings.ReplaceAll(s.Status, "_", " ")
	if s.Status == StatusSkipped && len(s.FailedDependencies) > 0 {
		status += " (" + strings.Join(s.FailedDependencies, ", ") + " failed)"
	}
	if len(s.MockedInputs) > 0 {
		names := make([]string, len(s.MockedInputs))
		for i, m := range s.MockedInputs {
			names[i] = m.Name
		}
		status += " (mock inputs: " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", code(s.Path), escapeCell(status), c, u, del, dur)
}

// formatDuration rounds to what a reader compares: tenths of a second
// below a minute, whole seconds above.
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// code renders s as an inline code span safe inside a table cell.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + escapeCell(s) + pad + fence
}

// htmlCode renders s as code inside HTML such as a <summary>, where
// Markdown is not read.
func htmlCode(s string) string { return "<code>" + html.EscapeString(s) + "</code>" }

func escapeCell(s string) string {
	if !strings.ContainsAny(s, "|\n") { // the common case, without allocating
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// mermaidClass is the class of a stack's node in the run graph.
func mermaidClass(s *StackReport, command string) string {
	if s.Status == StatusSucceeded && changed(s, command) {
		return "changed"
	}
	return s.Status
}

// graph adds the run graph as a Mermaid flowchart coloured by status,
// unless it exceeds what Mermaid renders or the room left.
func graph(d *doc, command string, stacks []StackReport) {
	idx := make(map[string]int, len(stacks))
	for i := range stacks {
		idx[stacks[i].Path] = i
	}
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	used := map[string]bool{}
	for i := range stacks {
		s := &stacks[i]
		cls := mermaidClass(s, command)
		used[cls] = true
		fmt.Fprintf(&b, "  s%d[\"%s\"]:::%s\n", i, strings.ReplaceAll(s.Path, `"`, "#quot;"), cls)
	}
	edges := 0
	for i := range stacks {
		for _, dep := range stacks[i].DependsOn {
			if j, ok := idx[dep]; ok {
				fmt.Fprintf(&b, "  s%d --> s%d\n", j, i)
				edges++
			}
		}
	}
	for _, c := range []struct{ name, style string }{
		{"changed", "fill:#fff3cd,stroke:#d39e00"},
		{StatusSucceeded, "fill:#d4edda,stroke:#28a745"},
		{StatusFailed, "fill:#f8d7da,stroke:#dc3545"},
		{StatusSkipped, "fill:#e2e3e5,stroke:#6c757d,stroke-dasharray: 5 5"},
		{StatusInterrupted, "fill:#ffe5d0,stroke:#fd7e14"},
		{StatusNotStarted, "fill:#f8f9fa,stroke:#adb5bd,stroke-dasharray: 5 5"},
	} {
		if used[c.name] {
			fmt.Fprintf(&b, "  classDef %s %s\n", c.name, c.style)
		}
	}
	b.WriteString("```\n\n")
	switch {
	case edges > mermaidMaxEdges || b.Len() > mermaidMaxText:
		d.cut = append(d.cut, fmt.Sprintf("the run graph left out (%s and %s are more than Mermaid renders)",
			plural(len(stacks), "stack"), plural(edges, "edge")))
	case !d.add(b.String()):
		d.cut = append(d.cut, "the run graph left out")
	}
}

// detail is one collapsible block: a failed stack's error or a changed
// stack's plan excerpt.
type detail struct {
	summary string
	open    bool
	body    string
	log     string
}

// excerpts adds a collapsible block per failed stack (open) and per
// changed stack, in that order and then in run order. Each block gets at
// most an equal share of the room left, so one huge plan cannot crowd out
// the others; a block with less than minExcerpt of room is left out.
func excerpts(d *doc, stacks []StackReport) {
	var blocks []detail
	for i := range stacks {
		s := &stacks[i]
		if s.Status == StatusFailed || s.Status == StatusInterrupted {
			body := s.Error
			if s.LogTail != "" {
				body = s.LogTail + "\n" + body
			}
			blocks = append(blocks, detail{summary: htmlCode(s.Path) + " " + s.Status, open: true, body: body, log: s.Log})
		}
	}
	for i := range stacks {
		s := &stacks[i]
		if s.Status == StatusSucceeded && s.Plan != nil && s.Plan.Changes && s.Plan.Excerpt != "" {
			sum := s.Plan.Summary
			blocks = append(blocks, detail{
				summary: fmt.Sprintf("%s: %d to create, %d to update, %d to delete", htmlCode(s.Path), sum.Create+sum.Replace, sum.Update, sum.Delete+sum.Replace),
				body:    s.Plan.Excerpt,
				log:     s.Log,
			})
		}
	}
	shortened, omitted := 0, 0
	for i, blk := range blocks {
		text, cut := blk.render(d.room() / (len(blocks) - i))
		switch {
		case text == "":
			omitted++
			continue
		case cut:
			shortened++
		}
		d.add(text)
	}
	if shortened > 0 {
		d.cut = append(d.cut, plural(shortened, "excerpt")+" shortened")
	}
	if omitted > 0 {
		d.cut = append(d.cut, plural(omitted, "excerpt")+" left out")
	}
}

// render returns the block in at most max bytes (no limit when max < 0),
// cutting the body at a line boundary and saying so (cut is then true),
// or "" when even a minimal excerpt does not fit.
func (blk detail) render(max int) (text string, cut bool) {
	if max >= 0 && max < minExcerpt {
		return "", false
	}
	open := "<details>"
	if blk.open {
		open = "<details open>"
	}
	body := strings.TrimRight(blk.body, "\n")
	fence := fenceFor(body)
	wrap := func(body, note string) string {
		return fmt.Sprintf("%s<summary>%s</summary>\n\n%stext\n%s\n%s\n%s</details>\n\n", open, blk.summary, fence, body, fence, note)
	}
	// The frame around the body: tags, summary, fences and newlines.
	frame := len(open) + len(blk.summary) + 2*len(fence) + len("<summary></summary>\n\ntext\n\n\n</details>\n\n")
	if max < 0 || frame+len(body) <= max {
		return wrap(body, ""), false
	}
	where := "the stack's log"
	if blk.log != "" {
		where = code(blk.log)
	}
	total := strings.Count(body, "\n") + 1
	note := fmt.Sprintf("\n_Cut: %s more lines in %s._\n", "0000000", where)
	room := max - frame - len(note)
	if room < minExcerpt {
		return "", false
	}
	kept := body[:room]
	if nl := strings.LastIndexByte(kept, '\n'); nl >= 0 {
		kept = kept[:nl]
	} else {
		for len(kept) > 0 && !utf8.RuneStart(body[len(kept)]) {
			kept = kept[:len(kept)-1]
		}
	}
	lines := strings.Count(kept, "\n") + 1
	return wrap(kept, fmt.Sprintf("\n_Cut: %d more lines in %s._\n", total-lines, where)), true
}

// fenceFor returns a code fence longer than any backtick run in body.
func fenceFor(body string) string {
	longest := 0
	for i := 0; ; {
		j := strings.IndexByte(body[i:], '`')
		if j < 0 {
			break
		}
		i += j
		n := 0
		for i < len(body) && body[i] == '`' {
			n++
			i++
		}
		longest = max(longest, n)
	}
	return strings.Repeat("`", max(3, longest+1))
}
