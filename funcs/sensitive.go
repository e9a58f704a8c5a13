package funcs

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Mark is the type of the cty marks this package puts on values.
type Mark string

// Sensitive marks a value that must never be printed: sensitive() puts it
// on its argument, and the mark survives string templates and function
// calls, so "${sensitive(env.PW)}@host" is sensitive too. Renderers check
// it with value.HasMark(funcs.Sensitive).
const Sensitive Mark = "sensitive"

// sensitiveFunc returns its argument marked Sensitive. It accepts marked
// values so that marking twice is harmless.
var sensitiveFunc = function.New(&function.Spec{
	Params: []function.Parameter{{
		Name:             "value",
		Type:             cty.DynamicPseudoType,
		AllowNull:        true,
		AllowUnknown:     true,
		AllowDynamicType: true,
		AllowMarked:      true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(Sensitive), nil
	},
})
