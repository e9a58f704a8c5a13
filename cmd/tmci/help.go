package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// commandDoc is what a command's --help says besides its flags.
type commandDoc struct {
	// args follows "tmci NAME [flags]" in the usage line: the
	// arguments the command takes, "" for none.
	args        string
	description string
	examples    []string
}

// commandDocs returns each command's help text by name. A command
// without an entry shows its one-line summary. It is a table, one entry
// per command, and is long for that reason only (the one function in
// cmd/ over 60 lines).
func commandDocs() map[string]commandDoc {
	return map[string]commandDoc{
		"list": {
			description: "Prints the stacks at or below the working directory, one path a line relative to it,\n" +
				"as terramate list does. --changed keeps the stacks a change touches; --run-order\n" +
				"prints them in the order a run would take (without the wants closure, as Terramate).",
			examples: []string{
				"tmci list",
				"tmci list --changed --why",
				"tmci list --run-order --tags app",
				"tmci list --changed --json",
			},
		},
		"graph": {
			description: "Prints the ordering graph of the selected stacks (after/before, parent before child).",
			examples:    []string{"tmci graph --format mermaid", "tmci graph --changed | dot -Tsvg > graph.svg"},
		},
		"backend": {
			description: "Prints the backend configuration terraform gets for a stack in an environment,\n" +
				"secrets redacted unless --show-secrets.",
			examples: []string{
				"tmci backend --env=prod --stack /network/vpc",
				"tmci backend --env=pr-7 --format json",
			},
		},
		"check": {
			description: "Checks the project's globals and, for every environment (or --env), that no two\n" +
				"stacks or environments share a state object and every value fits its backend.",
			examples: []string{"tmci check", "tmci check --env=prod --json"},
		},
		"generate": {
			description: "Writes backend.<env>.tfbackend into each stack for a stable environment, for tools\n" +
				"that run terraform without tmci; --check lists missing or stale files (exit 1).",
			examples: []string{"tmci generate --env=prod", "tmci generate --check"},
		},
		"init": {
			args: "[-- INIT_ARGS...]",
			description: "Runs terraform init in each selected stack with its backend for the environment.\n" +
				"Arguments after -- go to every terraform init.",
			examples: []string{"tmci init --env=staging", "tmci init --env=prod -- -upgrade"},
		},
		"plan": {
			args: "[-- PLAN_ARGS...]",
			description: "Plans the selected stacks in order, in parallel where the graph allows, and\n" +
				"writes each plan and the reports (summary.md, report.json, junit.xml) under .tmci/<env>/.\n" +
				"Arguments after -- go to every terraform plan.",
			examples: []string{
				"tmci plan --env=pr-7 --changed",
				"tmci plan --env=prod --stack /network/vpc --detailed-exitcode",
				"tmci plan --env=staging -- -refresh=false",
			},
		},
		"apply": {
			args: "[-- APPLY_ARGS...]",
			description: "Applies the selected stacks in order. In a terminal it first plans and asks for\n" +
				"confirmation (--yes skips the question); a protected environment needs --yes.\n" +
				"--from-plans applies the plans tmci plan saved.",
			examples: []string{
				"tmci apply --env=staging",
				"tmci apply --env=prod --changed --from-plans --yes",
			},
		},
		"destroy": {
			args: "[-- DESTROY_ARGS...]",
			description: "Destroys the selected stacks' resources in reverse order. In a terminal it plans\n" +
				"the destruction and asks; elsewhere it needs --yes. Protected environments refuse it.",
			examples: []string{"tmci destroy --env=pr-7", "tmci destroy --env=pr-7 --yes"},
		},
		"run": {
			args: "-- COMMAND [ARGS...]",
			description: "Runs COMMAND in every selected stack, in order, with TF_DATA_DIR, TF_CLI_ARGS_init\n" +
				"and TMCI_* set, so a plain terraform init gets the environment's backend.",
			examples: []string{
				"tmci run --env=pr-7 -- terraform validate",
				"tmci run --env=prod --stack /network/vpc -- terraform state list",
			},
		},
		"exec": {
			args: "-- COMMAND [ARGS...]",
			description: "Runs COMMAND in the stack of the working directory with its backend environment;\n" +
				"as a plugin: terramate run -- tmci exec --env=E -- terraform init.",
			examples: []string{
				"tmci exec --env=pr-7 -- terraform init",
				"terramate run -- tmci exec --env=prod -- terraform plan",
			},
		},
		"drift": {
			args: "[-- PLAN_ARGS...]",
			description: "Plans the selected stacks with refresh and reports drifted stacks and resources;\n" +
				"exits 2 on drift and writes drift.md, an issue body, next to the reports.",
			examples: []string{"tmci drift --env=prod"},
		},
		"matrix": {
			description: "Splits the selected stacks into CI jobs: a GitHub Actions matrix of independent\n" +
				"groups, or a GitLab child pipeline with one job per stack following the graph.",
			examples: []string{
				"tmci matrix --env=pr-7 --changed --format github",
				"tmci matrix --env=prod --format gitlab --command 'apply --yes' > child.yml",
			},
		},
		"version": {
			description: "Prints tmci's version, operating system and architecture (also tmci --version).",
		},
	}
}

// commandHelp writes the --help of the command whose flags are fs.
func commandHelp(w io.Writer, fs *pflag.FlagSet) {
	name := fs.Name()
	doc := commandDocs()[name]
	usage := "tmci " + name + " [flags]"
	if doc.args != "" {
		usage += " " + doc.args
	}
	fmt.Fprintf(w, "Usage: %s\n\n", usage)
	description := doc.description
	if description == "" {
		for _, c := range commands() {
			if c.name == name {
				description = c.summary + "."
			}
		}
	}
	fmt.Fprintf(w, "%s\n\nFlags:\n%s", description, fs.FlagUsages())
	if len(doc.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n  %s\n", strings.Join(doc.examples, "\n  "))
	}
}
