// Package synthrepo generates large synthetic Terramate repositories for
// benchmarks: many stacks, a long history, and a feature branch with a
// small change, written in one pass through git fast-import.
package synthrepo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Spec says what to generate.
type Spec struct {
	// Stacks is the number of stacks, spread over directories of 100
	// (stacks/gNNN/sNNNNN) so no tree gets huge.
	Stacks int
	// Commits is the length of main's history; each commit after the first
	// edits one stack, round robin.
	Commits int
	// Modules is how many local modules exist; stack i sources module
	// i % Modules. Zero means none.
	Modules int
	// FeatureStacks is how many stacks the feature branch edits; it also
	// edits module 0 when there are modules.
	FeatureStacks int
}

// Generate creates the repository in dir (which must be empty or absent),
// with main and refs/remotes/origin/main at the end of the history and the
// feature branch checked out.
func Generate(dir string, s Spec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := git(dir, nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	var stream bytes.Buffer
	writeStream(&stream, s)
	if err := git(dir, &stream, "fast-import", "--quiet"); err != nil {
		return err
	}
	return git(dir, nil, "checkout", "-q", "-f", "feature")
}

func stackDir(i int) string { return fmt.Sprintf("stacks/g%03d/s%05d", i/100, i) }

func stackTF(i, version, modules int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"terraform_data\" \"s\" {\n  input = %d\n}\n", version)
	if modules > 0 {
		fmt.Fprintf(&b, "\nmodule \"shared\" {\n  source = \"../../../modules/m%02d\"\n}\n", i%modules)
	}
	return b.String()
}

// writeStream writes the fast-import stream for s.
func writeStream(w io.Writer, s Spec) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	const epoch = 1767225600
	mark := 0
	file := func(path, content string) {
		fmt.Fprintf(bw, "M 100644 inline %s\ndata %d\n%s\n", path, len(content), content)
	}
	commit := func(ref, msg string, from int, t int) int {
		mark++
		fmt.Fprintf(bw, "commit %s\nmark :%d\ncommitter tmci <tmci@example.com> %d +0000\ndata %d\n%s\n", ref, mark, epoch+t, len(msg), msg)
		if from > 0 {
			fmt.Fprintf(bw, "from :%d\n", from)
		}
		return mark
	}
	commit("refs/heads/main", "initial", 0, 0)
	file("terramate.tm.hcl", "terramate {\n  config {\n    git {\n      default_branch = \"main\"\n    }\n  }\n}\n")
	for m := 0; m < s.Modules; m++ {
		file(fmt.Sprintf("modules/m%02d/main.tf", m), "resource \"terraform_data\" \"m\" {}\n")
	}
	for i := 0; i < s.Stacks; i++ {
		file(stackDir(i)+"/stack.tm", fmt.Sprintf("stack {\n  id   = \"s%05d\"\n  tags = [\"g%03d\"]\n}\n", i, i/100))
		file(stackDir(i)+"/main.tf", stackTF(i, 0, s.Modules))
	}
	bw.WriteString("\n")
	last := mark
	for c := 1; c < s.Commits; c++ {
		i := c % s.Stacks
		last = commit("refs/heads/main", fmt.Sprintf("edit %s", stackDir(i)), last, c)
		file(stackDir(i)+"/main.tf", stackTF(i, c, s.Modules))
		bw.WriteString("\n")
	}
	fmt.Fprintf(bw, "reset refs/remotes/origin/main\nfrom :%d\n\n", last)
	feature := commit("refs/heads/feature", "feature change", last, s.Commits)
	for k := 0; k < s.FeatureStacks; k++ {
		i := (k * 7919) % s.Stacks
		file(stackDir(i)+"/main.tf", stackTF(i, -1, s.Modules))
	}
	if s.Modules > 0 {
		file("modules/m00/main.tf", "resource \"terraform_data\" \"m\" {\n  input = \"feature\"\n}\n")
	}
	_ = feature
	bw.WriteString("\n")
}

func git(dir string, stdin io.Reader, args ...string) error {
	cmd := exec.Command("git", append([]string{"-c", "core.autocrlf=false"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
