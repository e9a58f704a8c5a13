globals {
  owner = "services-team"
}
