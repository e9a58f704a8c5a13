package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tmci/tmci/engine"
	"github.com/tmci/tmci/internal/fixture"
	"github.com/tmci/tmci/internal/testenv"
)

// protectProject writes a project of one stack, app, with a
// terraform_data resource, state in <root>/.tmci-state/<env>, and a
// protected environment prod.
func protectProject(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	ar := txtar.Parse([]byte(`-- tmci.hcl --
backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "prod" {
  protected = true
}
environment "pr-*" {}
-- app/stack.tm --
stack {}
-- app/main.tf --
terraform {
  backend "local" {}
}
resource "terraform_data" "x" {
  input = "keep me"
}
`))
	if err := fixture.WriteFiles(root, ar); err != nil {
		t.Fatal(err)
	}
	// The repository marks the project root for a command run in app.
	testenv.Git(t, root, "init", "-q")
	return root
}

// TestDestroyPlanNotApplied: a destroy plan put where tmci plan saved its
// plan is refused by apply --from-plans, and the resource survives.
func TestDestroyPlanNotApplied(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root := protectProject(t)
	env := runEnv(t, bin, nil)
	tmciWant(t, 0, env, "-C", root, "apply", "--env=pr-1", "--log-mode=quiet")
	tmciWant(t, 0, env, "-C", root, "plan", "--env=pr-1", "--log-mode=quiet")

	l := engine.Layout{Dir: filepath.Join(root, ".tmci", "pr-1")}
	cmd := exec.Command(bin, "plan", "-destroy", "-input=false", "-out="+l.PlanFile("/app"))
	cmd.Dir = filepath.Join(root, "app")
	cmd.Env = append(os.Environ(), "TF_DATA_DIR="+l.DataDir("/app"), "TF_CLI_CONFIG_FILE="+env["TF_CLI_CONFIG_FILE"], "CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform plan -destroy: %v\n%s", err, out)
	}
	out := tmciWant(t, 1, env, "-C", root, "apply", "--env=pr-1", "--from-plans", "--log-mode=quiet")
	if !strings.Contains(out, "1 failed") {
		t.Errorf("apply --from-plans of a destroy plan:\n%s", out)
	}
	rep := readReport(t, filepath.Join(root, ".tmci", "pr-1", "report.json"))
	if len(rep.Stacks) != 1 || !strings.Contains(rep.Stacks[0].Error, "not made by tmci plan") {
		t.Errorf("report: %+v", rep.Stacks)
	}
	if st := localState(t, root, "pr-1", "/app"); !strings.Contains(st, `"terraform_data"`) {
		t.Errorf("the resource was destroyed:\n%s", st)
	}
	// A plan tmci made is applied.
	tmciWant(t, 0, env, "-C", root, "plan", "--env=pr-1", "--log-mode=quiet")
	tmciWant(t, 0, env, "-C", root, "apply", "--env=pr-1", "--from-plans", "--log-mode=quiet")
}

// TestProtectionWhateverTheArguments: -destroy after -- is refused before
// anything runs, even with --yes; run and exec in a protected environment
// need --yes; an empty command is refused before any stack runs.
func TestProtectionWhateverTheArguments(t *testing.T) {
	t.Parallel()
	bin := findTool(t, tools[0])
	root := protectProject(t)
	env := runEnv(t, bin, nil)
	tmciWant(t, 0, env, "-C", root, "apply", "--env=prod", "--yes", "--log-mode=quiet")
	for _, args := range [][]string{
		{"apply", "--env=prod", "--yes", "--", "-destroy"},
		{"apply", "--env=pr-1", "--", "-destroy"},
		{"run", "--env=prod", "--", bin, "destroy", "-auto-approve"},
		{"run", "--env=prod", "--", ""},
		{"run", "--env=pr-1", "--", ""},
	} {
		code, _, stderr := tmciCode(t.Context(), env, append([]string{"-C", root}, args...)...)
		if code != 1 || !strings.Contains(stderr, "refused") && !strings.Contains(stderr, "--yes") && !strings.Contains(stderr, "empty") {
			t.Errorf("tmci %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		if _, err := os.Stat(filepath.Join(root, ".tmci", "pr-1")); err == nil {
			t.Errorf("tmci %s created the work directory of pr-1: it ran", strings.Join(args, " "))
		}
	}
	if st := localState(t, root, "prod", "/app"); !strings.Contains(st, `"terraform_data"`) {
		t.Errorf("prod's resource was destroyed:\n%s", st)
	}
	// exec in the stack directory: refused without --yes, run with it.
	app := filepath.Join(root, "app")
	code, _, stderr := tmciCode(t.Context(), env, "-C", app, "exec", "--env=prod", "--", "touch", "ran")
	if code != 1 || !strings.Contains(stderr, "--yes") {
		t.Errorf("exec without --yes: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(app, "ran")); err == nil {
		t.Error("exec ran without --yes")
	}
	tmciWant(t, 0, env, "-C", app, "exec", "--env=prod", "--yes", "--", "touch", "ran")
	if _, err := os.Stat(filepath.Join(app, "ran")); err != nil {
		t.Errorf("exec --yes did not run: %v", err)
	}
}
