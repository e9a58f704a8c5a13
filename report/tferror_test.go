package report

import "testing"

func TestTerraformLocation(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		file      string
		line      int
		ok        bool
	}{
		{"plain", "Error: Reference to undeclared input variable\n\n  on main.tf line 5, in resource \"terraform_data\" \"x\":\n   5:   input = var.missing\n", "main.tf", 5, true},
		{"boxed", "╷\n│ Error: Unsupported argument\n│ \n│   on network.tf line 17:\n│   17:   foo = 1\n╵\n", "network.tf", 17, true},
		{"module", "Error: x\n\n  on ../modules/vpc/main.tf line 3, in module \"vpc\":\n", "../modules/vpc/main.tf", 3, true},
		{"warning first", "Warning: deprecated\n\n  on old.tf line 2:\n\nError: boom\n\n  on new.tf line 9:\n", "new.tf", 9, true},
		{"no error", "  on main.tf line 5:\n", "", 0, false},
		{"no location", "Error: Failed to get existing workspaces\n", "", 0, false},
		{"line zero", "Error: x\n  on main.tf line 0:\n", "", 0, false},
		{"cleaned", "Error: x\n  on ./a/../b.tf line 4:\n", "b.tf", 4, true},
	} {
		file, line, ok := TerraformLocation(tc.log)
		if file != tc.file || line != tc.line || ok != tc.ok {
			t.Errorf("%s: %q %d %v, want %q %d %v", tc.name, file, line, ok, tc.file, tc.line, tc.ok)
		}
	}
}
