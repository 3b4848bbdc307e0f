package pack

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestRPMPayloadNames: the payload names are the header's file names with
// "./" before them, as rpmbuild writes them, the header declares
// rpmlib(PayloadFilesHavePrefix) the way rpmbuild does (RPMSENSE_RPMLIB |
// LESS | EQUAL, 4.0-1), and rpm installs the package into a scratch root,
// verifies it and removes every file and owned folder again.
func TestRPMPayloadNames(t *testing.T) {
	testdeps.Tools(t, "rpm", "rpm2cpio", "cpio", "sh")
	rpmFile, _ := writeFixturePackage(t, "rpm", nil)

	payload := nonEmptyLines(run(t, nil, "sh", "-c", `rpm2cpio "$1" | cpio -t --quiet`, "sh", rpmFile))
	header := nonEmptyLines(run(t, nil, "rpm", "-qpl", rpmFile))
	var want []string
	for _, h := range header {
		want = append(want, "."+h)
	}
	sort.Strings(payload)
	sort.Strings(want)
	if !reflect.DeepEqual(payload, want) {
		t.Errorf("payload names:\n%s\nwant the header's, ./-prefixed:\n%s", strings.Join(payload, "\n"), strings.Join(want, "\n"))
	}

	reqs := run(t, nil, "rpm", "-qp", "--qf", "[%{REQUIRENAME} %{REQUIREFLAGS} %{REQUIREVERSION}\n]", rpmFile)
	if !strings.Contains(reqs, "rpmlib(PayloadFilesHavePrefix) 16777226 4.0-1\n") {
		t.Errorf("no rpmlib(PayloadFilesHavePrefix) <= 4.0-1 with RPMSENSE_RPMLIB:\n%s", reqs)
	}

	root := t.TempDir()
	run(t, nil, "rpm", "--root", root, "--initdb")
	// The dependencies are the fixture's (glibc, z3-libs), not this
	// root's; every rpmlib() one is rpm's own and checked without --nodeps
	// by TestRPMUnmetRequiresEqualDerived in pkg/release.
	run(t, nil, "rpm", "--root", root, "-i", "--nodeps", "--ignorearch", rpmFile)
	for _, h := range header {
		if _, err := os.Lstat(filepath.Join(root, h)); err != nil {
			t.Errorf("installed: %v", err)
		}
	}
	if out, err := runErr(nil, "rpm", "--root", root, "-V", "--nodeps", fixtureName); err != nil {
		t.Errorf("rpm -V: %v\n%s", err, out)
	}
	run(t, nil, "rpm", "--root", root, "-e", "--nodeps", fixtureName)
	for _, h := range header {
		if _, err := os.Lstat(filepath.Join(root, h)); err == nil {
			t.Errorf("%s is left after rpm -e", h)
		}
	}
}

func TestRPMDirIndex(t *testing.T) {
	idx, dirs := rpmDirIndex([]string{"/usr/share/doc/x/README", "/etc/x", "/usr/bin/x", "/etc/x/config.yaml", "/usr/share/doc/x"})
	// sorted: /etc/x /etc/x/config.yaml /usr/bin/x /usr/share/doc/x /usr/share/doc/x/README
	if want := []string{"/etc/", "/etc/x/", "/usr/bin/", "/usr/share/doc/", "/usr/share/doc/x/"}; !reflect.DeepEqual(dirs, want) {
		t.Errorf("dirs %q, want %q", dirs, want)
	}
	if want := []uint32{0, 1, 2, 3, 4}; !reflect.DeepEqual(idx, want) {
		t.Errorf("indexes %v, want %v", idx, want)
	}
	idx, dirs = rpmDirIndex([]string{"/usr/bin/b", "/usr/bin/a", "/etc/c"})
	if want := []string{"/etc/", "/usr/bin/"}; !reflect.DeepEqual(dirs, want) {
		t.Errorf("dirs %q, want %q", dirs, want)
	}
	if want := []uint32{0, 1, 1}; !reflect.DeepEqual(idx, want) {
		t.Errorf("indexes %v, want %v", idx, want)
	}
}

