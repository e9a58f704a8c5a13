stack {
  id          = "svc-api"
  description = "The public API"
  tags        = ["services", "web"]
  after       = ["/platform/cluster", "/platform/registry"]
}
