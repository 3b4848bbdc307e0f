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
	// by TestRPMUnmetRequiresEqualDerived in pkg/build.
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
