package engine

import (
	"fmt"
	"slices"
	"strings"
)

// refusedArgs are the terraform options a run refuses after --, with the
// tmci way to get what they do. Each changes what the operation does
// (destroys instead of applying, writes state or data elsewhere, skips
// the approval or the lock tmci relies on, or changes the output tmci
// reads), so accepting them would let an argument bypass a protected
// environment or the work directory (DESIGN.md §9).
var refusedArgs = map[string]string{
	"destroy":             "destroy with tmci destroy --env=E --yes (refused in a protected environment)",
	"auto-approve":        "tmci decides on approval: apply and destroy approve, and a protected environment needs --yes",
	"refresh-only":        "see what changed outside terraform with tmci drift",
	"state":               "the state lives in the environment's backend (tmci.hcl)",
	"state-out":           "the state lives in the environment's backend (tmci.hcl)",
	"backup":              "the state lives in the environment's backend (tmci.hcl)",
	"backend":             "tmci configures the backend from tmci.hcl",
	"backend-config":      "use tmci's own --backend-config flag, before --",
	"reconfigure":         "tmci already initialises with -reconfigure",
	"migrate-state":       "migrate state outside tmci, with terraform in the stack directory",
	"force-copy":          "migrate state outside tmci, with terraform in the stack directory",
	"from-module":         "tmci runs the stack's own code",
	"chdir":               "tmci runs each stack in its own directory; select stacks with --stack",
	"out":                 "tmci saves each stack's plan in the work directory (apply --from-plans uses it)",
	"detailed-exitcode":   "use tmci plan --detailed-exitcode",
	"lock":                "tmci always takes the state lock; tune the wait with --lock-timeout",
	"lock-timeout":        "use tmci's own --lock-timeout flag",
	"input":               "tmci runs terraform without input",
	"json":                "tmci reads terraform's human output",
	"generate-config-out": "run terraform plan -generate-config-out in the stack directory, outside tmci",
}

// valueArgs are terraform options that take their value as the next
// argument when written without "=".
var valueArgs = map[string]bool{
	"var": true, "var-file": true, "target": true, "replace": true,
	"parallelism": true, "plugin-dir": true, "lockfile": true,
}

// CheckExtra refuses the arguments after -- that would change what verb
// does: any option of refusedArgs, in any spelling (-x, --x, -x=value),
// and, for the verbs that run terraform, any positional argument (a plan
// file or directory: tmci passes its own). tmci run's command is the
// user's; it must only be a non-empty command name.
func CheckExtra(v Verb, extra []string) error {
	if v == Exec {
		if len(extra) > 0 && strings.TrimSpace(extra[0]) == "" {
			return fmt.Errorf("the command after -- is empty: name a program, as in tmci run --env=E -- terraform init")
		}
		return nil
	}
	for i := 0; i < len(extra); i++ {
		arg := extra[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return fmt.Errorf("argument %q after -- is refused: tmci %s passes terraform its own plan file and directory; after -- give only options such as -target or -var", arg, v)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if why, refused := refusedArgs[name]; refused {
			return fmt.Errorf("terraform option -%s after -- is refused in tmci %s: %s", name, v, why)
		}
		if valueArgs[name] && !hasValue {
			i++ // its value
		}
	}
	return nil
}

// envRefused are the options of refusedArgs a TF_CLI_ARGS variable may
// not set; the others (-input=false, -lock-timeout=5m) are common in CI
// settings and only tune a run.
var envRefused = []string{"destroy", "auto-approve", "refresh-only", "state", "state-out", "backup",
	"backend", "backend-config", "reconfigure", "migrate-state", "force-copy", "from-module", "chdir", "lock", "out"}

// CheckCLIArgsEnv refuses a TF_CLI_ARGS or TF_CLI_ARGS_<command>
// variable (name=value) that adds an option of envRefused to terraform's
// command line, so that the environment cannot do what -- may not.
func CheckCLIArgsEnv(name, value string) error {
	if !strings.HasPrefix(name, "TF_CLI_ARGS") {
		return nil
	}
	for _, f := range strings.Fields(value) {
		f = strings.Trim(f, `'"`)
		if !strings.HasPrefix(f, "-") {
			continue
		}
		n, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if slices.Contains(envRefused, n) {
			return fmt.Errorf("%s sets terraform option -%s, which tmci refuses: %s", name, n, refusedArgs[n])
		}
	}
	return nil
}
