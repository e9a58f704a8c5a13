terraform {
  # tmci fills in the backend configuration per environment.
  backend "local" {}
}

# tmci passes it per environment (tmci.hcl, inputs): every resource name
# carries it, so environments applied side by side never collide.
variable "environment" {
  type = string
}

resource "terraform_data" "this" {
  input = "${var.environment}-platform-observability"
}

output "id" {
  value = terraform_data.this.output
}