// nonEmptyLines splits command output into its non-empty lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestRPMRequire: Depends entries are relations as rpm writes them, and
// "Requires(post,...): NAME" carries the scriptlet flags of a spec file's
// Requires(post): (RPMSENSE_SCRIPT_POST and friends).
func TestRPMRequire(t *testing.T) {
	for _, c := range []struct {
		in, name, version string
		sense             uint32
	}{
		{"z3-libs", "z3-libs", "", 0},
		{"glibc >= 2.28", "glibc", "2.28", 12},
		{"libc.so.6(GLIBC_2.28)(64bit)", "libc.so.6(GLIBC_2.28)(64bit)", "", 0},
		{"(z3-libs or libz3-4)", "(z3-libs or libz3-4)", "", 0},
		{"Requires(post): systemd", "systemd", "", 1 << 10},
		{"Requires(post,preun,postun): systemd", "systemd", "", 1<<10 | 1<<11 | 1<<12},
		{"Requires(pre): shadow-utils >= 4", "shadow-utils", "4", 1<<9 | 12},
	} {
		r, err := rpmRequire(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if r.Name != c.name || r.Version != c.version || uint32(r.Sense) != c.sense {
			t.Errorf("%q: %q %q %d, want %q %q %d", c.in, r.Name, r.Version, r.Sense, c.name, c.version, c.sense)
		}
	}
	for _, bad := range []string{"Requires(install): systemd", "Requires(post) systemd", ">= 2"} {
		if _, err := rpmRequire(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestRPMLibRequires: the rpmlib() set follows the payload and the
// versions (rpmbuild 4.18 on the same input writes the same; the
// compressions and the tilde are compared with rpmbuild itself in
// TestRPMHeaderAsRpmbuild).
func TestRPMLibRequires(t *testing.T) {
	names := func(m rpmMetaData) string {
		var out []string
		for _, r := range rpmlibRequires(&m) {
			if uint32(r.Sense) != 1<<24|2|8 {
				t.Errorf("%s: flags %d, want RPMLIB|LESS|EQUAL", r.Name, r.Sense)
			}
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(r.Name, "rpmlib("), ")")+"<="+r.Version)
		}
		return strings.Join(out, " ")
	}
	base := "CompressedFileNames<=3.0.4-1 FileDigests<=4.6.0-1 PayloadFilesHavePrefix<=4.0-1"
	rel := func(s string) rpmRelations {
		r, err := rpmRequire(s)
		if err != nil {
			t.Fatal(err)
		}
		return rpmRelations{r}
	}
	for _, c := range []struct {
		m    rpmMetaData
		want string
	}{
		{rpmMetaData{Compressor: "gzip", Provides: rel("x = 1.0-1")}, base},
		{rpmMetaData{Compressor: "xz"}, base + " PayloadIsXz<=5.2-1"},
		{rpmMetaData{Compressor: "zstd"}, base + " PayloadIsZstd<=5.4.18-1"},
		{rpmMetaData{Compressor: "lzma"}, base + " PayloadIsLzma<=4.4.6-1"},
		{rpmMetaData{Compressor: "gzip", Provides: rel("x = 1.0~rc1-1")}, base + " TildeInVersions<=4.10.0-1"},
		{rpmMetaData{Compressor: "gzip", Requires: rel("y >= 2~beta")}, base + " TildeInVersions<=4.10.0-1"},
		{rpmMetaData{Compressor: "gzip", Provides: rel("x = 1.0^git1-1")}, base + " CaretInVersions<=4.15.0-1"},
		{rpmMetaData{Compressor: "gzip", Requires: rel("(a or b)")}, base + " RichDependencies<=4.12.0-1"},
	} {
		if got := names(c.m); got != c.want {
			t.Errorf("%+v:\n%s\nwant\n%s", c.m, got, c.want)
		}
	}
}
