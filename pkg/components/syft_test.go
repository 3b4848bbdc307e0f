package components

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// syftUnknown is the version syft writes when a binary records none.
const syftUnknown = "UNKNOWN"

// syftPkg is what the comparison keeps of a syft-json artifact.
type syftPkg struct {
	Type    string // "go-module", "rust-crate"
	Name    string
	Version string
	Purl    string
}

func (p syftPkg) String() string { return p.Type + " " + p.Name + " " + p.Version + " " + p.Purl }

// runSyft scans one file with the pinned syft, its Go and Rust binary
// catalogers only (the others find nothing in these files, or things
// pkg/components does not claim to read, such as the ELF package notes),
// and returns the packages it found, sorted.
func runSyft(t *testing.T, path string) []syftPkg {
	t.Helper()
	syft := testdeps.Tool(t, "syft")
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(syft, "scan", "file:"+abs, "-o", "syft-json", "-q",
		"--override-default-catalogers", "go-module-binary-cataloger,cargo-auditable-binary-cataloger")
	// No network (update check, remote licences) and no state outside the
	// test: syft's cache and config live in a temporary home.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+home, "XDG_CONFIG_HOME="+home,
		"SYFT_CHECK_FOR_APP_UPDATE=false", "SYFT_GOLANG_SEARCH_REMOTE_LICENSES=false",
		"SYFT_GOLANG_SEARCH_LOCAL_MOD_CACHE_LICENSES=false")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("syft scan %s: %v\n%s", path, err, msg)
	}
	var doc struct {
		Artifacts []syftPkg `json:"artifacts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("syft-json of %s: %v", path, err)
	}
	sortPkgs(doc.Artifacts)
	return doc.Artifacts
}

func sortPkgs(p []syftPkg) {
	sort.Slice(p, func(i, j int) bool { return p[i].String() < p[j].String() })
}

// syftView is what syft reports for the components pkg/components read
// from one binary, each difference between the two readings explained
// where it is made. A difference this does not explain fails the test.
func syftView(t *testing.T, c *Components) []syftPkg {
	t.Helper()
	var want []syftPkg
	if c.Go != nil {
		// syft lists the Go standard library as a module of its own,
		// "stdlib" at the toolchain's version (without the "go"), where
		// pkg/components records the toolchain in GoBuild.Toolchain.
		v := strings.TrimPrefix(c.Go.Toolchain, "go")
		want = append(want, syftPkg{"go-module", "stdlib", c.Go.Toolchain, "pkg:golang/stdlib@" + v})
	}
	for _, m := range c.List {
		switch m.Ecosystem {
		case Golang:
			want = append(want, syftGo(m))
		case Cargo:
			if m.Build {
				// syft keeps runtime crates only: a build dependency
				// (build script, proc macro) is not linked into the
				// binary. pkg/components lists it, marked Build.
				continue
			}
			p := syftPkg{"rust-crate", m.Name, m.Version, m.Purl}
			if m.Source != SourceCratesIO {
				// syft gives every crate the crates.io purl; .dep-v0
				// does not say which git repository or registry a
				// "git", "local" or "registry" crate came from, so
				// pkg/components names no purl rather than a crates.io
				// crate that may not be the one compiled.
				p.Purl = "pkg:cargo/" + m.Name + "@" + purlEscape(m.Version)
			}
			want = append(want, p)
		}
	}
	sortPkgs(want)
	return want
}

// syftGo is syft's reading of one Go module.
func syftGo(m Component) syftPkg {
	p := syftPkg{"go-module", m.Name, m.Version, m.Purl}
	if m.Main && m.Version == devel {
		// The main module built without a version (-buildvcs=false, no
		// tag): Go records "(devel)", which pkg/components keeps as read;
		// syft, finding no version in the ldflags or build settings
		// either, writes "UNKNOWN". Neither purl names a version.
		p.Version = syftUnknown
		return p
	}
	if r := m.Replace; r != nil && r.Version == "" {
		// A module replaced by a directory: syft reads the directory's
		// "(devel)" as "UNKNOWN" and names the module path in its purl,
		// with no version; pkg/components keeps the required version
		// (v0.0.0, a placeholder) and gives no purl, since nothing
		// published names what was compiled.
		p.Version = syftUnknown
		p.Purl = goPurl(m.Name, "")
	}
	return p
}

// TestSyftAgrees is the differential test of issue 20: syft, scanning the
// two fixtures, finds the same Go modules and Rust crates pkg/components
// lists, up to the differences syftView explains.
func TestSyftAgrees(t *testing.T) {
	for _, f := range []string{goFixture, rustFixture, cFixture} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := runSyft(t, f)
			want := syftView(t, mustRead(t, f))
			if len(got) == 0 && len(want) == 0 {
				return // nothing recorded, nothing found
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("syft and pkg/components differ on %s (an unexplained difference):\nsyft:\n  %s\npkg/components, as syft would say it:\n  %s",
					f, join(got), join(want))
			}
		})
	}
}

func join(p []syftPkg) string {
	s := make([]string, len(p))
	for i := range p {
		s[i] = p[i].String()
	}
	return strings.Join(s, "\n  ")
}
