// Command synth writes a synthetic Terramate project for benchmarks:
//
//	go run ./bench/synth -stacks 10000 -after 2 -tmci -terraform DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tmci/tmci/internal/synth"
)

func main() {
	var o synth.Options
	flag.IntVar(&o.Stacks, "stacks", 1000, "number of stacks")
	flag.IntVar(&o.After, "after", 0, "after edges per stack")
	flag.BoolVar(&o.TMCI, "tmci", false, "write a root tmci.hcl")
	flag.BoolVar(&o.Terraform, "terraform", false, "write main.tf with a terraform_data resource per stack")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: synth [flags] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := synth.Write(dir, o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
