// Command tmci is a change-aware CI orchestrator for Terraform and OpenTofu
// monorepos laid out as Terramate stacks.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tmci/tmci/internal/memguard"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	limit, err := memguard.Limit(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tmci: %v\n", err)
		os.Exit(exitFailure)
	}
	memguard.Start(ctx, limit, 20*time.Millisecond, func(used uint64) {
		fmt.Fprintf(os.Stderr, "tmci: stopped: memory use reached %d MiB, over the limit of %d MiB. "+
			"A configuration expression (a global, an input or a backend value) probably builds a huge value, "+
			"such as nested for expressions over large collections: look for one in what this command evaluates. "+
			"Set %s (e.g. 8GiB, or off) to change the limit.\n", used>>20, limit>>20, memguard.EnvVar)
		os.Exit(exitFailure)
	})
	os.Exit(runInput(ctx, os.Stdin, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, os.Environ))
}
