stack {
  id          = "svc-billing-db"
  description = "Billing database (nested stack)"
  tags        = ["services", "pci", "db"]
}
