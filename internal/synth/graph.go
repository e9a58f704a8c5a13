package synth

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GraphStack is one stack of Graph: its path, tags and after entries.
type GraphStack struct {
	Path  string
	Tags  []string
	After []string
}

// Graph returns the ordering benchmarks' shape, unlike Write's layout
// (which exercises globals): n stacks in 100 directories, each after
// fanout distinct earlier stacks picked at random (a fixed seed) and named
// by absolute path, so n*fanout edges and no cycle; every tenth stack is
// tagged "tenth". dag's benchmark orders it in memory; WriteGraph writes
// it as a project for the end-to-end list --run-order benchmark.
func Graph(n, fanout int) []GraphStack {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func(i int) string { return fmt.Sprintf("/svc%02d/stack%05d", i%100, i) }
	stacks := make([]GraphStack, n)
	for i := range stacks {
		s := &stacks[i]
		s.Path = name(i)
		if i%10 == 0 {
			s.Tags = []string{"tenth"}
		}
		if i < fanout {
			continue
		}
		seen := map[int]bool{}
		for len(seen) < fanout {
			if j := rng.IntN(i); !seen[j] {
				seen[j] = true
				s.After = append(s.After, name(j))
			}
		}
	}
	return stacks
}

// WriteGraph writes Graph(n, fanout) into dir as a Terramate project, with
// what only a project has on top: the first ten stacks are also tagged
// "base", every hundredth one (i%100 == 50) is also after "tag:base", and
// every twentieth has a nested stack "nested" (so n + n/20 stacks).
func WriteGraph(dir string, n, fanout int) error {
	for i, s := range Graph(n, fanout) {
		tags := s.Tags
		if i < 10 {
			tags = append(tags, "base")
		}
		after := s.After
		if i%100 == 50 {
			after = append(after, "tag:base")
		}
		var b strings.Builder
		b.WriteString("stack {\n")
		if len(tags) > 0 {
			fmt.Fprintf(&b, "  tags = [%s]\n", quoteAll(tags))
		}
		if len(after) > 0 {
			fmt.Fprintf(&b, "  after = [%s]\n", quoteAll(after))
		}
		b.WriteString("}\n")
		d := filepath.Join(dir, filepath.FromSlash(s.Path))
		if err := writeFile(filepath.Join(d, "stack.tm"), b.String()); err != nil {
			return err
		}
		if i%20 == 0 {
			if err := writeFile(filepath.Join(d, "nested", "stack.tm"), "stack {}\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func writeFile(path, src string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(src), 0o644)
}
