// Command genrepo writes a synthetic Terramate repository for benchmarks:
//
//	genrepo -stacks 10000 -commits 20000 DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tmci/tmci/internal/synthrepo"
)

func main() {
	var s synthrepo.Spec
	flag.IntVar(&s.Stacks, "stacks", 1000, "number of stacks")
	flag.IntVar(&s.Commits, "commits", 2000, "number of commits on main")
	flag.IntVar(&s.Modules, "modules", 10, "number of local modules the stacks source")
	flag.IntVar(&s.FeatureStacks, "feature-stacks", 5, "stacks the feature branch edits")
	flag.Parse()
	if flag.NArg() != 1 || s.Stacks < 1 || s.Commits < 1 {
		fmt.Fprintln(os.Stderr, "usage: genrepo [-stacks N] [-commits M] [-modules K] [-feature-stacks F] DIR")
		os.Exit(2)
	}
	if err := synthrepo.Generate(flag.Arg(0), s); err != nil {
		fmt.Fprintln(os.Stderr, "genrepo:", err)
		os.Exit(1)
	}
}
