package apt

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// parsePackages splits a Packages file into stanzas (field names as
// written, values as ParseStanza keeps them).
func parsePackages(t *testing.T, what string, data []byte) []Stanza {
	t.Helper()
	var out []Stanza
	for _, para := range strings.Split(strings.TrimRight(string(data), "\n"), "\n\n") {
		if para == "" {
			continue
		}
		s, err := ParseStanza([]byte(para))
		if err != nil && !strings.Contains(err.Error(), "only a repository index may set") {
			t.Fatalf("%s: %v\n%s", what, err, para)
		}
		if err != nil {
			// An index stanza has the index fields ParseStanza refuses in
			// a deb: parse it line by line instead.
			s = nil
			for _, line := range strings.Split(para, "\n") {
				if line[0] == ' ' || line[0] == '\t' {
					s[len(s)-1].Value += "\n" + line
					continue
				}
				n, v, _ := strings.Cut(line, ":")
				s = append(s, Field{n, strings.TrimSpace(v)})
			}
		}
		out = append(out, s)
	}
	return out
}

// TestPackagesAgreeWithFtparchive is the differential test: on the same
// pool (the demo's debs of two releases, built by relpack, plus a deb of
// Architecture all made by dpkg-deb), apt-ftparchive packages and
// WriteSuite's Packages hold the same stanzas with the same fields and
// values.
//
// What differs, on purpose:
//   - Field order. apt-ftparchive (apt 2.6 here) rewrites every stanza in
//     apt's canonical order (Package, Architecture, Version, Priority,
//     Section, ..., Filename, Size, MD5sum, SHA1, SHA256, SHA512, then
//     Homepage, Description). WriteSuite keeps the deb's own order and puts
//     the index fields just before Description, which stays last as dpkg
//     writes it. apt reads fields by name, so order has no meaning to
//     clients; the test checks both put the index fields in the same
//     relative order.
//   - Stanza order and the pool split. apt-ftparchive lists what it finds
//     in one file, in directory order; WriteSuite writes one index per
//     architecture (an "all" deb in each) sorted by name, dpkg version and
//     Filename. The test runs apt-ftparchive --arch ARCH, which keeps the
//     debs of ARCH and all, and compares the stanzas matched by Filename.
//
// Nothing else: no field apt-ftparchive adds is missing (both add
// Filename, Size, MD5sum, SHA1, SHA256, SHA512) and none is extra.
func TestPackagesAgreeWithFtparchive(t *testing.T) {
	testdeps.Tools(t, "apt-ftparchive", "dpkg-deb")
	key, _ := testKey(t)
	root := t.TempDir()
	var debs []string
	for _, v := range []string{"0.1.0", "0.2.0"} {
		debs = append(debs, demoDeb(t, v, "amd64"), demoDeb(t, v, "arm64"))
	}
	// An Architecture: all package, with a multi-line field and no
	// Description-last (Conffiles-like field after it), from dpkg-deb.
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755)
	os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte("Package: demo-data\nVersion: 1:2.0~rc.1-3\nArchitecture: all\nMaintainer: A <a@example.org>\nInstalled-Size: 1\nMulti-Arch: foreign\nDescription: data\n Line one.\n .\n Line two.\n"), 0o644)
	allDeb := filepath.Join(t.TempDir(), "demo-data_2.0~rc.1-3_all.deb")
	if o, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", src, allDeb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, o)
	}
	debs = append(debs, allDeb)
	pkgs := addToPool(t, root, debs...)
	if err := WriteSuite(root, bullseyeSuite(pkgs), Options{Date: releaseDate("0.2.0"), Key: key}); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("apt-ftparchive", "--arch", arch, "packages", "pool")
		cmd.Dir = root
		theirs, err := cmd.Output()
		if err != nil {
			t.Fatalf("apt-ftparchive: %v", err)
		}
		ours, err := os.ReadFile(filepath.Join(root, "dists/bullseye/main/binary-"+arch+"/Packages"))
		if err != nil {
			t.Fatal(err)
		}
		their := parsePackages(t, "apt-ftparchive", theirs)
		our := parsePackages(t, "WriteSuite", ours)
		if len(their) != 3 || len(our) != len(their) {
			t.Fatalf("%s: apt-ftparchive lists %d stanzas, WriteSuite %d (want 3: two releases and the all deb)", arch, len(their), len(our))
		}
		byFile := map[string]Stanza{}
		for _, s := range their {
			f, _ := s.Get("Filename")
			byFile[f] = s
		}
		for _, o := range our {
			f, _ := o.Get("Filename")
			th, ok := byFile[f]
			if !ok {
				t.Errorf("%s: apt-ftparchive has no stanza for %s", arch, f)
				continue
			}
			if len(th) != len(o) {
				t.Errorf("%s %s: apt-ftparchive writes %d fields, WriteSuite %d:\n%q\n%q", arch, f, len(th), len(o), th, o)
			}
			for _, fl := range th {
				v, ok := o.Get(fl.Name)
				if !ok {
					t.Errorf("%s %s: WriteSuite lacks %s (apt-ftparchive: %q)", arch, f, fl.Name, fl.Value)
				} else if v != fl.Value {
					t.Errorf("%s %s: %s is %q, apt-ftparchive says %q", arch, f, fl.Name, v, fl.Value)
				}
			}
			if got, want := indexFieldOrder(o), indexFieldOrder(th); got != want {
				t.Errorf("%s %s: index fields in order %s, apt-ftparchive %s", arch, f, got, want)
			}
			if last := o[len(o)-1].Name; last != "Description" {
				t.Errorf("%s %s: last field is %s, not Description", arch, f, last)
			}
		}
		// Sorted by name, then dpkg version: demo-data, then v1, v2.
		var order []string
		for _, o := range our {
			n, _ := o.Get("Package")
			v, _ := o.Get("Version")
			order = append(order, n+"="+v)
		}
		if want := "demo-data=1:2.0~rc.1-3 openshell-gateway=0.1.0-1~deb11 openshell-gateway=0.2.0-1~deb11"; strings.Join(order, " ") != want {
			t.Errorf("%s: stanza order %v, want %s", arch, order, want)
		}
	}
}

func indexFieldOrder(s Stanza) string {
	var names []string
	for _, f := range s {
		for _, n := range indexFields {
			if strings.EqualFold(f.Name, n) {
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, ",")
}
