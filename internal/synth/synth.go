// Package synth writes synthetic Terramate projects of any size for
// benchmarks and scale tests. The layout is deterministic: the same options
// give the same files.
package synth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Options shapes a project. Stacks are spread over Areas top-level
// directories, each split into Groups subdirectories; globals are defined
// at the root, in every area and in every group (three levels), and every
// stack reads them.
type Options struct {
	Stacks int
	Areas  int // default 10
	Groups int // per area; default 10
	// After is how many after edges each stack declares to earlier stacks
	// of its group (the DAG stays acyclic).
	After int
	// TMCI writes a root tmci.hcl with a local backend template and the
	// environments prod, staging and pr-*.
	TMCI bool
	// Terraform writes a main.tf with a terraform_data resource and an
	// empty local backend block into every stack.
	Terraform bool
}

// StackPath returns the project path of stack i.
func (o Options) StackPath(i int) string {
	o = o.withDefaults()
	perGroup := (o.Stacks + o.Areas*o.Groups - 1) / (o.Areas * o.Groups)
	g := i / perGroup
	return fmt.Sprintf("/area%02d/group%02d/stack%04d", g/o.Groups, g%o.Groups, i)
}

func (o Options) withDefaults() Options {
	if o.Areas <= 0 {
		o.Areas = 10
	}
	if o.Groups <= 0 {
		o.Groups = 10
	}
	return o
}

// Write creates the project in dir, which must exist.
func Write(dir string, o Options) error {
	o = o.withDefaults()
	write := func(p, src string) error {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return os.WriteFile(full, []byte(src), 0o644)
	}
	root := `terramate {
  config {
    git {
      default_branch = "main"
    }
  }
}

globals {
  org    = "acme"
  region = "eu-west-1"
  name   = "${global.org}-${global.area}-${global.group}-${terramate.stack.name}"
}
`
	if err := write("terramate.tm.hcl", root); err != nil {
		return err
	}
	if o.TMCI {
		tmci := `backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}

environment "prod" {
  protected = true
}

environment "staging" {}

environment "pr-*" {
  ephemeral = true
}
`
		if err := write("tmci.hcl", tmci); err != nil {
			return err
		}
	}
	seenGroup := map[string]bool{}
	for i := 0; i < o.Stacks; i++ {
		sp := o.StackPath(i)
		group := filepath.ToSlash(filepath.Dir(sp))
		area := filepath.ToSlash(filepath.Dir(group))
		if !seenGroup[group] {
			seenGroup[group] = true
			if err := write(area+"/globals.tm", fmt.Sprintf("globals {\n  area = %q\n}\n", filepath.Base(area))); err != nil {
				return err
			}
			if err := write(group+"/globals.tm", fmt.Sprintf("globals {\n  group  = %q\n  region = \"us-east-1\"\n}\n", filepath.Base(group))); err != nil {
				return err
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "stack {\n  id   = \"s%05d\"\n  tags = [\"t%d\", \"all\"]\n", i, i%7)
		if o.After > 0 {
			var after []string
			for j := 1; j <= o.After && i-j >= 0; j++ {
				prev := o.StackPath(i - j)
				if filepath.Dir(prev) == filepath.Dir(sp) {
					after = append(after, fmt.Sprintf("%q", "../"+filepath.Base(prev)))
				}
			}
			if len(after) > 0 {
				fmt.Fprintf(&b, "  after = [%s]\n", strings.Join(after, ", "))
			}
		}
		b.WriteString("}\n")
		if err := write(sp+"/stack.tm", b.String()); err != nil {
			return err
		}
		if o.Terraform {
			tf := fmt.Sprintf("terraform {\n  backend \"local\" {}\n}\n\nresource \"terraform_data\" \"this\" {\n  input = \"s%05d\"\n}\n", i)
			if err := write(sp+"/main.tf", tf); err != nil {
				return err
			}
		}
	}
	return nil
}
