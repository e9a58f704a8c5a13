stack {
  id          = "network-peering"
  description = "Peering to the legacy VPC"
  tags        = ["network", "legacy"]
  after       = ["/network/vpc"]
}
