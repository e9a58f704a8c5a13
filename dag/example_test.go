package dag_test

import (
	"fmt"

	"github.com/tmci/tmci/dag"
)

// A scheduler loop: take the ready stacks, run them, report each result.
// Here /net fails, so /app, which waits for it, is skipped while /dns,
// which does not, still runs.
func ExampleGraph_Walk() {
	x, _ := dag.NewIndex([]dag.Stack{
		{Path: "/net"},
		{Path: "/dns"},
		{Path: "/app", After: dag.Refs{List: []string{"/net", "/dns"}}},
	})
	g, diags := x.Build([]string{"/app", "/dns", "/net"})
	if diags.HasErrors() {
		panic(diags)
	}
	fmt.Println("order:", g.Order(), "waves:", g.Waves())
	w := g.Walk()
	for w.Remaining() > 0 {
		for _, p := range w.Ready() {
			if p == "/net" {
				skipped, _ := w.Fail(p)
				fmt.Println("failed", p, "skipped", skipped)
				continue
			}
			fmt.Println("ran", p)
			_ = w.Done(p)
		}
	}
	// Output:
	// order: [/dns /net /app] waves: [[/dns /net] [/app]]
	// ran /dns
	// failed /net skipped [/app]
}
