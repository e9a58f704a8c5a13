stack {
  id          = "platform-observability"
  description = "Metrics and logs"
  tags        = ["platform", "monitoring"]
  after       = ["../cluster"]
}
