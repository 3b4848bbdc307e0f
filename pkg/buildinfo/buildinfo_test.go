package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"relpack/pkg/manifest"
)

func TestFromBuildInfo(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "relpack", Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified},
		}}
	}
	for _, c := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            manifest.Tool
	}{
		{"stamped wins over the build info", "v1.2.3", "abcdef0", vcs("true"),
			manifest.Tool{Name: "relpack", Version: "v1.2.3", Commit: "abcdef0", Go: "go1.26.0"}},
		{"clean checkout", "", "", vcs("false"),
			manifest.Tool{Name: "relpack", Version: "dev", Commit: rev, Go: "go1.26.0"}},
		{"modified checkout", "", "", vcs("true"),
			manifest.Tool{Name: "relpack", Version: "dev", Commit: rev + "-dirty", Go: "go1.26.0"}},
		{"go install of a module version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}},
			manifest.Tool{Name: "relpack", Version: "v0.4.0", Go: "go1.26.0"}},
		{"no build info", "", "", nil,
			manifest.Tool{Name: "relpack", Version: "dev", Go: "go1.26.0"}},
	} {
		if got := FromBuildInfo(c.version, c.commit, c.bi, "go1.26.0"); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestRead: the running binary's identity is one a manifest accepts.
func TestRead(t *testing.T) {
	got := Read("v9.9.9", "")
	if got.Name != "relpack" || got.Version != "v9.9.9" || got.Go != runtime.Version() {
		t.Errorf("Read = %+v", got)
	}
	m := &manifest.Manifest{Tool: &got}
	if err := m.Validate(); err != nil {
		for _, p := range err.(*manifest.InvalidError).Problems {
			if len(p.Field) > 5 && p.Field[:5] == "tool." {
				t.Errorf("the running relpack's record is refused: %v", p)
			}
		}
	}
}
