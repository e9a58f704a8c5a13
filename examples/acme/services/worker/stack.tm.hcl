stack {
  id          = "svc-worker"
  description = "Background jobs"
  tags        = ["services"]
  after       = ["tag:platform"]
}
