// Command driver runs the scheduler and the tf runner the way tmci's run
// commands will, for the benchmarks in bench/ (the CLI commands are not
// wired yet). It prints nothing but errors and the elapsed time.
//
//	driver -mode=exec -parallel=2 -nodes=1000 -work=DIR -- true
//	driver -mode=plan -parallel=2 -stacks=DIR -work=DIR [-show=false]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("driver", flag.ContinueOnError)
	mode := fs.String("mode", "exec", "exec: run a command per node; plan: init+plan+show every stack")
	parallel := fs.Int("parallel", 2, "tasks at once")
	nodes := fs.Int("nodes", 1000, "exec: number of nodes")
	stacks := fs.String("stacks", "", "plan: directory whose subdirectories are stacks")
	work := fs.String("work", "", "work directory for logs, data dirs and plans")
	show := fs.Bool("show", true, "plan: summarise plans with changes with show -json, as tmci plan does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *work == "" {
		return errors.New("-work is required")
	}
	r := &tf.Runner{Env: os.Environ()}
	var g scheduler.Deps
	var task scheduler.Task[bool]
	switch *mode {
	case "exec":
		argv := fs.Args()
		dir, err := os.Getwd()
		if err != nil {
			return err
		}
		for i := range *nodes {
			g.Order = append(g.Order, fmt.Sprintf("n%04d", i))
		}
		task = func(ctx context.Context, node string, out io.Writer) (bool, error) {
			return true, r.Exec(ctx, tf.Stack{Dir: dir, Out: out}, argv)
		}
	case "plan":
		bin, err := tf.FindBinary("", os.Getenv)
		if err != nil {
			return err
		}
		r.Bin = bin
		entries, err := os.ReadDir(*stacks)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				g.Order = append(g.Order, e.Name())
			}
		}
		task = func(ctx context.Context, node string, out io.Writer) (bool, error) {
			s := tf.Stack{
				Dir:         filepath.Join(*stacks, node),
				DataDir:     filepath.Join(*work, "data", node),
				BackendFile: filepath.Join(*work, "backend", node+".tfbackend"),
				Out:         out,
			}
			content := fmt.Sprintf("path = %q\n", filepath.Join(*work, "state", node+".tfstate"))
			if err := tf.WriteBackendFile(s.BackendFile, []byte(content)); err != nil {
				return false, err
			}
			if err := r.Init(ctx, s); err != nil {
				return false, err
			}
			plan := filepath.Join(*work, "plans", node+".tfplan")
			changes, err := r.Plan(ctx, s, plan)
			if err != nil || !changes || !*show {
				// Without changes (exit status 0) every count is zero.
				return changes, err
			}
			_, err = r.Show(ctx, s, plan)
			return changes, err
		}
	default:
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	logs := scheduler.LogFiles(func(node string) string { return filepath.Join(*work, "logs", node+".log") })
	start := time.Now()
	rs, err := scheduler.Run(ctx, g, scheduler.Options{Parallel: *parallel, Logs: logs}, task)
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range rs {
		if r.Status != scheduler.Succeeded {
			failed = append(failed, fmt.Sprintf("%s: %s %v", r.Node, r.Status, r.Err))
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	fmt.Printf("%d nodes in %.3fs\n", len(rs), time.Since(start).Seconds())
	return nil
}
