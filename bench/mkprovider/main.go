// Command mkprovider builds the fixture provider (testdata/provider,
// package internal/fixtureprovider) padded to -pad-mb MiB and publishes
// it into the filesystem mirror -mirror; it prints the binary's and the
// archive's sizes. bench/providers.sh uses it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tmci/tmci/internal/fixtureprovider"
)

func main() {
	src := flag.String("src", "testdata/provider", "the provider's source `dir`")
	mirror := flag.String("mirror", "", "the filesystem mirror `dir` to publish into")
	version := flag.String("version", "1.0.0", "the provider's `version`")
	padMB := flag.Int("pad-mb", 24, "MiB of padding embedded in the binary")
	flag.Parse()
	if *mirror == "" {
		fmt.Fprintln(os.Stderr, "mkprovider: -mirror is required")
		os.Exit(2)
	}
	if err := run(*src, *mirror, *version, *padMB); err != nil {
		fmt.Fprintln(os.Stderr, "mkprovider:", err)
		os.Exit(1)
	}
}

func run(src, mirror, version string, padMB int) error {
	bin := filepath.Join(mirror, "..", "terraform-provider-fixture")
	if err := fixtureprovider.Build(context.Background(), os.Environ(), src, bin, version, padMB<<20); err != nil {
		return err
	}
	zip, err := fixtureprovider.Publish(mirror, bin, version)
	if err != nil {
		return err
	}
	for _, f := range []string{bin, zip} {
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %.1f MiB\n", f, float64(fi.Size())/(1<<20))
	}
	return nil
}
