package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func (a *app) cmdVersion(args []string) int {
	fs := a.flags("version")
	if ok, code := a.parse(fs, args); !ok {
		return code
	}
	version := "devel"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	fmt.Fprintf(a.stdout, "tmci %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
	return exitOK
}
