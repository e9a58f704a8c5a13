package sharing

import (
	"encoding/json"
	"testing"

	"github.com/tmci/tmci/funcs"
)

// FuzzDecodeOutputs feeds DecodeOutputs what `terraform output -json`
// could print for a state the repository's code shaped: it must return
// an error or an object whose sensitive values (by encoding/json's
// reading), and only those, are marked; never panic.
func FuzzDecodeOutputs(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":{"sensitive":true,"type":"string","value":"s"}}`))
	f.Add([]byte(`{"a":{"sensitive":false,"type":["object",{"b":"number"}],"value":{"b":1}}}`))
	f.Add([]byte(`{"a":{"value":null,"sensitive":"true"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, _, err := DecodeOutputs(data)
		if err != nil {
			return
		}
		if !v.Type().IsObjectType() {
			t.Fatalf("outputs are a %s", v.Type().FriendlyName())
		}
		var oracle map[string]map[string]any
		if err := json.Unmarshal(data, &oracle); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		for name, o := range v.AsValueMap() {
			want := oracle[name]["sensitive"] == true
			if marked := o.GetAttr("value").HasMark(funcs.Sensitive); marked != want {
				t.Fatalf("output %s: value marked %v, sensitive %v", name, marked, want)
			}
		}
	})
}
