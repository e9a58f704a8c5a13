package funcs

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestTable(t *testing.T) {
	table := Table()
	ctx := &hcl.EvalContext{Functions: table}
	tests := []struct {
		name string
		expr string
		want cty.Value
	}{
		{"upper", `upper("a")`, cty.StringVal("A")},
		{"tm prefix", `tm_upper("a")`, cty.StringVal("A")},
		{"slug", `slug("Stacks/App_1 ")`, cty.StringVal("stacks-app-1")},
		{"sha256", `substr(sha256("abc"), 0, 8)`, cty.StringVal("ba7816bf")},
		{"md5", `md5("")`, cty.StringVal("d41d8cd98f00b204e9800998ecf8427e")},
		{"replace literal", `replace("a.b.c", ".", "/")`, cty.StringVal("a/b/c")},
		{"replace regex", `replace("a1b22c", "/[0-9]+/", "-")`, cty.StringVal("a-b-c")},
		{"try default", `try(nope.x, "d")`, cty.StringVal("d")},
		{"ternary", `tm_ternary(false, 1, "b")`, cty.StringVal("b")},
		{"alltrue empty", `alltrue([])`, cty.True},
		{"anytrue", `anytrue([false, true])`, cty.True},
		{"sum", `sum([1, 2, 3])`, cty.NumberIntVal(6)},
		{"one", `one(["x"])`, cty.StringVal("x")},
		{"base64 round trip", `base64decode(base64encode("hé"))`, cty.StringVal("hé")},
		{"startswith", `startswith("pr-1", "pr-")`, cty.True},
		{"basename", `basename("/stacks/app")`, cty.StringVal("app")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if !got.RawEquals(tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestSensitive(t *testing.T) {
	ctx := &hcl.EvalContext{
		Functions: Table(),
		Variables: map[string]cty.Value{"pw": cty.StringVal("hunter2")},
	}
	for _, src := range []string{`sensitive(pw)`, `"u:${sensitive(pw)}@h"`, `upper(sensitive(pw))`, `sensitive(sensitive(pw))`} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if !v.HasMark(Sensitive) {
			t.Errorf("%s: the result is not marked sensitive", src)
		}
	}
}

func TestTableErrors(t *testing.T) {
	ctx := &hcl.EvalContext{Functions: Table()}
	for _, src := range []string{`sum([])`, `one([1, 2])`, `base64decode("%%%")`} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if _, diags := expr.Value(ctx); !diags.HasErrors() {
			t.Errorf("%s: want an error, got none", src)
		}
	}
}
