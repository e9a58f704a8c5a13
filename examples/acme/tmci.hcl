# tmci's own configuration: Terramate never reads this file.
#
# The local backend keeps the example self-contained: every (stack,
# environment) pair gets its own state file under .tmci-state/ at the
# project root. Swap it for s3, gcs, pg, ... in a real project.
backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}

environment "prod" {
  account   = "prod"
  protected = true
}

environment "staging" {
  account = "stage"
}

# Preview environments, one per pull request: pr-1, pr-123, ...
environment "pr-*" {
  account   = "dev"
  ephemeral = true
}

# Terraform variables for every stack, evaluated per stack and environment
# and passed as TF_VAR_<name>: each stack names its resources after
# var.environment, so prod, staging and every preview can be applied side
# by side. A subtree's tmci.hcl or an environment block may add inputs or
# override these (nearest wins, the environment's last).
inputs {
  environment = environment.name
}
