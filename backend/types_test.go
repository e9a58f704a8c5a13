package backend

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/project"
)

// TestTypes resolves one template per backend type for stack /stacks/app
// in environment prod, and checks its identity, its rendering and that a
// bad value of the type's limited attributes is caught.
func TestTypes(t *testing.T) {
	tests := []struct {
		typ      string
		body     string
		identity string
		file     string
		bad      string // a body whose values break a limit, or "" when the type has none
	}{
		{
			typ:      "s3",
			body:     `bucket = "acme" ` + "\n" + `key = "${environment.name}/${terramate.stack.path.relative}"`,
			identity: `s3 endpoint="aws" bucket="acme" key="prod/stacks/app"`,
			file:     "bucket = \"acme\"\nkey    = \"prod/stacks/app\"\n",
			bad:      `bucket = "acme"` + "\n" + `key = "${environment.name}//x/"`,
		},
		{
			typ:      "gcs",
			body:     `bucket = "acme"` + "\n" + `prefix = "${environment.name}/${terramate.stack.path.relative}"`,
			identity: `gcs bucket="acme" object="prod/stacks/app/default.tfstate"`,
			file:     "bucket = \"acme\"\nprefix = \"prod/stacks/app\"\n",
			bad:      `bucket = "acme"` + "\n" + `prefix = "a\nb"`,
		},
		{
			typ: "azurerm",
			body: `storage_account_name = "acme"` + "\n" + `container_name = "tfstate"` + "\n" +
				`key = "${environment.name}/${terramate.stack.path.relative}"` + "\n" + `sas_token = "sv=2020"`,
			identity: `azurerm storage_account_name="acme" container_name="tfstate" key="prod/stacks/app"`,
			file:     "container_name       = \"tfstate\"\nkey                  = \"prod/stacks/app\"\nsas_token            = \"<redacted>\"\nstorage_account_name = \"acme\"\n",
			bad:      `storage_account_name = "Acme-Corp"` + "\n" + `container_name = "tfstate"` + "\n" + `key = "k"`,
		},
		{
			typ:      "local",
			body:     `path = "${environment.name}.tfstate"`,
			identity: `local path="$ROOT/stacks/app/prod.tfstate"`,
			file:     "path = \"prod.tfstate\"\n",
			bad:      `path = ""`,
		},
		{
			typ:      "pg",
			body:     `conn_str = "postgres://db/state"` + "\n" + `schema_name = "${environment.name}_${slug(terramate.stack.path.relative)}"`,
			identity: `pg host="db" port="5432" dbname="state" schema_name="prod_stacks-app"`,
			file:     "conn_str    = \"<redacted>\"\nschema_name = \"prod_stacks-app\"\n",
			bad:      `schema_name = "${environment.name}_${sha256(terramate.stack.path.relative)}"`,
		},
		{
			typ:      "http",
			body:     `address = "https://state.example.com/${environment.name}${terramate.stack.path.absolute}"` + "\n" + `password = "p"`,
			identity: `http address="https://state.example.com/prod/stacks/app"`,
			file:     "address  = \"https://state.example.com/prod/stacks/app\"\npassword = \"<redacted>\"\n",
			bad:      `address = "ftp://state.example.com/x"`,
		},
		{
			typ:      "consul",
			body:     `address = "consul:8500"` + "\n" + `path = "tfstate/${environment.name}/${terramate.stack.path.relative}"`,
			identity: `consul address="consul:8500" path="tfstate/prod/stacks/app"`,
			file:     "address = \"consul:8500\"\npath    = \"tfstate/prod/stacks/app\"\n",
			bad:      `path = ""`,
		},
		{
			typ:      "kubernetes",
			body:     `secret_suffix = "${environment.name}-${slug(terramate.stack.path.relative)}"`,
			identity: `kubernetes cluster="" (the kubeconfig's current context assumed) namespace="default" secret="tfstate-default-prod-stacks-app"`,
			file:     "secret_suffix = \"prod-stacks-app\"\n",
			bad:      `secret_suffix = "${environment.name}_${terramate.stack.path.relative}"`,
		},
		{
			typ:      "oss",
			body:     `bucket = "acme"` + "\n" + `prefix = "${environment.name}/${terramate.stack.path.relative}"`,
			identity: `oss bucket="acme" object="prod/stacks/app/terraform.tfstate"`,
			file:     "bucket = \"acme\"\nprefix = \"prod/stacks/app\"\n",
			bad:      `bucket = "acme"` + "\n" + `prefix = "${environment.name}/${join("", [for i in range(200) : terramate.stack.path.relative])}"`,
		},
		{
			typ:      "cos",
			body:     `bucket = "acme-1250000000"` + "\n" + `prefix = "${environment.name}/${terramate.stack.path.relative}"` + "\n" + `secret_id = "x"`,
			identity: `cos bucket="acme-1250000000" object="prod/stacks/app/terraform.tfstate"`,
			file:     "bucket    = \"acme-1250000000\"\nprefix    = \"prod/stacks/app\"\nsecret_id = \"<redacted>\"\n",
			bad:      `bucket = "acme"` + "\n" + `key = ""`,
		},
		{
			typ:      "remote",
			body:     `organization = "acme"` + "\n" + `token = "t"` + "\n" + `workspaces {` + "\n" + `name = "${environment.name}-${slug(terramate.stack.path.relative)}"` + "\n" + `}`,
			identity: `remote hostname="app.terraform.io" organization="acme" workspace="prod-stacks-app"`,
			file:     "organization = \"acme\"\ntoken        = \"<redacted>\"\nworkspaces {\n  name = \"prod-stacks-app\"\n}\n",
			bad:      `organization = "acme corp"` + "\n" + `workspaces {` + "\n" + `prefix = "app-"` + "\n" + `}`,
		},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.typ] = true
		t.Run(tt.typ, func(t *testing.T) {
			c := resolveType(t, tt.typ, tt.body)
			if diags := c.Limits(nil); len(diags) > 0 {
				t.Errorf("unexpected limit errors: %v", diags)
			}
			root, _ := c.canon.resolvePath(strings.TrimSuffix(c.stackDir, "/stacks/app"))
			if got := strings.ReplaceAll(c.Identity(nil).String(), root, "$ROOT"); got != tt.identity {
				t.Errorf("identity:\n got %s\nwant %s", got, tt.identity)
			}
			if diff := cmp.Diff(tt.file, string(c.TFBackend("", false))); diff != "" {
				t.Errorf("tfbackend (-want +got):\n%s", diff)
			}
			bad := resolveType(t, tt.typ, tt.bad)
			diags := bad.Limits(nil)
			if !diags.HasErrors() {
				t.Fatalf("no limit error for %s", tt.bad)
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("limit error without a source range: %v", d)
				}
			}
		})
	}
	for _, typ := range project.BackendTypes {
		if !covered[typ] {
			t.Errorf("backend type %s has no test case", typ)
		}
		if _, ok := specs[typ]; !ok {
			t.Errorf("backend type %s has no spec", typ)
		}
	}
}

