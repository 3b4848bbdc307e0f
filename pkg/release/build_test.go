package release

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
)

func readManifest(t *testing.T, dir string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDemoArtifacts(t *testing.T) {
	dist := demoDist(t)
	m := readManifest(t, dist)
	var got []string
	for _, a := range m.Artifacts {
		got = append(got, a.File)
	}
	want := []string{
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el10.aarch64.rpm",
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el10.x86_64.rpm",
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el8.aarch64.rpm",
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el8.x86_64.rpm",
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el9.aarch64.rpm",
		"openshell-gateway-0.0.38~dev.108+g152d059-1.el9.x86_64.rpm",
		"openshell-gateway-aarch64-unknown-linux-gnu-z3.tar.gz",
		"openshell-gateway-aarch64-unknown-linux-gnu.tar.gz",
		"openshell-gateway-aarch64-unknown-linux-musl.tar.gz",
		"openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz",
		"openshell-gateway-x86_64-unknown-linux-gnu.tar.gz",
		"openshell-gateway-x86_64-unknown-linux-musl.tar.gz",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb11_amd64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb11_arm64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb12_amd64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb12_arm64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb13_amd64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~deb13_arm64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~ubuntu22.04_amd64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~ubuntu22.04_arm64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~ubuntu24.04_amd64.deb",
		"openshell-gateway_0.0.38~dev.108+g152d059-1~ubuntu24.04_arm64.deb",
	}
	// debug_symbols.split: a debug artifact beside each (the sidecar
	// tarballs share their tarball's debug tarball).
	for _, a := range want[:len(want):len(want)] {
		switch {
		case strings.HasSuffix(a, "-z3.tar.gz"):
		case strings.HasSuffix(a, ".tar.gz"):
			want = append(want, strings.TrimSuffix(a, ".tar.gz")+"-debug.tar.gz")
		case strings.HasSuffix(a, ".deb"):
			want = append(want, strings.Replace(strings.TrimSuffix(a, ".deb"), "openshell-gateway_", "openshell-gateway-dbgsym_", 1)+".ddeb")
		case strings.HasSuffix(a, ".rpm"):
			want = append(want, strings.Replace(a, "openshell-gateway-", "openshell-gateway-debuginfo-", 1))
		}
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("artifacts:\n got %q\nwant %q", got, want)
	}
	// Exactly the artifacts, their SBOMs, the provenance, the manifest
	// and the sums: no staging or temporary files left behind.
	entries, _ := os.ReadDir(dist)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	wantNames := append(append([]string{}, want...), "SHA256SUMS", "manifest.json", "provenance.intoto.json")
	for _, a := range want {
		wantNames = append(wantNames, a+".spdx.json", a+".cdx.json")
	}
	sort.Strings(wantNames)
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("output folder holds %q", names)
	}
	if m.Version != demoVer || m.DebVersion != "0.0.38~dev.108+g152d059-1" || m.RPMVersion != "0.0.38~dev.108+g152d059-1" {
		t.Errorf("versions: %s %s %s", m.Version, m.DebVersion, m.RPMVersion)
	}
	if m.Floor.Glibc != "2.28" || m.Floor.Families["GLIBCXX"] != "3.4.25" {
		t.Errorf("floor %+v", m.Floor)
	}
	for _, a := range m.Artifacts {
		st, err := os.Stat(filepath.Join(dist, a.File))
		if err != nil || st.Size() != a.Size || len(a.SHA256) != 64 {
			t.Errorf("%s: manifest size %d sha %q, file %v", a.File, a.Size, a.SHA256, err)
		}
		if a.Libc == "glibc" && !manifest.IsDebug(a.Kind) && (a.Floor != "2.28" || a.GlibcMeasured == "") {
			t.Errorf("%s: floor %q measured %q", a.File, a.Floor, a.GlibcMeasured)
		}
	}
}

func TestSHA256SUMSVerifies(t *testing.T) {
	testdeps.Tools(t, "sha256sum")
	dist := demoDist(t)
	out := sh(t, dist, "sha256sum", "--strict", "-c", "SHA256SUMS")
	if n := strings.Count(out, ": OK"); n != 128 {
		t.Errorf("sha256sum -c checked %d files, want 128 (22 artifacts and their 20 debug artifacts, their 84 SBOMs, provenance.intoto.json, manifest.json):\n%s", n, out)
	}
}

