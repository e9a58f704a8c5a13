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
