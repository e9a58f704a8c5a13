stack {
  id          = "svc-web"
  description = "The web front end"
  tags        = ["services", "web"]
  after       = ["../api"]
}
