stack {
  id          = "platform-addons"
  description = "Cluster add-ons (nested stack)"
  tags        = ["platform"]
}
