package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tmci/tmci/internal/fixture"
)

var updateScripts = flag.Bool("update", false, "rewrite testscript golden files (cmp) with actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tmci": func() {
			os.Exit(runInput(context.Background(), os.Stdin, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, os.Environ))
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script. Besides the
// standard commands, a script has:
//
//	fixture NAME [DIR]   build testdata/repos/NAME.txtar as a git repo in DIR (default $WORK)
//
// and the environment has HOME=$WORK, deterministic git identity and dates.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams(t, "testdata/script"))
}

// scriptParams are the testscript parameters of the CLI scripts in dir.
func scriptParams(t *testing.T, dir string) testscript.Params {
	repos, err := filepath.Abs("../../testdata/repos")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:           dir,
		UpdateScripts: *updateScripts,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "tmci")
			env.Setenv("GIT_AUTHOR_EMAIL", "tmci@example.com")
			env.Setenv("GIT_COMMITTER_NAME", "tmci")
			env.Setenv("GIT_COMMITTER_EMAIL", "tmci@example.com")
			env.Setenv("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
			env.Setenv("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fixture": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 || len(args) > 2 {
					ts.Fatalf("usage: fixture NAME [DIR]")
				}
				dir := ts.Getenv("WORK")
				if len(args) == 2 {
					dir = ts.MkAbs(args[1])
					ts.Check(os.MkdirAll(dir, 0o755))
				}
				ts.Check(fixture.Build(filepath.Join(repos, args[0]+".txtar"), dir))
			},
		},
	}
}
