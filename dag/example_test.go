package dag_test

import (
	"fmt"

	"github.com/tmci/tmci/dag"
)

// Ordering three stacks: /app runs after /net and /dns. Order and Waves
// come from Terramate's algorithm; Predecessors is what a scheduler waits
// for before starting a stack.
func ExampleIndex_Build() {
	x, _ := dag.NewIndex([]dag.Stack{
		{Path: "/net"},
		{Path: "/dns"},
		{Path: "/app", After: dag.Refs{List: []string{"/net", "/dns"}}},
	})
	g, diags := x.Build([]string{"/app", "/dns", "/net"})
	if diags.HasErrors() {
		panic(diags)
	}
	fmt.Println("order:", g.Order())
	fmt.Println("waves:", g.Waves())
	fmt.Println("/app waits for:", g.Predecessors("/app"))
	// Output:
	// order: [/dns /net /app]
	// waves: [[/dns /net] [/app]]
	// /app waits for: [/dns /net]
}
