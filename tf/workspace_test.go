package tf_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tmci/tmci/tf"
)

// TestWorkspaceEnv runs real terraform and tofu on the local backend. It
// first shows the hazard: a plain apply under TF_WORKSPACE=feature writes
// terraform.tfstate.d/feature/ and ignores the configured path. Then the
// runner refuses the same variable before terraform starts, leaving no
// state anywhere; without it (or with "default") state lands at the
// configured path and no terraform.tfstate.d appears.
func TestWorkspaceEnv(t *testing.T) {
	const code = "terraform {\n  backend \"local\" {}\n}\nresource \"terraform_data\" \"x\" {}\n"
	for _, binName := range binaries {
		t.Run(binName, func(t *testing.T) {
			bin := requireBinary(t, binName)

			// The hazard, with the binary alone.
			plain := t.TempDir()
			writeFiles(t, plain, map[string]string{"main.tf": code, "b.tfbackend": "path = \"state/prod.tfstate\"\n"})
			for _, args := range [][]string{{"init", "-input=false", "-backend-config=b.tfbackend"}, {"apply", "-auto-approve", "-input=false"}} {
				cmd := exec.Command(bin, args...)
				cmd.Dir = plain
				cmd.Env = append(os.Environ(), "TF_WORKSPACE=feature", "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", binName, args, err, out)
				}
			}
			if _, err := os.Stat(filepath.Join(plain, "terraform.tfstate.d", "feature", "terraform.tfstate")); err != nil {
				t.Fatalf("%s no longer moves state under TF_WORKSPACE (%v): revisit tf.CheckWorkspaceEnv", binName, err)
			}

			for _, tc := range []struct {
				name, workspace string
				refused         bool
			}{
				{"feature", "TF_WORKSPACE=feature", true},
				{"default", "TF_WORKSPACE=default", false},
				{"unset", "TF_WORKSPACE=", false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					root := t.TempDir()
					stackDir := filepath.Join(root, "stacks", "app")
					writeFiles(t, stackDir, map[string]string{"main.tf": code})
					state := filepath.Join(root, "state", "prod.tfstate")
					var out bytes.Buffer
					s := tf.Stack{
						Dir:         stackDir,
						DataDir:     filepath.Join(root, ".tmci", "prod", "stacks", "app"),
						BackendFile: filepath.Join(root, ".tmci", "prod", "backend.tfbackend"),
						Out:         &out,
					}
					if err := tf.WriteBackendFile(s.BackendFile, []byte("path = \""+state+"\"\n")); err != nil {
						t.Fatal(err)
					}
					r := newRunner(t, bin, tc.workspace)
					err := r.Init(t.Context(), s)
					if err == nil {
						_, err = r.Apply(t.Context(), s, "")
					}
					var werr *tf.WorkspaceError
					if got := errors.As(err, &werr); got != tc.refused {
						t.Fatalf("refused = %v (%v), want %v\n%s", got, err, tc.refused, out.String())
					}
					if !tc.refused && err != nil {
						t.Fatalf("%v\n%s", err, out.String())
					}
					if _, err := os.Stat(filepath.Join(stackDir, "terraform.tfstate.d")); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("terraform.tfstate.d exists in the stack directory (%v)", err)
					}
					_, err = os.Stat(state)
					if tc.refused && !errors.Is(err, os.ErrNotExist) {
						t.Errorf("state written although TF_WORKSPACE was refused (%v)", err)
					}
					if !tc.refused && err != nil {
						t.Errorf("no state at the configured path: %v", err)
					}
					if tc.refused && out.Len() > 0 {
						t.Errorf("terraform ran although TF_WORKSPACE was refused:\n%s", out.String())
					}
				})
			}
		})
	}
}

// TestCheckWorkspaceEnv checks the message names the variable and the fix.
func TestCheckWorkspaceEnv(t *testing.T) {
	err := tf.CheckWorkspaceEnv(func(k string) string { return map[string]string{"TF_WORKSPACE": "pr-7"}[k] })
	if err == nil {
		t.Fatal("TF_WORKSPACE=pr-7 accepted")
	}
	for _, want := range []string{`TF_WORKSPACE="pr-7"`, "terraform.tfstate.d/pr-7/", "unset TF_WORKSPACE", "--env"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}
