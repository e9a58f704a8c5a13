stack {
  id          = "platform-cluster"
  description = "The Kubernetes cluster"
  tags        = ["platform"]
  after       = ["/network"]
}
