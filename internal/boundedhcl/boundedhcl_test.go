package boundedhcl

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestCheck(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	chain := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("x ? ")
			b.WriteString(string(rune('a' + i%26)))
			b.WriteString(" : ")
		}
		b.WriteString("z")
		return b.String()
	}
	list := func(n int, elem string) string {
		return "[\n" + strings.Repeat(elem+",\n", n) + "]"
	}
	blocks := func(n int) string { return strings.Repeat("b {\n", n) + strings.Repeat("}\n", n) }
	directives := func(n int) string {
		return `"` + strings.Repeat("%{ if true }", n) + "x" + strings.Repeat("%{ endif }", n) + `"`
	}
	ok := MaxNesting - 2 // the attribute's own level and some slack
	tests := []struct {
		name string
		src  string
		want string // summary and line of the first diagnostic; "" for none
	}{
		{"plain", "globals {\n  a = 1\n  b = [1, 2, {c = \"${x}\"}]\n}\n", ""},
		{"brackets at the limit", "a = " + deep("[", "]", ok), ""},
		{"brackets over the limit", "\n\na = " + deep("[", "]", MaxNesting+1), "Nesting too deep:3"},
		{"parens", "a = " + deep("(", ")", 200_000), "Nesting too deep:1"},
		{"objects", "a = " + deep("{x = ", "}", MaxNesting+1), "Nesting too deep:1"},
		{"interpolations", "a = " + deep(`"${`, `}"`, MaxNesting+1), "Nesting too deep:1"},
		{"heredoc in interpolation", "a = <<EOT\n${" + deep("[", "]", MaxNesting) + "}\nEOT\n", "Nesting too deep:2"},
		{"unary run", "a = " + strings.Repeat("!", MaxNesting+1) + "true", "Nesting too deep:1"},
		{"negations", "a = " + strings.Repeat("-", 100_000) + "1", "Nesting too deep:1"},
		{"conditional chain", "a = " + chain(MaxNesting+1), "Nesting too deep:1"},
		{"conditional chain over lines in parens", "a = (" + strings.ReplaceAll(chain(MaxNesting+1), ":", ":\n") + ")", "Nesting too deep:"},
		{"many conditionals in a list", "a = " + list(1000, "x ? 1 : 2"), ""},
		{"many conditionals in a block", "globals {\n" + strings.Repeat("a = x ? 1 : 2\n", 1000) + "}\n", ""},
		{"nested blocks", blocks(MaxNesting + 1), "Nesting too deep:"},
		{"blocks at the limit", blocks(ok), ""},
		{"template directives", "a = " + directives(MaxNesting), "Nesting too deep:1"},
		{"template directives in sequence", "a = \"" + strings.Repeat("%{ if true }x%{ endif }", 1000) + "\"", ""},
		{"long operator chain", "a = 1" + strings.Repeat("+1", MaxStatementTokens), "Expression too large:1"},
		{"long list", "a = " + list(10_000, `"10.0.0.0/8"`), ""},
		{"many attributes", strings.Repeat("a = 1 + 2 + 3\n", 20_000), ""},
		{"unbalanced closers", strings.Repeat("}", 1000) + "\na = 1", ""},
		{"unclosed directive", `a = "%{ if x }` + `"` + strings.Repeat("\nb = 1", 300), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			diags := Check([]byte(tt.src), "f.tm")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Check took %v", d)
			}
			got := ""
			if len(diags) > 0 {
				got = diags[0].Summary + ":"
				if diags[0].Subject == nil || diags[0].Subject.Filename != "f.tm" {
					t.Errorf("diagnostic without the file: %v", diags[0])
				}
				if !strings.HasSuffix(tt.want, ":") {
					got += strings.TrimPrefix(diags[0].Subject.String(), "f.tm:")[:1]
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%v", diff, diags)
			}
			if tt.want == "" {
				// What Check lets through, the parser handles.
				ParseConfig([]byte(tt.src), "f.tm")
			}
		})
	}
}

func TestParseConfigTruncates(t *testing.T) {
	src := strings.Repeat("@@@ junk\n", 1000)
	f, diags := ParseConfig([]byte(src), "junk.tm")
	if f != nil {
		t.Error("a file with errors was returned")
	}
	if len(diags) != MaxDiags+1 {
		t.Fatalf("%d diagnostics, want %d", len(diags), MaxDiags+1)
	}
	if last := diags[len(diags)-1]; last.Summary != "Too many errors" || !strings.Contains(last.Detail, "more problems in junk.tm") {
		t.Errorf("last diagnostic = %v", last)
	}
}

