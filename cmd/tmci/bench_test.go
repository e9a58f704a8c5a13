package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchProject writes a project of n stacks, 100 per group directory, each
// with a backend block, under an s3 template (as in README.md) with three
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

// BenchmarkCheck measures `tmci check` (every environment, the pattern
// probed) and `tmci check --env=prod` against a floor any checker must
// pay: reading every file of the project once (readfiles). The target is
// 2 s at 10,000 stacks for check.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		root := benchProject(b, n)
		b.Run(fmt.Sprintf("readfiles/stacks=%d", n), func(b *testing.B) {
			for b.Loop() {
				readAll(b, root)
			}
		})
		for _, cmd := range [][]string{{"check"}, {"check", "--env=prod"}} {
			name := strings.Join(cmd, "")
			b.Run(fmt.Sprintf("%s/stacks=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				args := append([]string{"-C", root}, cmd...)
				for b.Loop() {
					if code := run(context.Background(), args, io.Discard, io.Discard, func(string) string { return "" }, os.Environ); code != 0 {
						b.Fatalf("tmci %v: exit %d", cmd, code)
					}
				}
			})
		}
	}
}

// readAll reads every regular file under root: the floor of any tool that
// checks a project's configuration.
func readAll(b *testing.B, root string) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(p)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
