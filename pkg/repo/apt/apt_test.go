package apt

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// treeFiles reads every file under dir (relative slash paths → bytes).
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// releaseEntries parses the MD5Sum and SHA256 sections of a Release file:
// section → path → "hash size".
func releaseEntries(t *testing.T, rel []byte) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var sec string
	for _, line := range strings.Split(string(rel), "\n") {
		switch {
		case strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " "):
			sec = strings.TrimSuffix(line, ":")
			out[sec] = map[string]string{}
		case strings.HasPrefix(line, " ") && sec != "":
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("Release line %q", line)
			}
			out[sec][f[2]] = f[0] + " " + f[1]
		default:
			sec = ""
		}
	}
	return out
}

// checkConsistent checks what apt relies on: every index Release lists is
// there under its name and under by-hash/SHA256 and by-hash/MD5Sum, with
// the listed size and hashes, and Release.gpg verifies with gpgv.
func checkConsistent(t *testing.T, dist, pubBin string) {
	t.Helper()
	rel, err := os.ReadFile(filepath.Join(dist, "Release"))
	if err != nil {
		t.Fatal(err)
	}
	e := releaseEntries(t, rel)
	if len(e["MD5Sum"]) != 6 || len(e["SHA256"]) != 6 {
		t.Fatalf("Release lists %d MD5Sum and %d SHA256 entries, want 6 each:\n%s", len(e["MD5Sum"]), len(e["SHA256"]), rel)
	}
	for sec, entries := range e {
		for p, hs := range entries {
			f := strings.Fields(hs)
			dir := filepath.Join(dist, filepath.Dir(p), "by-hash", sec)
			for _, name := range []string{filepath.Join(dist, p), filepath.Join(dir, f[0])} {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Errorf("Release lists %s (%s) but: %v", p, sec, err)
					continue
				}
				var sum string
				if sec == "MD5Sum" {
					s := md5.Sum(b)
					sum = hex.EncodeToString(s[:])
				} else {
					s := sha256.Sum256(b)
					sum = hex.EncodeToString(s[:])
				}
				if sum != f[0] || strconv.Itoa(len(b)) != f[1] {
					t.Errorf("%s: %s %d, Release says %s %s", name, sum, len(b), f[0], f[1])
				}
			}
		}
	}
	if o, err := exec.Command("gpgv", "--keyring", pubBin, filepath.Join(dist, "Release.gpg"), filepath.Join(dist, "Release")).CombinedOutput(); err != nil {
		t.Errorf("gpgv Release.gpg Release: %v\n%s", err, o)
	}
	if o, err := exec.Command("gpgv", "--keyring", pubBin, "--output", filepath.Join(t.TempDir(), "signed"), filepath.Join(dist, "InRelease")).CombinedOutput(); err != nil {
		t.Errorf("gpgv InRelease: %v\n%s", err, o)
	}
}

// TestWriteSuiteReproducible: the same debs, key and date give the same
// bytes in two trees and on a re-run; adding a release keeps every older
// by-hash file, and the tree stays consistent (every listed index present
// with the listed checksums, signatures valid for gpgv) at each step.
func TestWriteSuiteReproducible(t *testing.T) {
	testdeps.Tools(t, "gpgv")
	key, g := testKey(t)
	v1 := demoDeb(t, "0.1.0", "amd64")
	var trees []map[string][]byte
	var roots []string
	for i := 0; i < 2; i++ {
		root := t.TempDir()
		s := bullseyeSuite(addToPool(t, root, v1))
		if err := WriteSuite(root, s, Options{Date: releaseDate("0.1.0"), Key: key}); err != nil {
			t.Fatal(err)
		}
		trees = append(trees, treeFiles(t, filepath.Join(root, "dists")))
		roots = append(roots, root)
	}
	a, b := trees[0], trees[1]
	if len(a) != len(b) || len(a) != 3+2*3*3 {
		t.Errorf("trees hold %d and %d files, want 21 (Release, Release.gpg, InRelease, 2 arches x 3 indexes x (name + 2 by-hash))", len(a), len(b))
	}
	for p, data := range a {
		if !bytes.Equal(data, b[p]) {
			t.Errorf("%s differs between two runs with the same inputs", p)
		}
	}
	gz := a["bullseye/main/binary-amd64/Packages.gz"]
	if len(gz) < 10 || !bytes.Equal(gz[4:8], []byte{0, 0, 0, 0}) || gz[3]&0x08 != 0 {
		t.Errorf("Packages.gz header carries a time or a name: % x", gz[:10])
	}
	if !bytes.Contains(a["bullseye/Release"], []byte("\nDate: Tue, 14 Nov 2023 22:13:20 UTC\n")) {
		t.Errorf("Release date:\n%s", a["bullseye/Release"])
	}
	dist := filepath.Join(roots[0], "dists/bullseye")
	checkConsistent(t, dist, g.PublicBin)

	// Re-run in place: same bytes, no temporary file left.
	s1 := bullseyeSuite(addToPool(t, roots[0], v1))
	if err := WriteSuite(roots[0], s1, Options{Date: releaseDate("0.1.0"), Key: key}); err != nil {
		t.Fatal(err)
	}
	again := treeFiles(t, filepath.Join(roots[0], "dists"))
	if len(again) != len(a) {
		t.Errorf("re-run left %d files, want %d", len(again), len(a))
	}
	for p, data := range a {
		if !bytes.Equal(data, again[p]) {
			t.Errorf("%s changed on a re-run with the same inputs", p)
		}
	}

	// v2 joins: old by-hash files stay, the new ones appear.
	s2 := bullseyeSuite(addToPool(t, roots[0], v1, demoDeb(t, "0.2.0", "amd64")))
	if err := WriteSuite(roots[0], s2, Options{Date: releaseDate("0.2.0"), Key: key}); err != nil {
		t.Fatal(err)
	}
	after := treeFiles(t, filepath.Join(roots[0], "dists"))
	for p, data := range a {
		if strings.Contains(p, "/by-hash/") && !bytes.Equal(after[p], data) {
			t.Errorf("by-hash file %s of the previous Release is gone or changed", p)
		}
	}
	// amd64's three indexes changed (v2 added); arm64's empty ones did not.
	if len(after) != len(a)+2*3 {
		t.Errorf("after adding v2: %d files, want %d", len(after), len(a)+6)
	}
	if p := after["bullseye/main/binary-amd64/Packages"]; bytes.Count(p, []byte("Package: openshell-gateway\n")) != 2 {
		t.Errorf("Packages after adding v2:\n%s", p)
	}
	checkConsistent(t, dist, g.PublicBin)

	// An older Date than the Release in the tree: refused, tree unchanged
	// (apt would silently keep the newer InRelease it holds).
	err := WriteSuite(roots[0], s2, Options{Date: releaseDate("0.1.0"), Key: key})
	if err == nil || !strings.Contains(err.Error(), "is dated Thu, 16 Nov 2023 02:00:00 UTC, after the new Date Tue, 14 Nov 2023 22:13:20 UTC") {
		t.Errorf("WriteSuite with an older Date: %v", err)
	}
	final := treeFiles(t, filepath.Join(roots[0], "dists"))
	for p, data := range after {
		if !bytes.Equal(final[p], data) {
			t.Errorf("%s changed by a refused WriteSuite", p)
		}
	}
}

