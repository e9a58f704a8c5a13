package tf_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/tmci/tmci/scheduler"
	"github.com/tmci/tmci/tf"
)

// BenchmarkExecTrue runs 1,000 `true` processes two at a time: the floor
// starts them from a bare errgroup; the scheduler runs them as tmci run
// will, through Runner.Exec (own process group, interrupt on cancel) with a
// log file per node. bench/scheduler-overhead.sh compares with xargs -P2.
func BenchmarkExecTrue(b *testing.B) {
	const n = 1000
	trueBin, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true on PATH")
	}
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var eg errgroup.Group
			eg.SetLimit(2)
			for range n {
				eg.Go(func() error { return exec.Command(trueBin).Run() })
			}
			if err := eg.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scheduler", func(b *testing.B) {
		b.ReportAllocs()
		var g scheduler.Deps
		for i := range n {
			g.Order = append(g.Order, fmt.Sprintf("n%04d", i))
		}
		dir := b.TempDir()
		r := &tf.Runner{Env: os.Environ()}
		opts := scheduler.Options{
			Parallel: 2,
			Logs:     scheduler.LogFiles(func(node string) string { return filepath.Join(dir, "logs", node+".log") }),
		}
		task := func(ctx context.Context, _ string, out io.Writer) (struct{}, error) {
			return struct{}{}, r.Exec(ctx, tf.Stack{Dir: dir, Out: out}, []string{trueBin})
		}
		for b.Loop() {
			rs, err := scheduler.Run(b.Context(), g, opts, task)
			if err != nil {
				b.Fatal(err)
			}
			for _, res := range rs {
				if res.Status != scheduler.Succeeded {
					b.Fatalf("%s: %v", res.Node, res.Err)
				}
			}
		}
	})
}
