package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// erroredState is the file terraform (and tofu) write into the working
// directory, the stack's, when apply or destroy changed resources but
// could not write the new state to the backend (the state database went
// away): the only record of those resources.
const erroredState = "errored.tfstate"

// withErroredState adds to err, the failure of a command started at
// start in stack directory dir, where terraform saved the state it could
// not write, so that the report and the CI annotation say it and a job
// does not end with the file unnoticed in its checkout.
func (r *Run) withErroredState(err error, dir string, start time.Time) error {
	if err == nil {
		return nil
	}
	path := filepath.Join(dir, erroredState)
	info, statErr := os.Stat(path)
	if statErr != nil || info.ModTime().Before(start.Add(-time.Second)) {
		return err
	}
	exec := "tmci exec"
	if r.Env.Name != "" {
		exec += " --env=" + r.Env.Name
	}
	return fmt.Errorf("%w; terraform could not write the state to the backend and saved it in %s: once the backend is back, run '%s -- terraform state push %s' in that directory, or terraform loses track of what it changed",
		err, r.rel(path), exec, erroredState)
}