// TestWriteSuiteRefuses: bad inputs fail naming the deb or setting, and
// leave the tree untouched.
func TestWriteSuiteRefuses(t *testing.T) {
	key, _ := testKey(t)
	date := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	root := t.TempDir()
	v1 := addToPool(t, root, demoDeb(t, "0.1.0", "amd64"))
	evil := handDeb(t, filepath.Join(root, "pool"), "evil_1.0_amd64.deb",
		[]byte("Package: evil\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n\nPackage: libc6\nVersion: 99\n"))
	riscv := handDeb(t, filepath.Join(root, "pool"), "rv_1.0_riscv64.deb", []byte("Package: rv\nVersion: 1.0\nArchitecture: riscv64\n"))
	twin := handDeb(t, filepath.Join(root, "pool"), "twin.deb", []byte("Package: openshell-gateway\nVersion: 0.1.0-1~deb11\nArchitecture: amd64\n"))
	for _, c := range []struct {
		name string
		s    Suite
		o    Options
		want string
	}{
		{"no key", bullseyeSuite(v1), Options{Date: date}, "no signing key"},
		{"no date", bullseyeSuite(v1), Options{Key: key}, "SOURCE_DATE_EPOCH"},
		{"hostile control", bullseyeSuite(append(v1, Package{Path: evil, Filename: "pool/evil_1.0_amd64.deb"})), Options{Date: date, Key: key}, evil + ": control file: line 5 is blank"},
		{"arch not in suite", bullseyeSuite(append(v1, Package{Path: riscv, Filename: "pool/rv_1.0_riscv64.deb"})), Options{Date: date, Key: key}, riscv + ": Architecture riscv64 is not one of suite bullseye's"},
		{"same package twice", bullseyeSuite(append(v1, Package{Path: twin, Filename: "pool/twin.deb"})), Options{Date: date, Key: key}, "are both openshell-gateway 0.1.0-1~deb11 (amd64)"},
		{"same Filename twice", bullseyeSuite(append(v1, v1[0])), Options{Date: date, Key: key}, "both have Filename"},
		{"Filename escapes", bullseyeSuite([]Package{{Path: v1[0].Path, Filename: "../x.deb"}}), Options{Date: date, Key: key}, "not a clean path"},
		{"Filename with newline", bullseyeSuite([]Package{{Path: v1[0].Path, Filename: "pool/x\nPackage: y"}}), Options{Date: date, Key: key}, "blank or control character"},
		{"suite path", func() Suite { s := bullseyeSuite(v1); s.Suite = "../etc"; return s }(), Options{Date: date, Key: key}, "Suite \"../etc\""},
		{"arch all", func() Suite { s := bullseyeSuite(v1); s.Arches = []string{"all"}; return s }(), Options{Date: date, Key: key}, "architecture \"all\""},
		{"newline in Description", func() Suite { s := bullseyeSuite(v1); s.Description = "x\nSHA256:"; return s }(), Options{Date: date, Key: key}, "line break"},
	} {
		err := WriteSuite(root, c.s, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "dists")); !os.IsNotExist(err) {
		t.Errorf("a refused WriteSuite wrote dists/ (%v)", err)
	}
}
