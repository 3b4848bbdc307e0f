// Package buildinfo says which relpack is running: the version and commit
// stamped at link time (-X main.version, -X main.commit), else what the Go
// toolchain recorded in the binary (the module version, vcs.revision and
// vcs.modified), and the Go version that built it. relpack version prints
// it, and every manifest and provenance statement records it, so partial
// releases made by different relpacks are told apart.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"relpack/pkg/manifest"
)

// DevVersion is the version of a relpack built with none stamped and no
// module version recorded (go build in a checkout).
const DevVersion = "dev"

// Read returns the running relpack's identity. version and commit are the
// link-time values ("" when not stamped).
func Read(version, commit string) manifest.Tool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return FromBuildInfo(version, commit, bi, runtime.Version())
}

// FromBuildInfo is Read's logic, given the build info (nil when the binary
// carries none) and the Go version.
//
// A commit stamped at link time is taken as it is. Otherwise the commit is
// vcs.revision, with "-dirty" appended when vcs.modified is true: the work
// tree held changes the commit does not have, so the commit alone does not
// say what was built (git describe --dirty spells it the same way). Two
// dirty builds of one commit record the same identity; pin a release job
// to a tagged relpack, never to a dirty build.
func FromBuildInfo(version, commit string, bi *debug.BuildInfo, goVersion string) manifest.Tool {
	t := manifest.Tool{Name: manifest.ToolName, Version: version, Commit: commit, Go: goVersion}
	if bi != nil {
		if t.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			t.Version = bi.Main.Version
		}
		if t.Commit == "" {
			t.Commit = vcsCommit(bi.Settings)
		}
	}
	if t.Version == "" {
		t.Version = DevVersion
	}
	return t
}

// vcsCommit is vcs.revision (+"-dirty" when vcs.modified is true), "" when
// the build recorded no revision (-buildvcs=false, or no git checkout).
func vcsCommit(settings []debug.BuildSetting) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}
