// Command terraform-provider-fixture is a Terraform provider built with
// terraform-plugin-framework for tmci's tests and benchmarks of provider
// installation: a few resources with real CRUD, padded to the size of a
// real provider by an embedded blob (pad.bin) that the builder writes
// before compiling (internal/fixtureprovider). It is installed from a
// filesystem mirror under the made-up address tmci.test/tmci/fixture.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers")
	flag.Parse()
	err := providerserver.Serve(context.Background(), newProvider(version), providerserver.ServeOpts{
		Address: "tmci.test/tmci/fixture",
		Debug:   *debug,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