func TestDebRelations(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb")
	dist := demoDist(t)
	m := readManifest(t, dist)
	for _, a := range m.Artifacts {
		if a.Kind != "deb" {
			continue
		}
		p := filepath.Join(dist, a.File)
		dep := strings.TrimSpace(sh(t, "", "dpkg-deb", "-f", p, "Depends"))
		// libz3-4's version is what each distro's shlibs file gives (the
		// captured facts; dpkg-shlibdeps writes the same, see pkg/deps),
		// or none where nothing was captured (Ubuntu).
		want := map[string]string{"debian11": "libc6 (>= 2.28), libz3-4 (>= 4.8.10)", "debian12": "libc6 (>= 2.28), libz3-4 (>= 4.8.12)",
			"debian13": "libc6 (>= 2.28), libz3-4 (>= 4.13.3)", "ubuntu2204": "libc6 (>= 2.28), libz3-4", "ubuntu2404": "libc6 (>= 2.28), libz3-4"}[a.Distro]
		if dep != want {
			t.Errorf("%s Depends: %q, want %q", a.File, dep, want)
		}
		if got := strings.Join(a.Relations, ", "); got != dep {
			t.Errorf("%s: manifest relations %q, package %q", a.File, got, dep)
		}
		// The floor: enforced through Depends (above), stated for people in
		// the description (no custom control field: lintian's
		// unknown-field, and Debian's own packages carry none).
		if d := sh(t, "", "dpkg-deb", "-f", p, "Description"); !strings.Contains(d, "Requires glibc 2.28 or later") {
			t.Errorf("%s description lacks the floor line:\n%s", a.File, d)
		}
		if f := strings.TrimSpace(sh(t, "", "dpkg-deb", "-f", p, "X-Relpack-Glibc-Floor")); f != "" {
			t.Errorf("%s still carries X-Relpack-Glibc-Floor: %q", a.File, f)
		}
		listing := sh(t, "", "dpkg-deb", "-c", p)
		for _, want := range []string{"-rwxr-xr-x root/root", "./usr/bin/openshell-gateway", "./usr/lib/systemd/user/openshell-gateway.service", "./usr/share/doc/openshell-gateway/copyright"} {
			if !strings.Contains(listing, want) {
				t.Errorf("%s lacks %q:\n%s", a.File, want, listing)
			}
		}
	}
}

func TestRPMRelations(t *testing.T) {
	testdeps.Tools(t, "rpm")
	dist := demoDist(t)
	m := readManifest(t, dist)
	for _, a := range m.Artifacts {
		if a.Kind != "rpm" {
			continue
		}
		p := filepath.Join(dist, a.File)
		// The binary's relations are the plain ("manual") requires; rpm's
		// own format features (rpmlib) and the service scriptlets' needs
		// (Requires(post): /bin/sh, systemd) are the package's.
		reqs := manualRequires(t, p)
		sort.Strings(reqs)
		if !reflect.DeepEqual(reqs, a.Relations) {
			t.Errorf("%s requires\n %q\nmanifest says\n %q", a.File, reqs, a.Relations)
		}
		for _, want := range []string{"z3-libs", "libc.so.6(GLIBC_2.28)(64bit)", "glibc >= 2.28", "libz3.so.4.8()(64bit)"} {
			// EL8 ships no Z3, and none is known for EL10: their packages
			// carry their own and require none.
			if private := (a.Distro == "el8" || a.Distro == "el10") && strings.Contains(want, "z3"); contains(reqs, want) == private {
				t.Errorf("%s: requires %q is %v, want %v", a.File, want, !private, private)
			}
		}
		provides := lines(sh(t, "", "rpm", "-qp", "--provides", p))
		if want := "openshell-gateway = " + a.PackageVersion; !contains(provides, want) {
			t.Errorf("%s provides %q, want %q", a.File, provides, want)
		}
		info := sh(t, "", "rpm", "-qpi", p)
		if !strings.Contains(info, "Requires glibc 2.28 or later") {
			t.Errorf("%s description lacks the floor line:\n%s", a.File, info)
		}
		if out := sh(t, "", "rpm", "-K", "--nosignature", p); !strings.Contains(out, "digests OK") {
			t.Errorf("rpm -K %s: %s", a.File, out)
		}
	}
}

