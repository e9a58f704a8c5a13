stack {
  id          = "network-vpc"
  description = "The shared VPC"
  tags        = ["network"]
}
