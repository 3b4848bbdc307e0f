package releaseverify

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"relpack/internal/xzread"
	"testing"

	"relpack/pkg/pack"
)

// TestRelpackPackagesVerify: the packages relpack's own writer makes,
// signed and unsigned, in every compression, pass the package checks; the
// fuzzer's seeds start from these.
func TestRelpackPackagesVerify(t *testing.T) {
	for _, c := range []struct{ format, comp string }{{"deb", "gzip"}, {"deb", "xz"}, {"deb", "zstd"}, {"rpm", "gzip"}, {"rpm", "xz"}, {"rpm", "zstd"}} {
		for _, signed := range []bool{false, true} {
			t.Run(c.format+"-"+c.comp+map[bool]string{true: "-signed"}[signed], func(t *testing.T) {
				ps, err := checkBytes(t, t.TempDir(), testArtifact(c.format), signed, testPackage(t, c.format, c.comp, signed))
				if err != nil || len(ps) > 0 {
					t.Fatalf("err %v, problems:\n%s", err, problemsText(ps))
				}
			})
		}
	}
}

// TestRelpackChunkedXZVerifies: a deb whose data.tar.xz relpack wrote in
// several 4 MiB chunks (several xz streams, 1 MiB dictionaries) passes the
// verifier's own xz reader (xz.go), and so does one whose data is 12 MiB
// of zeros (dictionaries larger than the compressed bytes).
func TestRelpackChunkedXZVerifies(t *testing.T) {
	var text bytes.Buffer
	for i := 0; text.Len() < 10<<20; i++ {
		fmt.Fprintf(&text, "line %d of a large file %x\n", i, i*7919)
	}
	for name, data := range map[string][]byte{"text": text.Bytes(), "zeros": make([]byte, 12<<20)} {
		t.Run(name, func(t *testing.T) {
			deb := testPackage(t, "deb", "xz", false, pack.PackageFile{Data: data, Dst: "/usr/share/demo/big", Mode: 0o644})
			if n := xzBlocks(t, deb); n < 3 {
				t.Fatalf("data.tar.xz holds %d xz blocks, want 3 or more (4 MiB chunks)", n)
			}
			ps, err := checkBytes(t, t.TempDir(), testArtifact("deb"), false, deb)
			if err != nil || len(ps) > 0 {
				t.Fatalf("err %v, problems:\n%s", err, problemsText(ps))
			}
		})
	}
}

// xzBlocks decodes the data.tar.xz of deb with xzReader and counts the
// blocks of its (last) stream.
func xzBlocks(t *testing.T, deb []byte) int {
	t.Helper()
	dir := t.TempDir()
	a := testArtifact("deb")
	if err := os.WriteFile(filepath.Join(dir, a.File), deb, 0o644); err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(dir, false)
	f, size, err := v.openNoFollow(a.File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &pkgCheck{v: v, a: a, f: f, size: size}
	ms, ok, err := c.arMembers()
	if err != nil || !ok || len(ms) < 3 || ms[2].name != "data.tar.xz" {
		t.Fatalf("ar members %v %v %v", ms, ok, err)
	}
	x, err := xzread.NewReader(c.section(ms[2].off, ms[2].size))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, x); err != nil {
		t.Fatal(err)
	}
	return x.Blocks()
}
