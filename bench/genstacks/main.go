// Command genstacks writes a synthetic Terramate project for benchmarks:
// N stacks in 100 directories, each after `fanout` distinct earlier stacks
// named by absolute path (N*fanout edges, no cycle), every tenth stack
// tagged "tenth", every hundredth one also after "tag:base" (the first ten
// stacks carry that tag), and every twentieth with a nested stack.
//
//	go run ./bench/genstacks -n 10000 -fanout 5 DIR
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	n := flag.Int("n", 10000, "number of top-level stacks")
	fanout := flag.Int("fanout", 5, "after entries per stack")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: genstacks [-n N] [-fanout F] DIR")
		os.Exit(2)
	}
	if err := generate(flag.Arg(0), *n, *fanout); err != nil {
		fmt.Fprintln(os.Stderr, "genstacks:", err)
		os.Exit(1)
	}
}

func generate(dir string, n, fanout int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func(i int) string { return fmt.Sprintf("/svc%02d/stack%05d", i%100, i) }
	for i := range n {
		var b strings.Builder
		b.WriteString("stack {\n")
		var tags []string
		if i%10 == 0 {
			tags = append(tags, `"tenth"`)
		}
		if i < 10 {
			tags = append(tags, `"base"`)
		}
		if len(tags) > 0 {
			fmt.Fprintf(&b, "  tags = [%s]\n", strings.Join(tags, ", "))
		}
		var after []string
		seen := map[int]bool{}
		for i >= fanout && len(seen) < fanout {
			j := rng.IntN(i)
			if !seen[j] {
				seen[j] = true
				after = append(after, strconv.Quote(name(j)))
			}
		}
		if i%100 == 50 {
			after = append(after, `"tag:base"`)
		}
		if len(after) > 0 {
			fmt.Fprintf(&b, "  after = [%s]\n", strings.Join(after, ", "))
		}
		b.WriteString("}\n")
		d := filepath.Join(dir, filepath.FromSlash(name(i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "stack.tm"), []byte(b.String()), 0o644); err != nil {
			return err
		}
		if i%20 == 0 {
			nested := filepath.Join(d, "nested")
			if err := os.MkdirAll(nested, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(nested, "stack.tm"), []byte("stack {}\n"), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
