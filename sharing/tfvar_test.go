package sharing

import "testing"

func TestSameTFVar(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`"vpc-1"`, `"vpc-1"`, true},
		{`"vpc-1"`, `"vpc-2"`, false},
		{"{\nl=[\"a\",\"b\"]\nn=3\n}", "{\n  l = [\"a\", \"b\"]\n  n = 3\n}", true},
		{"{\nl=[\"a\",\"b\"]\nn=3\n}", "{\n  l = [\"a\"]\n  n = 3\n}", false},
		{`3`, `"3"`, false},
		{`true`, `true`, true},
		{`[80,443]`, `[80, 443]`, true},
	}
	for _, tt := range tests {
		got, err := SameTFVar(tt.a, tt.b)
		if err != nil || got != tt.same {
			t.Errorf("SameTFVar(%q, %q) = %v, %v; want %v", tt.a, tt.b, got, err, tt.same)
		}
	}
	if _, err := SameTFVar(`{`, `1`); err == nil {
		t.Error("SameTFVar accepted a value that does not parse")
	}
}
