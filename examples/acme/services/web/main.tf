terraform {
  # tmci fills in the backend configuration per environment.
  backend "local" {}
}

# tmci passes it per environment (tmci.hcl, inputs): every resource name
# carries it, so environments applied side by side never collide.
variable "environment" {
  type = string
}

module "service" {
  source   = "../../modules/service"
  name     = "${var.environment}-svc-web"
  replicas = 2
}

output "name" {
  value = module.service.name
}
