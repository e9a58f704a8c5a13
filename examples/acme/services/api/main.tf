terraform {
  # tmci fills in the backend configuration per environment.
  backend "local" {}
}

module "service" {
  source   = "../../modules/service"
  name     = "svc-api"
  replicas = 2
}

output "name" {
  value = module.service.name
}
