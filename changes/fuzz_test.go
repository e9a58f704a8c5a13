package changes

import (
	"path"
	"testing"
)

// FuzzParseTrigger reads arbitrary trigger files: no panic; a file is
// either a known trigger type or an error diagnostic.
func FuzzParseTrigger(f *testing.F) {
	for _, seed := range []string{
		"trigger {\n  type = changed\n}\n", "trigger {\n  type = \"ignore-change\"\n  reason = \"x\"\n}\n",
		"trigger {}\n", "trigger {\n  type = other\n}\n", "nothing = 1\n", "trigger {\n  type = 1 +\n}",
		"trigger \"a\" {\n  type = ${x}\n}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m := &mapper{}
		kind, ok := m.parseTrigger("/.tmtriggers/stacks/a/x.tm.hcl", src)
		switch {
		case ok && kind != triggerChanged && kind != triggerIgnore:
			t.Fatalf("accepted trigger type %q", kind)
		case ok && m.diags.HasErrors():
			t.Fatalf("accepted with errors: %v", m.diags)
		case !ok && !m.diags.HasErrors():
			t.Fatal("rejected without an error")
		}
	})
}

// FuzzModuleSources reads the local module sources of an arbitrary
// Terraform file: no panic, and every source found is a clean project
// path inside the root.
func FuzzModuleSources(f *testing.F) {
	for _, seed := range []string{
		"module \"a\" {\n  source = \"../modules/a\"\n}\n",
		"module \"b\" {\n  source = \"./b//sub\"\n}\nmodule \"c\" {\n  source = \"git::https://x\"\n}\n",
		"module \"d\" {\n  source = \"../../../../x\"\n}\n",
		"module \"e\" {\n  source = var.x\n}\n", "module {\n", "# module\nresource \"a\" \"b\" {}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var out dirModules
		out.parse("/stacks/a", "/stacks/a/main.tf", src)
		for _, r := range out.refs {
			if r.dir == "" || r.dir[0] != '/' || path.Clean(r.dir) != r.dir {
				t.Fatalf("module source resolved to %q", r.dir)
			}
		}
	})
}
