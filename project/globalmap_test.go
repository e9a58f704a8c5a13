package project

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/internal/fixture"
)

// TestGlobalsMap: map blocks evaluate as in Terramate 0.17.2. The wanted
// values are what `terramate debug show globals` printed for this project:
// later elements replace earlier ones with the same key, element.old holds
// the replaced value, value blocks nest maps with the outer iterator in
// scope, and labelled blocks and plain globals may refer to map globals.
func TestGlobalsMap(t *testing.T) {
	p := load(t, `
-- globals.tm.hcl --
globals {
  list = [
    { name = "a", v = 1 },
    { name = "b", v = 2 },
    { name = "a", v = 3 },
  ]
  map "by_name" {
    for_each = global.list
    key      = element.new.name
    value    = element.new.v
  }
  map "all" {
    for_each = global.list
    key      = element.new.name
    value    = tm_concat(tm_try(element.old, []), [element.new.v])
  }
  map "nested" {
    for_each = ["x", "y"]
    iterator = it
    key      = it.new
    value {
      upper = tm_upper(it.new)
      map "inner" {
        for_each = [1, 2]
        key      = "${it.new}${element.new}"
        value    = element.new * 10
      }
    }
  }
}
globals "lab" "sub" {
  map "m" {
    for_each = { k1 = "v1", k2 = "v2" }
    key      = element.new
    value    = true
  }
}
globals "lab" "sub" "deep" {
}
-- s/stack.tm.hcl --
stack {}
globals {
  uses  = global.by_name.a
  count = tm_length(global.all.a)
}
`)
	v, diags := p.Scope(p.Stack("/s")).Globals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := `{"all":{"a":[1,3],"b":[2]},"by_name":{"a":3,"b":2},"count":2,` +
		`"lab":{"sub":{"deep":{},"m":{"v1":true,"v2":true}}},` +
		`"list":[{"name":"a","v":1},{"name":"b","v":2},{"name":"a","v":3}],` +
		`"nested":{"x":{"inner":{"x1":10,"x2":20},"upper":"X"},"y":{"inner":{"y1":10,"y2":20},"upper":"Y"}},"uses":3}`
	if diff := cmp.Diff(want, jsonOf(t, v)); diff != "" {
		t.Errorf("globals (-want +got):\n%s", diff)
	}
}

// TestGlobalsMapErrors: a malformed map block is an error at its range,
// at load time or when a stack evaluates it.
func TestGlobalsMapErrors(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		{"no label", `map { 
  for_each = [1]
  key = "a"
  value = 1
}`, "Invalid map block"},
		{"no for_each", `map "m" {
  key = "a"
  value = 1
}`, "Missing map for_each"},
		{"no key", `map "m" {
  for_each = [1]
  value = 1
}`, "Missing map key"},
		{"no value", `map "m" {
  for_each = [1]
  key = "a"
}`, "Missing map value"},
		{"value twice", `map "m" {
  for_each = [1]
  key = "a"
  value = 1
  value {
    x = 1
  }
}`, "Conflicting map value"},
		{"bad iterator", `map "m" {
  for_each = [1]
  key = "a"
  value = 1
  iterator = a.b
}`, "Invalid map iterator"},
		{"other block", `map "m" {
  for_each = [1]
  key = "a"
  value {
    x = 1
    other {}
  }
}`, "Unsupported block type"},
		{"clash", `m = 1
map "m" {
  for_each = [1]
  key = "a"
  value = 1
}`, "Global defined twice"},
		{"not iterable", `map "m" {
  for_each = 1
  key = "a"
  value = 1
}`, "Invalid map for_each"},
		{"null for_each", `map "m" {
  for_each = null
  key = "a"
  value = 1
}`, "Invalid map for_each"},
		{"key not a string", `map "m" {
  for_each = [1]
  key = [element.new]
  value = 1
}`, "Invalid map key"},
		{"undefined global", `map "m" {
  for_each = global.nope
  key = "a"
  value = 1
}`, "Undefined global"},
		{"cycle", `map "m" {
  for_each = [1]
  key = "a"
  value = global.m
}`, "Cycle between globals"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			src := "-- globals.tm.hcl --\nglobals {\n" + c.body + "\n}\n-- s/stack.tm.hcl --\nstack {}\n"
			if err := fixture.WriteFiles(root, txtar.Parse([]byte(src))); err != nil {
				t.Fatal(err)
			}
			p, diags := Load(root, Options{})
			if !diags.HasErrors() {
				_, diags = p.Scope(p.Stack("/s")).Globals()
			}
			var got []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					got = append(got, d.Summary)
					if d.Subject == nil || d.Subject.Filename != "globals.tm.hcl" {
						t.Errorf("%s: subject %v, want a range in globals.tm.hcl", d.Summary, d.Subject)
					}
				}
			}
			if !strings.Contains(strings.Join(got, "\n"), c.want) {
				t.Errorf("errors %q, want %q", got, c.want)
			}
		})
	}
}
