# A small local module: stacks that source it are marked changed when it
# changes.
variable "name" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}

resource "terraform_data" "service" {
  input = {
    name     = var.name
    replicas = var.replicas
  }
}

output "name" {
  value = terraform_data.service.output.name
}
