stack {
  id          = "platform-registry"
  description = "Container registry"
  tags        = ["platform"]
}
