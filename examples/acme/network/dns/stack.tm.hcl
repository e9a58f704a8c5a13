stack {
  id          = "network-dns"
  description = "Public and private DNS zones"
  tags        = ["network"]
  after       = ["../vpc"]
}
