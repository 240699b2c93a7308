package cli

import (
	"runtime/debug"
	"strings"
)

// modulePath is openimbot's module.
const modulePath = "github.com/openimbot/openimbot"

// version describes the running program: openimbot's module version (the
// main module's, or the dependency's in a custom build on cli.Main), the
// VCS revision it was built from when known, and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "openimbot (version unknown)"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			v = d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path
				if d.Replace.Version != "" {
					v += " " + d.Replace.Version
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	if bi.Main.Path != modulePath && bi.Main.Path != "" {
		extra = append(extra, "built into "+bi.Main.Path)
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+modified"
			}
		}
	}
	if rev != "" {
		extra = append(extra, "revision "+rev+dirty)
	}
	extra = append(extra, bi.GoVersion)
	return "openimbot " + v + " (" + strings.Join(extra, ", ") + ")"
}
