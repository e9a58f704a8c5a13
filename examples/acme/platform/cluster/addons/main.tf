terraform {
  # tmci fills in the backend configuration per environment.
  backend "local" {}
}

resource "terraform_data" "this" {
  input = "platform-addons"
}

output "id" {
  value = terraform_data.this.output
}
