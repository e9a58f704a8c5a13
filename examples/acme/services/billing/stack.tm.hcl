stack {
  id          = "svc-billing"
  description = "Billing service"
  tags        = ["services", "pci"]
  after       = ["/services/api"]
}
