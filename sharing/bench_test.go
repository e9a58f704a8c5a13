package sharing

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/project"
)

// BenchmarkConsumers99 is tmci's own work of outputs sharing for one
// source and 99 consumers, once the source's outputs are read: decoding
// them, then for each consumer evaluating its input and encoding its
// TF_VAR_ (reading its Terraform files for the variable's type). The
// terraform processes (one output -json) are bench/sharing.sh's.
func BenchmarkConsumers99(b *testing.B) {
	var src strings.Builder
	src.WriteString(head)
	for i := range 99 {
		fmt.Fprintf(&src, "-- c%02d/stack.tm --\nstack {}\ninput \"vpc\" {\n  backend       = \"default\"\n  from_stack_id = \"net\"\n  value         = outputs.vpc.value\n}\n", i)
		fmt.Fprintf(&src, "-- c%02d/sharing.tf --\nvariable \"vpc\" {\n  type = any\n}\n", i)
	}
	root := b.TempDir()
	if err := fixture.WriteFiles(root, txtar.Parse([]byte(src.String()))); err != nil {
		b.Fatal(err)
	}
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	pl, diags := Resolve(p)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	data := []byte(`{"vpc":{"sensitive":false,"type":"string","value":"vpc-1"}}`)
	name := func(s string) string { return s }
	b.ReportAllocs()
	for b.Loop() {
		outputs, _, err := DecodeOutputs(data)
		if err != nil {
			b.Fatal(err)
		}
		for path, ins := range pl.Inputs {
			vals := map[string]Value{}
			for _, in := range ins {
				v, d := pl.Eval(in, outputs, false, "pr-1", false)
				if d.HasErrors() {
					b.Fatal(d)
				}
				vals[in.Name] = v
			}
			if _, _, d := TFVars(filepath.Join(root, path), name, ins, vals); d.HasErrors() {
				b.Fatal(d)
			}
		}
	}
}
