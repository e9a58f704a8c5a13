package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestRunEnv: a directory's run env overrides its parents' per name, the
// git settings beside it still load, and values evaluate per stack.
func TestRunEnv(t *testing.T) {
	p := load(t, `
-- terramate.tm.hcl --
terramate {
  config {
    git {
      default_branch = "trunk"
    }
    run {
      env {
        A = "root-${terramate.stack.name}"
        B = global.b
      }
    }
  }
}
globals {
  b = "from-globals"
}
-- stacks/env.tm --
terramate {
  config {
    run {
      env {
        B = "stacks-${env.WHO}"
      }
    }
  }
}
-- stacks/app/stack.tm --
stack {}
-- other/stack.tm --
stack {}
`)
	if p.Git.DefaultBranch != "trunk" {
		t.Errorf("default branch %q, want trunk", p.Git.DefaultBranch)
	}
	eval := func(path string) map[string]string {
		out := map[string]string{}
		sc := p.Scope(p.Stack(path))
		for _, attr := range p.RunEnv(path) {
			v, diags := sc.Eval(attr.Expr, map[string]cty.Value{"env": cty.ObjectVal(map[string]cty.Value{"WHO": cty.StringVal("me")})})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			out[attr.Name] = v.AsString()
		}
		return out
	}
	for path, want := range map[string]map[string]string{
		"/stacks/app": {"A": "root-app", "B": "stacks-me"},
		"/other":      {"A": "root-other", "B": "from-globals"},
	} {
		if diff := cmp.Diff(want, eval(path)); diff != "" {
			t.Errorf("run env of %s (-want +got):\n%s", path, diff)
		}
	}
}
