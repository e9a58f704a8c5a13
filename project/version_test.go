package project

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequiredVersion holds terramate.required_version to the answers of
// Terramate 0.17.2 itself, recorded by running `terramate list` on a root
// holding each constraint: "met" where it listed the stacks, "unmet" where
// it said "version constraint ... not satisfied", "invalid" where it said
// "malformed constraint".
func TestRequiredVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		constraint string
		allowPre   bool
		want       string
	}{
		{`">= 0.11.1"`, true, "met"},
		{`"~> 0.18.0"`, false, "unmet"},
		{`">= 0.17.2-rc1, < 0.18"`, false, "met"},
		{`">= 0.17.2-rc1, < 0.18"`, true, "met"},
		{`"at least 0.1"`, false, "invalid"},
		{`"~> 0.17"`, false, "met"},
		{`"0.17.2"`, false, "met"},
		{`"= 0.17.2"`, false, "met"},
		{`"> 0.17.2"`, false, "unmet"},
		{`">= 0.18.0-rc1"`, true, "unmet"},
		{`"~> 0.16.0"`, false, "unmet"},
		{`">=0.17,<1"`, false, "met"},
	}
	for _, tt := range tests {
		t.Run(tt.constraint, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := "terramate {\n  required_version = " + tt.constraint + "\n"
			if tt.allowPre {
				cfg += "  required_version_allow_prereleases = true\n"
			}
			cfg += "  config {}\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "terramate.tm.hcl"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			p, diags := Load(dir, Options{})
			got := ""
			switch {
			case diags.HasErrors():
				got = "invalid"
				if diags[0].Summary != "Invalid required_version" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
					t.Errorf("diagnostic %v, want Invalid required_version on line 2", diags[0])
				}
			case p.RequiredVersion == nil:
				t.Fatal("required_version not read")
			case p.RequiredVersion.Met():
				got = "met"
			default:
				got = "unmet"
				if d := p.RequiredVersion.Unmet(false); d.Subject == nil || d.Subject.Start.Line != 2 {
					t.Errorf("Unmet subject %v, want line 2", d.Subject)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-terramate 0.17.2 +tmci):\n%s", tt.constraint, diff)
			}
			if p != nil && p.RequiredVersion != nil && p.RequiredVersion.AllowPrereleases != tt.allowPre {
				t.Errorf("AllowPrereleases = %v, want %v", p.RequiredVersion.AllowPrereleases, tt.allowPre)
			}
		})
	}
}

func TestRequiredVersionAllowPrereleasesType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := "terramate {\n  required_version = \">= 0.1\"\n  required_version_allow_prereleases = \"yes\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "terramate.tm.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(dir, Options{})
	if !diags.HasErrors() || diags[0].Summary != "Invalid required_version_allow_prereleases" || diags[0].Subject.Start.Line != 3 {
		t.Errorf("diags = %v, want Invalid required_version_allow_prereleases on line 3", diags)
	}
}
