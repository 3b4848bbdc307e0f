package release

import (
	"maps"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"strings"
	"testing"
)

// Selectors of one category add up; categories narrow each other.
func TestSelection(t *testing.T) {
	c := loadDemo(t)
	count := func(only ...string) (n int, kinds, arches map[string]bool) {
		t.Helper()
		s, err := newSelection(c, c.Inputs, only)
		if err != nil {
			t.Fatal(err)
		}
		kinds, arches = map[string]bool{}, map[string]bool{}
		for _, u := range units(c, c.Inputs) {
			if s.match(u) {
				n++
				kinds[u.kind], arches[u.arch] = true, true
			}
		}
		return n, kinds, arches
	}
	all := len(units(c, c.Inputs))
	if n, _, _ := count("x86_64", "aarch64"); n != all {
		t.Errorf("--only x86_64 --only aarch64 selects %d of %d", n, all)
	}
	// The demo splits debug symbols: a package's selector selects its
	// debug package too, and the debug kinds select them alone.
	if n, k, a := count("x86_64", "deb"); n != 10 || len(k) != 2 || !k["deb"] || !k["ddeb"] || len(a) != 1 || !a["x86_64"] {
		t.Errorf("--only x86_64 --only deb: %d units, kinds %v, arches %v", n, k, a)
	}
	if n, k, _ := count("el8", "debian12", "rpm"); n != 4 || len(k) != 2 || !k["debuginfo-rpm"] {
		t.Errorf("--only el8 --only debian12 --only rpm: %d units, kinds %v", n, k)
	}
	if n, k, _ := count("ddeb"); n != 10 || len(k) != 1 || !k["ddeb"] {
		t.Errorf("--only ddeb: %d units, kinds %v", n, k)
	}
	if n, k, _ := count("tarball", "aarch64"); n != 4 || len(k) != 2 || !k["debug-tarball"] {
		t.Errorf("--only tarball --only aarch64: %d units, kinds %v", n, k)
	}
	for _, bad := range [][]string{{"riscv64"}, {"el8", "tarball"}} { // a tarball has no distro target
		_, err := newSelection(c, c.Inputs, bad)
		if err == nil {
			t.Errorf("--only %v accepted", bad)
		} else if bad[0] == "riscv64" && !strings.Contains(err.Error(), "aarch64-unknown-linux-musl") {
			t.Errorf("--only riscv64: %v", err)
		}
	}
}

// The digest ignores where files are, and sees what they hold and every
// value that shapes an artifact.
func TestConfigDigest(t *testing.T) {
	c := loadDemo(t)
	sum := func(p string) string { return "sum-of-" + p[strings.LastIndex(p, "/")+1:] }
	c.DebugSymbols = nil // the demo's; the debug_symbols cases below add theirs
	v1 := manifest.Tool{Name: "relpack", Version: "v1", Commit: "0123456", Go: "go1.26.0"}
	d0, err := configDigest(c, c.Inputs, v1, sum)
	if err != nil {
		t.Fatal(err)
	}
	moved := *c
	moved.File, moved.Dir = "/elsewhere/packaging.yaml", "/elsewhere"
	moved.DebugSymbols = nil // the base of the debug_symbols cases below
	moved.Inputs = maps.Clone(c.Inputs)
	for k := range moved.Inputs {
		moved.Inputs[k] = "/elsewhere/" + k
	}
	if d, _ := configDigest(&moved, moved.Inputs, v1, sum); d != d0 {
		t.Error("moving the files changed the digest")
	}
	summary := moved
	summary.Summary += "!"
	// debug_symbols: the split, the policy and which inputs have a debug
	// file change it; where the debug files are does not.
	split, unstripped, withFile, movedFile := moved, moved, moved, moved
	split.DebugSymbols = &config.DebugSymbols{Split: true, WithoutBuildID: config.WithoutBuildIDRefuse}
	unstripped.DebugSymbols = &config.DebugSymbols{Split: true, WithoutBuildID: config.WithoutBuildIDUnstripped}
	withFile.DebugSymbols = &config.DebugSymbols{Split: true, WithoutBuildID: config.WithoutBuildIDRefuse,
		Files: map[string]string{moved.Inputs["x86_64-unknown-linux-gnu"]: "/elsewhere/gw.debug"}}
	movedFile.DebugSymbols = &config.DebugSymbols{Split: true, WithoutBuildID: config.WithoutBuildIDRefuse,
		Files: map[string]string{moved.Inputs["x86_64-unknown-linux-gnu"]: "/other/place/gw.debug"}}
	dSplit, _ := configDigest(&split, moved.Inputs, v1, sum)
	dFile, _ := configDigest(&withFile, moved.Inputs, v1, sum)
	dMoved, _ := configDigest(&movedFile, moved.Inputs, v1, sum)
	if dSplit == d0 || dFile == dSplit || dMoved != dFile {
		t.Errorf("debug_symbols: digests %s (none) %s (split) %s (a debug file) %s (moved): want split and a file to change it, a move not to", d0, dSplit, dFile, dMoved)
	}
	if d, _ := configDigest(&unstripped, moved.Inputs, v1, sum); d == dSplit {
		t.Error("without_build_id: unstripped kept the digest of refuse")
	}
	for name, d := range map[string]func() (string, error){
		"summary": func() (string, error) { return configDigest(&summary, moved.Inputs, v1, sum) },
		"relpack": func() (string, error) {
			v2 := v1
			v2.Version = "v2"
			return configDigest(&moved, moved.Inputs, v2, sum)
		},
		"relpack commit": func() (string, error) {
			c := v1
			c.Commit += "-dirty"
			return configDigest(&moved, moved.Inputs, c, sum)
		},
		"relpack Go": func() (string, error) {
			g := v1
			g.Go = "go1.26.1"
			return configDigest(&moved, moved.Inputs, g, sum)
		},
		"contents": func() (string, error) {
			return configDigest(&moved, moved.Inputs, v1, func(string) string { return "other" })
		},
		"triples": func() (string, error) {
			return configDigest(&moved, map[string]string{"x86_64-unknown-linux-gnu": "x"}, v1, sum)
		},
	} {
		if got, err := d(); err != nil || got == d0 {
			t.Errorf("a different %s kept the digest (%v)", name, err)
		}
	}
}
