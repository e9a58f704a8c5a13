package backend

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/tmci/tmci/project"
)

// FuzzResolve evaluates arbitrary template bodies for a stack and checks
// that resolution never panics, and that whatever resolves renders to a
// .tfbackend file that parses back to the same values.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{
		`key = "${environment.name}/${terramate.stack.path.relative}"`,
		`bucket = try(env.BUCKET, "d")` + "\n" + `region = global.region`,
		`path = sensitive("${env.HOME}/x")`,
		`workspaces {` + "\n" + `name = slug(terramate.stack.name)` + "\n" + `}`,
		`schema_name = substr(sha256(environment.account), 0, 12)` + "\n" + `n = 3` + "\n" + `b = true`,
		`l = ["a", 1, true]`,
		`x = null`,
		`k = "\n\"quoted\" ${"$"}{not} %{ if true }y%{ endif }"`,
	} {
		f.Add(seed)
	}
	p := loadProject(f, `
-- tmci.hcl --
backend "s3" {
  bucket = "b"
}
environment "prod" {
  account = "p"
}
-- globals.tm --
globals {
  region = "eu"
}
-- stacks/app/stack.tm --
stack {}
`)
	env := envMap(map[string]string{"BUCKET": "bk", "HOME": "/home/u"})
	f.Fuzz(func(t *testing.T, src string) {
		// A template that takes seconds is a bug worth seeing, with its input.
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q", src)) })
		defer tm.Stop()
		file, diags := hclsyntax.ParseConfig([]byte(src), "fuzz.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return
		}
		// A project value per input: the resolver reads the template
		// through p.TMCI, which the fuzzer swaps for its own.
		fp := *p
		fp.TMCI = &project.Config{
			Backends:     []*project.Backend{{Dir: "/", Type: "s3", Body: file.Body.(*hclsyntax.Body)}},
			Environments: p.TMCI.Environments,
		}
		r, _ := NewResolver(&fp, Options{LookupEnv: env})
		c, diags := r.Resolve(fp.Scope(fp.Stacks[0]), "prod")
		if diags.HasErrors() {
			return
		}
		c.Limits(nil)
		c.Identity(nil)
		if _, err := c.JSON(false); err != nil {
			t.Fatalf("json: %v", err)
		}
		c.Args(false)
		out := c.TFBackend("header", true)
		back, diags := hclsyntax.ParseConfig(out, "out.tfbackend", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("rendered file does not parse: %v\n%s", diags, out)
		}
		got := map[string]string{}
		body := back.Body.(*hclsyntax.Body)
		collect := func(b *hclsyntax.Body, prefix string) {
			for n, a := range b.Attributes {
				v, d := a.Expr.Value(nil)
				if d.HasErrors() {
					t.Fatalf("rendered %s does not evaluate: %v\n%s", n, d, out)
				}
				got[prefix+n] = v.GoString()
			}
		}
		collect(body, "")
		for _, b := range body.Blocks {
			collect(b.Body, b.Type+".")
		}
		if len(got) != len(c.Attrs) {
			t.Fatalf("rendered %d attributes, resolved %d:\n%s", len(got), len(c.Attrs), out)
		}
		for n, v := range c.Attrs {
			if want := v.Val.GoString(); got[n] != want && !v.Val.Type().IsTupleType() {
				t.Errorf("%s: rendered %s, resolved %s", n, got[n], want)
			}
		}
	})
}
