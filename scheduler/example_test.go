package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tmci/tmci/scheduler"
)

// A failed node skips what depends on it; independent nodes still run.
func ExampleRun() {
	g := scheduler.Deps{
		Order: []string{"/net", "/db", "/app", "/docs"},
		After: map[string][]string{"/db": {"/net"}, "/app": {"/db"}},
	}
	opts := scheduler.Options{
		Parallel: 1,
		Console:  scheduler.NewConsole(os.Stdout, scheduler.Stream),
	}
	results, err := scheduler.Run(context.Background(), g, opts,
		func(_ context.Context, node string, out io.Writer) (int, error) {
			fmt.Fprintf(out, "working on %s\n", node)
			if node == "/net" {
				return 0, errors.New("quota exceeded")
			}
			return len(node), nil
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r.Node, r.Status, r.Err, r.FailedDeps)
	}
	// Output:
	// [/net] working on /net
	// [/docs] working on /docs
	// /net failed quota exceeded []
	// /db skipped <nil> [/net]
	// /app skipped <nil> [/net]
	// /docs succeeded <nil> []
}
