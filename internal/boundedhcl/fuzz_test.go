package boundedhcl

import (
	"strings"
	"testing"
)

// FuzzParseConfig feeds arbitrary bytes, and the same bytes wrapped in
// deep nesting, to ParseConfig: it must return (never crash or overflow
// the stack), keep within MaxDiags, and place every error in the file.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"globals {\n  a = [1, {b = \"${x ? 1 : -2}\"}]\n}\n",
		"a = <<EOT\n%{ for x in y }${x}%{ endfor }\nEOT\n",
		"a = !!!-1\nb = x ? y : z ? w : v\n",
		"stack {\n  id = \"x\"\n}\n",
		"]]]}}}",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(200))
	}
	f.Fuzz(func(t *testing.T, src []byte, wrap uint8) {
		if wrap > 0 {
			n := int(wrap) * 4
			src = []byte("a = " + strings.Repeat("[(", n) + string(src) + strings.Repeat(")]", n))
		}
		// The shortcut that skips Check must never skip a file Check
		// refuses.
		if withinLimits(src) && Check(src, "f.tm").HasErrors() {
			t.Errorf("withinLimits passes a file Check refuses: %s", Check(src, "f.tm").Error())
		}
		_, diags := ParseConfig(src, "f.tm")
		if len(diags) > MaxDiags+1 {
			t.Errorf("%d diagnostics, over %d", len(diags), MaxDiags+1)
		}
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename != "f.tm" {
				t.Errorf("diagnostic in %q", d.Subject.Filename)
			}
		}
	})
}
