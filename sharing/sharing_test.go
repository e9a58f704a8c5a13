package sharing

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/tools/txtar"

	"github.com/tmci/tmci/funcs"
	"github.com/tmci/tmci/internal/boundedhcl"
	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/project"
)

const head = `-- terramate.tm.hcl --
terramate {
  config {
    experiments = ["outputs-sharing"]
  }
}
sharing_backend "default" {
  type     = terraform
  filename = "sharing.tf"
  command  = ["tofu", "output", "-json"]
}
-- globals.tm --
globals {
  src = "net"
}
-- net/stack.tm --
stack {
  id = "net"
}
`

func resolve(t *testing.T, src string) (*Plan, error) {
	t.Helper()
	root := t.TempDir()
	if err := fixture.WriteFiles(root, txtar.Parse([]byte(head+src))); err != nil {
		t.Fatal(err)
	}
	p, diags := project.Load(root, project.Options{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	pl, diags := Resolve(p)
	if diags.HasErrors() {
		return pl, diags
	}
	return pl, nil
}

const consumer = `-- app/stack.tm --
stack {
  id = "app"
}
input "vpc" {
  backend       = "default"
  from_stack_id = global.src
  value         = "${outputs.vpc.value}-${terramate.stack.id}"
  mock          = "mock-vpc"
}
input "token" {
  backend       = "default"
  from_stack_id = "net"
  value         = tm_upper(outputs.token.value)
  sensitive     = false
}
input "always" {
  backend       = "default"
  from_stack_id = "net"
  value         = outputs.plain.value
  sensitive     = true
}
`

func TestResolve(t *testing.T) {
	pl, err := resolve(t, consumer)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range pl.Inputs["/app"] {
		got = append(got, in.Name+" <- "+in.Source+" via "+in.Backend.Name+" at "+in.Where())
	}
	want := []string{"vpc <- /net via default at app/stack.tm:4", "token <- /net via default at app/stack.tm:10", "always <- /net via default at app/stack.tm:16"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if !pl.Inputs["/app"][2].Sensitive || pl.Inputs["/app"][1].Sensitive {
		t.Error("sensitive is not read from the block")
	}
	if diff := cmp.Diff([]string{"/net"}, pl.Sources([]string{"/app", "/net"})); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown backend", "-- a/stack.tm --\nstack {}\ninput \"x\" {\n  backend = \"nope\"\n  from_stack_id = \"net\"\n  value = 1\n}\n", "a/stack.tm:3,13-19: Unknown sharing backend"},
		{"own stack", "-- a/stack.tm --\nstack {\n  id = \"a\"\n}\ninput \"x\" {\n  backend = \"default\"\n  from_stack_id = \"a\"\n  value = 1\n}\n", "a/stack.tm:6,19-22: Input reads its own stack"},
		{"id not a string", "-- a/stack.tm --\nstack {}\ninput \"x\" {\n  backend = \"default\"\n  from_stack_id = 3\n  value = 1\n}\n", "a/stack.tm:4,19-20: Invalid input from_stack_id"},
		{"undefined global", "-- a/stack.tm --\nstack {}\ninput \"x\" {\n  backend = \"default\"\n  from_stack_id = global.nope\n  value = 1\n}\n", "Undefined global"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestDecodeOutputs(t *testing.T) {
	v, secrets, err := DecodeOutputs([]byte(`{"vpc":{"sensitive":false,"type":"string","value":"vpc-1"},
"token":{"sensitive":true,"type":"string","value":"s3cret"},
"plain":{"sensitive":false,"type":["list","number"],"value":[1,2]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s3cret"}, secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	if !v.GetAttr("token").GetAttr("value").HasMark(funcs.Sensitive) || v.GetAttr("vpc").GetAttr("value").IsMarked() {
		t.Error("only the sensitive output's value is marked")
	}
	empty, _, err := DecodeOutputs([]byte("{}\n"))
	if err != nil || len(empty.Type().AttributeTypes()) != 0 {
		t.Errorf("no state: %#v, %v", empty, err)
	}
	for _, bad := range []string{``, `[]`, `{"a":1}`, `{"a":{"type":"string"}}`, `{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`} {
		if _, _, err := DecodeOutputs([]byte(bad)); err == nil {
			t.Errorf("DecodeOutputs(%.40q) accepted it", bad)
		}
	}
}

func TestEval(t *testing.T) {
	pl, err := resolve(t, consumer)
	if err != nil {
		t.Fatal(err)
	}
	ins := pl.Inputs["/app"]
	outputs, _, err := DecodeOutputs([]byte(`{"vpc":{"sensitive":false,"type":"string","value":"vpc-1"},
"token":{"sensitive":true,"type":"string","value":"s3cret"},
"plain":{"sensitive":false,"type":"string","value":"p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Val            string
		Secret, Mocked bool
	}
	got := map[string]result{}
	for _, in := range ins {
		v, diags := pl.Eval(in, outputs, false, "pr-1", false)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", in.Name, diags.Error())
		}
		got[in.Name] = result{v.Val.AsString(), v.Secret, v.Mocked}
	}
	want := map[string]result{
		"vpc":    {"vpc-1-app", false, false},
		"token":  {"S3CRET", true, false}, // from a sensitive output, whatever the block says
		"always": {"p", true, false},      // the block says so
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}

	// No state: the mock when allowed, else an error naming the block.
	v, diags := pl.Eval(ins[0], cty.EmptyObjectVal, true, "pr-2", true)
	if diags.HasErrors() || !v.Mocked || v.Val.AsString() != "mock-vpc" || v.Reason != "/net has no state in pr-2 yet" {
		t.Errorf("plan without state: %#v %v", v, diags)
	}
	_, diags = pl.Eval(ins[0], cty.EmptyObjectVal, true, "pr-2", false)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "app/stack.tm:4") || !strings.Contains(diags.Error(), "apply /net in pr-2 first") {
		t.Errorf("apply without state: %v", diags)
	}
	_, diags = pl.Eval(ins[1], cty.EmptyObjectVal, true, "pr-2", true) // no mock
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "declare a mock") {
		t.Errorf("plan without state or mock: %v", diags)
	}
}

// An output as large as terraform lets through (MaxOutputBytes) must not
// pass into an input: the value is capped like any value tmci evaluates.
// Without a mock, or in an apply, that is an error at the block; a plan
// takes the mock and says why.
func TestEvalValueTooLarge(t *testing.T) {
	pl, err := resolve(t, consumer)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", boundedhcl.MaxValueSize+1)
	outputs, _, err := DecodeOutputs([]byte(`{"vpc":{"sensitive":false,"type":"string","value":"` + big + `"},
"plain":{"sensitive":false,"type":"string","value":"` + big + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	ins := pl.Inputs["/app"]
	v, diags := pl.Eval(ins[2], outputs, false, "pr-1", true) // no mock
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "app/stack.tm:16") || !strings.Contains(diags.Error(), "Value too large") {
		t.Errorf("a value over the limit without a mock: %v", diags)
	}
	if v.Val != cty.NilVal {
		t.Errorf("a value over the limit without a mock still gave a value (mocked %v)", v.Mocked)
	}
	_, diags = pl.Eval(ins[0], outputs, false, "pr-1", false) // apply
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Value too large") {
		t.Errorf("a value over the limit in an apply: %v", diags)
	}
	v, diags = pl.Eval(ins[0], outputs, false, "pr-1", true) // plan with a mock
	if diags.HasErrors() || !v.Mocked || v.Val.AsString() != "mock-vpc" || !strings.Contains(v.Reason, "Value too large") {
		t.Errorf("a value over the limit in a plan: mocked %v, reason %q, %v", v.Mocked, v.Reason, diags)
	}
}

// HCL's message for a failed function call quotes the argument; one
// derived from a sensitive output (upper-cased here) is in no redaction
// set, so it must not reach the reason a log and report.json show.
func TestEvalFailureHidesSensitive(t *testing.T) {
	pl, err := resolve(t, `-- app/stack.tm --
stack {
  id = "app"
}
input "n" {
  backend       = "default"
  from_stack_id = "net"
  value         = tm_tonumber(tm_upper(outputs.token.value))
  mock          = 1
}
input "m" {
  backend       = "default"
  from_stack_id = "net"
  value         = tm_tonumber(outputs.token.value)
}
`)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := DecodeOutputs([]byte(`{"token":{"sensitive":true,"type":"string","value":"s3cret"}}`))
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := DecodeOutputs([]byte(`{"token":{"sensitive":false,"type":"string","value":"s3cret"}}`))
	if err != nil {
		t.Fatal(err)
	}
	ins := pl.Inputs["/app"]
	v, diags := pl.Eval(ins[0], secret, false, "pr-1", true)
	if diags.HasErrors() || !v.Mocked || !strings.Contains(v.Reason, "Invalid function argument") || strings.Contains(strings.ToLower(v.Reason), "s3cret") {
		t.Errorf("a failure on a sensitive output: mocked %v, reason %q, %v", v.Mocked, v.Reason, diags)
	}
	_, diags = pl.Eval(ins[1], secret, false, "pr-1", true)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Invalid function argument") || strings.Contains(strings.ToLower(diags.Error()), "s3cret") {
		t.Errorf("a failure on a sensitive output without a mock: %v", diags)
	}
	// A plain output's failure keeps HCL's detail.
	v, diags = pl.Eval(ins[0], plain, false, "pr-1", true)
	if diags.HasErrors() || !strings.Contains(v.Reason, `cannot convert "S3CRET" to number`) {
		t.Errorf("a failure on a plain output: reason %q, %v", v.Reason, diags)
	}
}
