terraform {
  # tmci fills in the backend configuration per environment.
  backend "local" {}
}

module "service" {
  source   = "../../modules/service"
  name     = "svc-web"
  replicas = 2
}

output "name" {
  value = module.service.name
}
