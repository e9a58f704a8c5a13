package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/tmci/tmci/project"
)

func (a *app) cmdVersion(args []string) int {
	fs := a.flags("version")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(a.stdout, "tmci %s %s/%s\n", tmciVersion(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(a.stdout, "reads Terramate projects as Terramate %s does\n", project.TerramateVersion)
	return exitOK
}

// tmciVersion is the module version tmci was built as, or "devel".
func tmciVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
