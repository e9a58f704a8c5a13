# examples/acme with its state in S3 on a self-hosted server (MinIO,
# VersityGW, Ceph RGW, ...): put this block in examples/acme/tmci.hcl in
# place of its local backend block, and change each stack's main.tf to
# declare the s3 backend. docs/s3.md explains each setting; tmci's tests
# run exactly this.
#
# It is written in the spelling of terraform 1.5, which every release since
# takes (OpenTofu and terraform 1.6+ also take endpoints { s3 = ... } and
# use_path_style). On AWS drop endpoint, force_path_style, the skip_*
# settings and the keys: terraform then finds credentials as the AWS CLI does.
backend "s3" {
  bucket = "acme-tfstate"
  key    = "${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
  region = "us-east-1"

  endpoint                    = env.S3_ENDPOINT
  force_path_style            = true
  skip_credentials_validation = true
  skip_region_validation      = true
  skip_metadata_api_check     = true

  # The server's keys. Without S3_ACCESS_KEY and S3_SECRET_KEY terraform
  # reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY itself. Either way
  # tmci masks them in all it prints and writes them only into the 0600
  # backend file it hands to terraform.
  access_key = try(env.S3_ACCESS_KEY, null)
  secret_key = try(env.S3_SECRET_KEY, null)
}
