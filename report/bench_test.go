package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The renderings run once per CI run over every stack; their floor is
// BenchmarkFloorVisit. BenchmarkFloorReportJSON, encoding the same report
// as report.json, is kept for comparison.

func BenchmarkRenderSummary(b *testing.B) {
	r := bigReport(1000, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		Summary(r)
	}
}

func BenchmarkRenderComment(b *testing.B) {
	r := bigReport(1000, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		Comment(r)
	}
}

func BenchmarkRenderJUnit(b *testing.B) {
	r := bigReport(1000, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JUnit(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloorReportJSON(b *testing.B) {
	r := bigReport(1000, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.MarshalIndent(r, "", "  "); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorVisit is the least any rendering of the report must do:
// visit every stack and write its path and status. JSON-encoding the
// whole report is no floor: the comment and JUnit leave out most of it
// and beat it.
func BenchmarkFloorVisit(b *testing.B) {
	r := bigReport(1000, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		for i := range r.Stacks {
			buf.WriteString(r.Stacks[i].Path)
			buf.WriteByte(' ')
			buf.WriteString(r.Stacks[i].Status)
			buf.WriteByte('\n')
		}
		if buf.Len() == 0 {
			b.Fatal("nothing written")
		}
	}
}
