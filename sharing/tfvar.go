package sharing

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// ParseTFVar reads the value of a TF_VAR_ variable as terraform reads it
// for a variable of type any (the type of Terramate's generated
// declarations): an HCL expression of literals. It is how two tools'
// values are compared (bench/sharingparity): the same value may be
// spelled with other spacing.
func ParseTFVar(s string) (cty.Value, error) {
	expr, diags := hclsyntax.ParseExpression([]byte(s), "TF_VAR", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	return v, nil
}

// SameTFVar reports whether terraform reads a and b, two TF_VAR_ values
// of a variable of type any, as the same value (a list and a tuple of
// equal elements are the same; so are a map and an object).
func SameTFVar(a, b string) (bool, error) {
	va, err := ParseTFVar(a)
	if err != nil {
		return false, err
	}
	vb, err := ParseTFVar(b)
	if err != nil {
		return false, err
	}
	ja, err := ctyjson.SimpleJSONValue{Value: va}.MarshalJSON()
	if err != nil {
		return false, err
	}
	jb, err := ctyjson.SimpleJSONValue{Value: vb}.MarshalJSON()
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}