// resolveType resolves a one-stack project with the given template.
func resolveType(t *testing.T, typ, body string) *Config {
	t.Helper()
	p := loadProject(t, fmt.Sprintf("-- tmci.hcl --\nbackend %q {\n%s\n}\nenvironment \"prod\" {}\n-- stacks/app/stack.tm --\nstack {}\n", typ, body))
	r, _ := NewResolver(p, Options{LookupEnv: envMap(nil)})
	c, diags := r.Resolve(p.Scope(p.Stacks[0]), "prod")
	if diags.HasErrors() || c == nil {
		t.Fatalf("resolving: %v", diags)
	}
	return c
}

// TestPGIdentity checks that credentials do not make two places of one
// database look different.
func TestPGIdentity(t *testing.T) {
	a := resolveType(t, "pg", `conn_str = "postgres://alice:pw1@DB.example.com/state?sslmode=require"`)
	b := resolveType(t, "pg", `conn_str = "postgresql://bob@db.example.com:5432/state"`)
	c := resolveType(t, "pg", `conn_str = "postgres://alice:pw1@db.example.com/other"`)
	if a.Identity(nil).Key() != b.Identity(nil).Key() {
		t.Errorf("same database, other credentials: %s != %s", a.Identity(nil), b.Identity(nil))
	}
	if a.Identity(nil).Key() == c.Identity(nil).Key() {
		t.Errorf("other database, same identity: %s", c.Identity(nil))
	}
}

func TestArgsAndJSON(t *testing.T) {
	c := resolveType(t, "pg", `conn_str = "postgres://u:pw@db/state"`+"\n"+`schema_name = "s_${environment.name}"`+"\n"+`skip_schema_creation = false`)
	args, err := c.Args(false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-backend-config=conn_str=<redacted>", "-backend-config=schema_name=s_prod", "-backend-config=skip_schema_creation=false"}
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = ShellQuote(a)
	}
	if got := strings.Join(quoted, " "); got != "'-backend-config=conn_str=<redacted>' -backend-config=schema_name=s_prod -backend-config=skip_schema_creation=false" {
		t.Errorf("quoted: %s", got)
	}
	j, err := c.JSON(true)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range j.Config {
		keys = append(keys, k+"="+string(j.Config[k]))
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{`conn_str="postgres://u:pw@db/state"`, `schema_name="s_prod"`, `skip_schema_creation=false`}, keys); diff != "" {
		t.Errorf("json config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"conn_str"}, j.Sensitive); diff != "" {
		t.Errorf("sensitive (-want +got):\n%s", diff)
	}
	remote := resolveType(t, "remote", "organization = \"acme\"\nworkspaces {\nname = \"x\"\n}")
	if _, err := remote.Args(false); err == nil {
		t.Error("args of a nested block: want an error")
	}
}
