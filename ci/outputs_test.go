package ci

import (
	"strings"
	"testing"
)

func TestSetOutputMultiline(t *testing.T) {
	var b strings.Builder
	SetOutput(&b, "k", "a\nb")
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "k<<tmci_") || lines[1] != "a" || lines[2] != "b" || lines[3] != strings.TrimPrefix(lines[0], "k<<") {
		t.Errorf("heredoc form wrong:\n%s", b.String())
	}
}
