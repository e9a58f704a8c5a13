// Command genstacks writes the ordering benchmark's project (see
// synth.WriteGraph): N stacks in 100 directories, each after `fanout`
// distinct earlier stacks (N*fanout edges, no cycle), tag references and
// nested stacks. bench/list-run-order.sh times `tmci list --run-order` on it.
//
//	go run ./bench/genstacks -n 10000 -fanout 5 DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tmci/tmci/internal/synth"
)

func main() {
	n := flag.Int("n", 10000, "number of top-level stacks")
	fanout := flag.Int("fanout", 5, "after entries per stack")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: genstacks [-n N] [-fanout F] DIR")
		os.Exit(2)
	}
	if err := synth.WriteGraph(flag.Arg(0), *n, *fanout); err != nil {
		fmt.Fprintln(os.Stderr, "genstacks:", err)
		os.Exit(1)
	}
}
