package backend

import (
	"fmt"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/tmci/tmci/project"
)

// Tool is the terraform-compatible binary a run uses.
type Tool struct {
	Name    string // "terraform" or "tofu"
	Version *version.Version
}

func (t Tool) String() string {
	if t.Name == "tofu" {
		return "OpenTofu " + t.Version.String()
	}
	return "terraform " + t.Version.String()
}

// versionedAttr is a backend attribute that older releases do not know:
// terraform refuses it with "Unsupported argument" at a line of the
// generated backend file, which the user never wrote.
type versionedAttr struct {
	typ, name       string
	terraform, tofu string // the first release that knows it
	instead         string // what older releases take
}

// versionedAttrs was measured with terraform 1.5.7, OpenTofu 1.6.3 and
// terraform 1.11.4 against an S3 server (docs/s3.md): terraform 1.5.7
// refuses endpoints, use_path_style, skip_requesting_account_id and
// use_lockfile, OpenTofu 1.6.3 refuses use_lockfile. Both spellings of
// the endpoint work from terraform and OpenTofu 1.6 on (the old one
// deprecated), so only the new spelling on an old release is refused.
var versionedAttrs = []versionedAttr{
	{"s3", "endpoints", "1.6.0", "1.6.0", `endpoint = "<S3 URL>" (dynamodb_endpoint, iam_endpoint and sts_endpoint for the other services)`},
	{"s3", "use_path_style", "1.6.0", "1.6.0", "force_path_style"},
	{"s3", "skip_requesting_account_id", "1.6.0", "1.6.0", "nothing: it does not ask for the account ID"},
	{"s3", "assume_role", "1.6.0", "1.6.0", "role_arn and the assume_role_* attributes at the top level"},
	{"s3", "assume_role_with_web_identity", "1.6.0", "1.6.0", "web_identity_token_file and role_arn at the top level"},
	{"s3", "use_lockfile", "1.10.0", "1.10.0", "dynamodb_table (locking through a DynamoDB table), or a newer release"},
}

// NeedsTool reports whether a backend template or environment override
// of p sets an attribute whose support depends on the release, so that
// CheckTool has something to check. A project without one never needs to
// ask the binary its version.
func NeedsTool(p *project.Project) bool {
	found := false
	eachVersioned(p, func(versionedAttr, hcl.Range) { found = true })
	return found
}

// CheckTool returns an error at each attribute of p's backend templates
// and environment overrides that tool does not know, naming the release
// that introduced it and what tool takes instead. A --backend-config
// value is not checked: it is the user's own, on the command line.
func CheckTool(p *project.Project, tool Tool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	eachVersioned(p, func(a versionedAttr, rng hcl.Range) {
		since := a.terraform
		if tool.Name == "tofu" {
			since = a.tofu
		}
		if tool.Version.GreaterThanOrEqual(version.Must(version.NewVersion(since))) {
			return
		}
		name := "terraform"
		if tool.Name == "tofu" {
			name = "OpenTofu"
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Backend attribute unknown to " + tool.String(),
			Detail: fmt.Sprintf("The %s backend of %s does not know %s (%s knows it from %s on) and would refuse it at init. Write %s instead, or run a newer release (--tf-bin, TMCI_TF_BIN).",
				a.typ, tool, a.name, name, since, a.instead),
			Subject: rng.Ptr(),
		})
	})
	return diags
}

// eachVersioned calls f for every versioned attribute (or nested block)
// set in a backend template of its type, and in an environment's backend
// override where overrides apply to that type (the root template's).
func eachVersioned(p *project.Project, f func(versionedAttr, hcl.Range)) {
	visit := func(typ string, body *hclsyntax.Body) {
		for _, a := range versionedAttrs {
			if a.typ != typ {
				continue
			}
			if attr, ok := body.Attributes[a.name]; ok {
				f(a, attr.NameRange)
			}
			for _, b := range body.Blocks {
				if b.Type == a.name {
					f(a, b.TypeRange)
				}
			}
		}
	}
	for _, b := range p.TMCI.Backends {
		visit(b.Type, b.Body)
	}
	root := p.TMCI.BackendFor("/")
	if root == nil {
		return
	}
	for _, e := range p.TMCI.Environments {
		if e.Backend != nil {
			visit(root.Type, e.Backend)
		}
	}
}