func TestValueSize(t *testing.T) {
	big := cty.StringVal(strings.Repeat("x", 1000))
	tests := []struct {
		name  string
		v     cty.Value
		limit int
		want  int
	}{
		{"string", cty.StringVal("abc"), 100, 11},
		{"number", cty.NumberIntVal(5), 100, 8},
		{"null", cty.NullVal(cty.String), 100, 8},
		{"unknown", cty.UnknownVal(cty.String), 100, 8},
		{"object", cty.ObjectVal(map[string]cty.Value{"ab": cty.StringVal("c")}), 100, 8 + 2 + 9},
		{"map", cty.MapVal(map[string]cty.Value{"ab": cty.StringVal("c")}), 100, 8 + 2 + 9},
		{"list", cty.ListVal([]cty.Value{cty.True, cty.False}), 100, 24},
		{"marked", cty.StringVal("abc").Mark("sensitive"), 100, 11},
		{"stops past the limit", cty.TupleVal([]cty.Value{big, big, big, big}), 1500, 8 + 1008 + 1008},
	}
	for _, tt := range tests {
		if got := ValueSize(tt.v, tt.limit); got != tt.want {
			t.Errorf("%s: ValueSize = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestWithinLimitsIsConservative: at the edge of the nesting limit, the
// shortcut passes only what Check passes, and files Check refuses are
// still refused by ParseConfig.
func TestWithinLimitsIsConservative(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
	}{
		{"brackets", "a = " + strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting) + "\n"},
		{"brackets over", "a = " + strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1) + "\n"},
		{"unary", "a = " + strings.Repeat("!", MaxNesting) + "true\n"},
		{"unary over", "a = " + strings.Repeat("-", MaxNesting+1) + "1\n"},
		{"conditionals over", "a = " + strings.Repeat("x ? y : ", MaxNesting+1) + "z\n"},
		{"quotes and interpolations", "a = " + strings.Repeat(`"${`, MaxNesting/2+1) + "x" + strings.Repeat(`}"`, MaxNesting/2+1) + "\n"},
		{"directives", "a = \"" + strings.Repeat("%{ if x }", MaxNesting/2+1) + strings.Repeat("%{ endif }", MaxNesting/2+1) + "\"\n"},
	} {
		src := []byte(tc.src)
		refused := Check(src, "f.tm").HasErrors()
		if withinLimits(src) && refused {
			t.Errorf("%s: withinLimits passes a file Check refuses", tc.name)
		}
		if _, diags := ParseConfig(src, "f.tm"); refused && !diags.HasErrors() {
			t.Errorf("%s: Check refuses it but ParseConfig parsed it", tc.name)
		}
	}
	if !withinLimits([]byte("stack {\n  name = \"app\"\n  tags = [\"a\", \"b\"]\n}\n")) {
		t.Error("withinLimits refuses an ordinary stack file: the shortcut would never apply")
	}
	big := []byte("a = \"" + strings.Repeat("x", MaxStatementTokens/2) + "\"\n")
	if withinLimits(big) {
		t.Error("withinLimits passes a file of MaxStatementTokens/2 bytes or more without lexing it")
	}
}

// TestParseJSON: nesting that would overflow the JSON parser's or the
// template parser's stack is refused with a located diagnostic; ordinary
// files parse.
func TestParseJSON(t *testing.T) {
	deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
	tests := []struct {
		name, src string
		line      int
	}{
		{"deep arrays", `{"locals": {"a": ` + deep + `}}`, 1},
		{"deep objects", "{\n\"locals\": " + strings.Repeat(`{"a":`, MaxNesting) + `1` + strings.Repeat("}", MaxNesting) + "}", 2},
		{"deep template", `{"locals": {"a": "${` + strings.Repeat("(", 1<<20) + `1` + strings.Repeat(")", 1<<20) + `}"}}`, 1},
	}
	for _, tt := range tests {
		f, diags := ParseJSON([]byte(tt.src), "x.tf.json")
		if f != nil || !diags.HasErrors() {
			t.Errorf("%s: parsed", tt.name)
			continue
		}
		if r := diags[0].Subject; r == nil || r.Filename != "x.tf.json" || r.Start.Line != tt.line {
			t.Errorf("%s: diagnostic %v, want one at line %d", tt.name, diags[0], tt.line)
		}
	}
	ok := `{"locals": {"a": [[{"b": "${x} \" ["}]], "c": "` + strings.Repeat("(", 1000) + `"}}`
	f, diags := ParseJSON([]byte(ok), "ok.tf.json")
	if f == nil || diags.HasErrors() {
		t.Fatalf("an ordinary file was refused: %v", diags)
	}
	if _, diags := ParseJSON([]byte(`{"a": "\`), "cut.tf.json"); !diags.HasErrors() {
		t.Error("a cut file parsed")
	}
}
