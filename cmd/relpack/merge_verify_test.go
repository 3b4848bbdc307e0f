package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/sign"
)

// Issue 18, section 1: relpack merge --sign verifies each partial as a
// user would (pkg/releaseverify) before it signs the merged sums. A
// partial tampered after its build job, made self-consistent by whoever
// can write it (manifest.json and SHA256SUMS resealed, and in the worst
// case SHA256SUMS.asc made again with the key itself), is refused: exit
// 1, the file named with what differs, nothing written beside --out. The
// untampered pair merges.
func TestMergeSignVerifiesPartials(t *testing.T) {
	key, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	build := func(only string) string {
		dir := filepath.Join(t.TempDir(), only)
		if _, stderr, code := cli(t, "build", "-q", "--sign", "-c", signedDemo, "--version", "0.1.0", "--only", only, "--out", dir); code != 0 {
			t.Fatalf("relpack build --sign --only %s: exit %d\n%s", only, code, stderr)
		}
		return dir
	}
	px, pa := build("x86_64"), build("aarch64")
	unsigned := demoPartial(t, "x86_64") // the same packages, unsigned
	deb := artifactNamed(t, px, "~deb12_amd64.deb")
	other := artifactNamed(t, px, "~deb11_amd64.deb")
	rpm := artifactNamed(t, px, ".el8.x86_64.rpm")
	replace := func(d, name string, from string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	merge := func(x string) (stderr string, code int, parent string, before map[string]string) {
		parent = t.TempDir()
		before = stateOfTree(t, parent)
		_, stderr, code = cli(t, "merge", "--sign", "-c", signedDemo, "--out", filepath.Join(parent, "dist"), x, pa)
		return stderr, code, parent, before
	}

	// The genuine pair merges.
	if stderr, code, parent, _ := merge(copyTree(t, px)); code != 0 {
		t.Fatalf("merge --sign of untampered partials: exit %d\n%s", code, stderr)
	} else if _, err := os.Stat(filepath.Join(parent, "dist", "SHA256SUMS.asc")); err != nil {
		t.Fatalf("merge --sign wrote no SHA256SUMS.asc: %v", err)
	}

	for _, c := range []struct {
		name   string
		tamper func(d string)
		file   string   // the file named
		want   []string // what the message says of it
	}{
		{"deb swapped, sums resealed, old signature", func(d string) {
			replace(d, deb, filepath.Join(d, other))
			reseal(t, d, nil, nil)
		}, "SHA256SUMS.asc", []string{"is not a good signature of SHA256SUMS by"}},
		{"deb swapped, sums resealed and signed again", func(d string) {
			replace(d, deb, filepath.Join(d, other))
			reseal(t, d, key, nil)
		}, deb, []string{"control says Version: 0.1.0-1~deb11, manifest.json says 0.1.0-1~deb12"}},
		{"unsigned deb, sums resealed and signed again", func(d string) {
			replace(d, deb, filepath.Join(unsigned, deb))
			reseal(t, d, key, nil)
		}, deb, []string{"is not signed (no _gpgorigin member), but manifest.json says the release is signed by " + key.Fingerprint}},
		{"unsigned rpm, sums resealed and signed again", func(d string) {
			replace(d, rpm, filepath.Join(unsigned, rpm))
			reseal(t, d, key, nil)
		}, rpm, []string{"is not signed", "manifest.json says the release is signed by " + key.Fingerprint}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := copyTree(t, px)
			c.tamper(x)
			partial := stateOfTree(t, x)
			stderr, code, parent, before := merge(x)
			named := filepath.Join(x, c.file) + ": "
			if code != 1 || !strings.Contains(stderr, named) || !strings.Contains(stderr, x+" does not verify") || !strings.Contains(stderr, "nothing was written") {
				t.Errorf("merge --sign: exit %d, want 1 naming %s\n%s", code, named, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("merge --sign does not say %q of %s:\n%s", w, c.file, stderr)
				}
			}
			sameTree(t, "--out's parent", parent, before)
			sameTree(t, "the partial", x, partial)
		})
	}
}
