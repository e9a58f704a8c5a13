package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchProject writes a project of n stacks, 100 per group directory, each
// with a backend block, under the s3 template of DESIGN.md §2 with three
// environments (one a pattern), and returns its root.
func benchProject(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(".git/HEAD", "ref: refs/heads/main\n")
	write("tmci.hcl", `backend "s3" {
  bucket         = "acme-tfstate-${environment.account}"
  key            = "${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
  region         = global.aws_region
  dynamodb_table = "tfstate-locks"
}
environment "prod" {
  account = "prod"
}
environment "staging" {
  account = "stage"
}
environment "pr-*" {
  account = "dev"
  backend {
    bucket = "acme-tfstate-previews"
  }
}
`)
	write("globals.tm", "globals {\n  aws_region = \"eu-west-1\"\n}\n")
	for i := range n {
		dir := fmt.Sprintf("stacks/g%03d/s%05d", i/100, i)
		write(dir+"/stack.tm", fmt.Sprintf("stack {\n  id = \"s%05d\"\n  tags = [\"bench\"]\n}\n", i))
		write(dir+"/main.tf", "terraform {\n  backend \"s3\" {}\n}\nresource \"terraform_data\" \"x\" {}\n")
	}
	return root
}

// BenchmarkCheck measures `tmci check --env=prod` against its floor,
// `tmci list` on the same project: list loads the project, which check
// must do too, so the ratio of the two is what the backend checks cost.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		root := benchProject(b, n)
		for _, cmd := range [][]string{{"list"}, {"check", "--env=prod"}} {
			b.Run(fmt.Sprintf("%s/stacks=%d", cmd[0], n), func(b *testing.B) {
				b.ReportAllocs()
				args := append([]string{"-C", root}, cmd...)
				for b.Loop() {
					if code := run(context.Background(), args, io.Discard, io.Discard, func(string) string { return "" }); code != 0 {
						b.Fatalf("tmci %v: exit %d", cmd, code)
					}
				}
			})
		}
	}
}