func TestTarballs(t *testing.T) {
	testdeps.Tools(t, "tar")
	dist := demoDist(t)
	for _, tgz := range filesIn(t, dist, "*.tar.gz") {
		if strings.HasSuffix(tgz, "-z3.tar.gz") || strings.HasSuffix(tgz, "-debug.tar.gz") {
			continue // sidecar layout: TestSidecarStartsWithoutSystemZ3; debug tarballs: TestDemoDebugSymbols
		}
		listing := sh(t, "", "tar", "-tvzf", tgz)
		ls := lines(listing)
		if len(ls) != 3 {
			t.Errorf("%s has %d entries:\n%s", tgz, len(ls), listing)
		}
		for _, l := range ls {
			if !strings.Contains(l, "root/root") || !strings.Contains(l, "2020-01-01 00:00") {
				t.Errorf("%s entry not root-owned at the epoch: %s", tgz, l)
			}
		}
		if !strings.HasPrefix(ls[2], "-rwxr-xr-x") || !strings.HasSuffix(ls[2], " openshell-gateway") {
			t.Errorf("%s: binary entry %q", tgz, ls[2])
		}
		dir := t.TempDir()
		sh(t, dir, "tar", "-xzf", tgz)
		if _, err := os.Stat(filepath.Join(dir, "openshell-gateway")); err != nil {
			t.Errorf("%s: extracted binary: %v", tgz, err)
		}
	}
}

func TestManifestShape(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(demoDist(t), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "product", "version", "deb_version", "rpm_version", "source_date_epoch", "floor", "inputs", "distros", "artifacts"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("manifest lacks %q", k)
		}
	}
	m := readManifest(t, demoDist(t))
	for _, a := range m.Artifacts {
		switch {
		case a.Kind == "tarball" && a.Triple == "x86_64-unknown-linux-musl":
			if a.Floor != "" || a.Z3 != "bundled" || a.Libc != "musl" {
				t.Errorf("musl tarball %+v", a)
			}
		case a.Kind == "tarball" && a.Triple == "x86_64-unknown-linux-gnu" && a.Sidecar != nil:
			if a.Z3 != "sidecar" || a.Runpath != "$ORIGIN/../lib" || a.Sidecar.Path != "lib/libz3.so.4" || len(a.Sidecar.SHA256) != 64 {
				t.Errorf("sidecar tarball %+v %+v", a, a.Sidecar)
			}
		case a.Kind == "tarball" && a.Triple == "x86_64-unknown-linux-gnu":
			if a.Z3 != "unbundled" || a.Z3So != "libz3.so.4" || a.Floor != "2.28" {
				t.Errorf("gnu tarball %+v", a)
			}
		}
	}
}

func TestBundledDemo(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	cfg, err := config.Load("../../testdata/demo/packaging-bundled.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	m, err := Run(Options{Config: cfg, Version: "1.2.0-rc.1", OutDir: dist, Epoch: DefaultEpoch})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range m.Artifacts {
		p := filepath.Join(dist, a.File)
		switch a.Kind {
		case "deb":
			if dep := strings.TrimSpace(sh(t, "", "dpkg-deb", "-f", p, "Depends")); dep != "libc6 (>= 2.28)" {
				t.Errorf("%s Depends %q, want no Z3", a.File, dep)
			}
			n++
		case "rpm":
			reqs := sh(t, "", "rpm", "-qp", "--requires", p)
			if strings.Contains(reqs, "z3") || !strings.Contains(reqs, "libc.so.6(GLIBC_2.28)(64bit)") {
				t.Errorf("%s requires:\n%s", a.File, reqs)
			}
			n++
		}
		if a.Kind != "tarball" && a.Z3 != "bundled" {
			t.Errorf("%s z3 %q", a.File, a.Z3)
		}
	}
	if n < 2 {
		t.Errorf("bundled demo built %d packages", n)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// manualRequires lists an rpm's plain requires: those whose type rpm shows
// as "manual", i.e. neither rpmlib() features nor scriptlet interpreters
// and Requires(post/preun/postun) entries.
func manualRequires(t *testing.T, rpm string) []string {
	t.Helper()
	var out []string
	for _, l := range lines(sh(t, "", "rpm", "-qp", "--qf", "[%{REQUIRENAME}|%{REQUIRENEVRS}|%{REQUIREFLAGS:deptype}\\n]", rpm)) {
		parts := strings.Split(l, "|")
		if len(parts) == 3 && parts[2] == "manual" {
			// NEVRS is "name >= version" for versioned entries.
			out = append(out, parts[1])
		}
	}
	sort.Strings(out)
	return out
}

// scriptletRequires lists the names an rpm requires only for its
// scriptlets (Requires(post) and friends, interpreters).
func scriptletRequires(t *testing.T, rpm string) map[string]bool {
	t.Helper()
	manual := map[string]bool{}
	other := map[string]bool{}
	for _, l := range lines(sh(t, "", "rpm", "-qp", "--qf", "[%{REQUIRENAME}|%{REQUIREFLAGS:deptype}\\n]", rpm)) {
		name, typ, _ := strings.Cut(l, "|")
		switch {
		case typ == "manual":
			manual[name] = true
		case typ != "rpmlib":
			other[name] = true
		}
	}
	for n := range manual {
		delete(other, n)
	}
	return other
}
