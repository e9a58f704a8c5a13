# Project-wide Terramate settings and globals. tmci reads these as they are;
# the project stays a valid Terramate project.
terramate {
  config {
    git {
      default_branch = "main"
      default_remote = "origin"
    }
  }
}

globals {
  org        = "acme"
  aws_region = "eu-west-1"
  owner      = "platform-team"
  # Every stack gets a name prefix built from its own path.
  prefix = "${global.org}-${tm_replace(terramate.stack.path.relative, "/", "-")}"
}
