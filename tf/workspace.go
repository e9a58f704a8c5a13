package tf

import "fmt"

// WorkspaceEnv is the variable terraform and tofu read the selected
// workspace from. tmci owns the workspace: each (stack, environment) has
// its own backend object in the default workspace, and that is the object
// tmci check proves isolated. Another workspace moves state elsewhere
// without a word: the local backend to terraform.tfstate.d/<ws>/, s3 to
// <workspace_key_prefix>/<ws>/<key>, a new pg schema row, and the next
// environment's init in the same data directory fails on the missing
// workspace.
const WorkspaceEnv = "TF_WORKSPACE"

// WorkspaceError is the refusal of a TF_WORKSPACE that selects another
// workspace than the default.
type WorkspaceError struct{ Value string }

func (e *WorkspaceError) Error() string {
	return fmt.Sprintf("%s=%q is set: terraform would keep state in workspace %q (for a local backend in terraform.tfstate.d/%s/), not in the state object tmci resolved and checked for each stack and environment. tmci selects state per environment through the tmci.hcl backend template itself; unset %s (remove it from the CI variables) and choose the environment with --env",
		WorkspaceEnv, e.Value, e.Value, e.Value, WorkspaceEnv)
}

// CheckWorkspaceEnv refuses a TF_WORKSPACE other than empty or "default"
// in the environment getenv reads (DESIGN.md §2: refused, not cleared, so
// that a pipeline written for workspaces fails loudly instead of running
// in a place it did not mean).
func CheckWorkspaceEnv(getenv func(string) string) error {
	if v := getenv(WorkspaceEnv); v != "" && v != "default" {
		return &WorkspaceError{Value: v}
	}
	return nil
}

// checkWorkspace applies CheckWorkspaceEnv to a command environment, where
// the last of duplicate keys wins as in os/exec.
func checkWorkspace(env []string) error {
	return CheckWorkspaceEnv(func(key string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if len(env[i]) > len(key) && env[i][:len(key)] == key && env[i][len(key)] == '=' {
				return env[i][len(key)+1:]
			}
		}
		return ""
	})
}
