package pack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"relpack/internal/testdeps"
)

// nfpmDeb writes spec's deb through nfpm's own deb packager, as relpack
// did before it wrote debs itself: the reference bytes.
func nfpmDeb(t *testing.T, spec PackageSpec) []byte {
	t.Helper()
	stage := t.TempDir()
	mtime, err := checkMTime(spec.MTime)
	if err != nil {
		t.Fatal(err)
	}
	info, err := spec.nfpmInfo(stage, mtime)
	if err != nil {
		t.Fatal(err)
	}
	info = nfpm.WithDefaults(info)
	p, err := nfpm.Get("deb")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Package(info, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDebMatchesNFPM: relpack's deb writer gives nfpm's bytes, member for
// member, but for the Installed-Size field (and so the signature), in
// every compression, with scripts, conffiles, custom fields and
// a debsigs signature (payloads under one xz block).
func TestDebMatchesNFPM(t *testing.T) {
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	key, _, _ := signingKey(t, "ed25519", signPassphrase)
	for _, c := range compressions["deb"] {
		for _, variant := range []string{"plain", "scripts", "signed"} {
			t.Run(c+"-"+variant, func(t *testing.T) {
				spec := fixtureSpec("deb", in)
				spec.Compression = c
				switch variant {
				case "scripts":
					spec.Scripts = Scripts{PreInstall: "#!/bin/sh\nset -e\necho pre\n", PostInstall: "#!/bin/sh\nset -e\n", PreRemove: "#!/bin/sh\n", PostRemove: "#!/bin/sh\nexit 0\n"}
					spec.Epoch = "2"
				case "signed":
					spec.Signing = key
				}
				want := nfpmDeb(t, spec)
				spec.TempDir = t.TempDir()
				p, err := WritePackage(spec, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				gn, gm := arMembers(t, got)
				wn, wm := arMembers(t, want)
				if fmt.Sprint(gn) != fmt.Sprint(wn) {
					t.Fatalf("members %v, nfpm's %v", gn, wn)
				}
				for _, n := range wn {
					switch n {
					case "control.tar.gz":
						// Installed-Size is dpkg's, not nfpm's (see
						// TestInstalledSizeAsDpkg): the rest is nfpm's.
						g, w := controlEntries(t, gm[n]), controlEntries(t, wm[n])
						isize := regexp.MustCompile(`(?m)^Installed-Size: [0-9]+$`)
						w["./control"] = isize.ReplaceAllString(w["./control"], "Installed-Size: "+controlField(g["./control"], "Installed-Size"))
						if fmt.Sprint(g) != fmt.Sprint(w) {
							t.Errorf("control member differs from nfpm's but for Installed-Size:\n%v\nnfpm's:\n%v", g, w)
						}
					case "_gpgorigin":
						// Signs the control member, so differs; sign_test
						// verifies it.
						if len(gm[n]) != len(wm[n]) {
							t.Errorf("%s: %d bytes, nfpm's %d", n, len(gm[n]), len(wm[n]))
						}
					default:
						if !bytes.Equal(gm[n], wm[n]) {
							t.Errorf("member %s differs from nfpm's (%d vs %d bytes)", n, len(gm[n]), len(wm[n]))
						}
					}
				}
				if ents, _ := os.ReadDir(spec.TempDir); len(ents) != 0 {
					t.Errorf("scratch files left in TempDir: %v", ents)
				}
			})
		}
	}
}

// codeLike returns n bytes that compress roughly like machine code: random
// words from a small vocabulary with random bytes between them.
func codeLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	words := make([][]byte, 512)
	for i := range words {
		words[i] = make([]byte, 3+r.IntN(12))
		for j := range words[i] {
			words[i][j] = byte(r.Uint32())
		}
	}
	b := make([]byte, 0, n+32)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		if r.IntN(4) == 0 {
			b = append(b, byte(r.Uint32()))
		}
	}
	return b[:n]
}

// TestDebLargePayload: a 20 MiB binary makes a three-block xz data member
// that xz, dpkg-deb and the zstd CLI read; the bytes do not depend on the
// number of encoders (one at a time or every core), nor do zstd's.
func TestDebLargePayload(t *testing.T) {
	// The distros' own decoders: dpkg-deb reads the data member through
	// liblzma / libzstd (checks included). xz -t, xz -l and zstd -t agree
	// (run by hand; they are not in scripts/test-deps.txt).
	testdeps.Tools(t, "dpkg-deb")
	in := t.TempDir()
	bin := filepath.Join(in, "big")
	content := codeLike(20<<20+12345, 1)
	if err := os.WriteFile(bin, content, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := PackageSpec{Format: "deb", Name: "bigpkg", Arch: "amd64", Version: "1.0", Release: "1",
		Maintainer: "T <t@example.org>", Summary: "big", Description: "big", MTime: fixtureMTime,
		Files: []PackageFile{{Src: bin, Dst: "/usr/bin/big", Mode: 0o755}}}
	for _, c := range []string{"xz", "zstd"} {
		t.Run(c, func(t *testing.T) {
			spec := spec
			spec.Compression = c
			p1, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			// One encoder at a time, as on a one-core machine.
			saved := compressSlots
			compressSlots = make(chan struct{}, 1)
			p2, err := WritePackage(spec, t.TempDir())
			compressSlots = saved
			if err != nil {
				t.Fatal(err)
			}
			b1, _ := os.ReadFile(p1)
			b2, _ := os.ReadFile(p2)
			if !bytes.Equal(b1, b2) {
				t.Fatalf("%s deb differs between one encoder and %d", c, cap(compressSlots))
			}
			if c == "xz" {
				names, m := arMembers(t, b1)
				// The tar of one 20 MiB file and its headers.
				if n, want := xzBlocks(t, m[names[2]]), (20<<20+12345+10240)/chunkSize+1; n != want {
					t.Errorf("%s holds %d xz blocks, want %d", names[2], n, want)
				}
			}
			x := filepath.Join(t.TempDir(), "x")
			run(t, nil, "dpkg-deb", "-x", p1, x)
			got, err := os.ReadFile(filepath.Join(x, "usr/bin/big"))
			if err != nil || !bytes.Equal(got, content) {
				t.Errorf("dpkg-deb -x does not give the binary back (%v)", err)
			}
		})
	}

	// klauspost's stream encoder writes the same bytes with any
	// concurrency (the deb writer uses its GOMAXPROCS default).
	data := codeLike(9<<20, 2)
	var outs [][]byte
	for _, n := range []int{1, 2, 8} {
		var b bytes.Buffer
		zw, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(n))
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 32 << 10 { // tar's small writes
			zw.Write(data[off:min(off+32<<10, len(data))])
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[0], outs[2]) {
		t.Errorf("zstd output depends on the encoder concurrency (%d, %d, %d bytes)", len(outs[0]), len(outs[1]), len(outs[2]))
	}
}

// TestChunkedWriter: xz streams of 0, 1, one chunk exactly, and several
// chunks decode to the input, with one block per chunk, and a one-chunk
// payload is byte for byte what nfpm's single encoder writes.
func TestChunkedWriter(t *testing.T) {
	for _, codec := range []chunkCodec{xzCodec{}} {
		for _, n := range []int{0, 1, 1000, chunkSize, chunkSize + 1, 2*chunkSize + 77} {
			t.Run(fmt.Sprintf("%T-%d", codec, n), func(t *testing.T) {
				data := codeLike(n, uint64(n))
				var b bytes.Buffer
				w := newChunkedWriter(&b, codec, nil)
				for off := 0; off < len(data); off += 100_000 {
					if _, err := w.Write(data[off:min(off+100_000, len(data))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				var r io.Reader
				var single bytes.Buffer
				var zw io.WriteCloser
				switch codec.(type) {
				case xzCodec:
					xr, err := xz.NewReader(bytes.NewReader(b.Bytes()))
					if err != nil {
						t.Fatal(err)
					}
					r = xr
					if want := max(1, (n+chunkSize-1)/chunkSize); xzBlocks(t, b.Bytes()) != want {
						t.Errorf("%d blocks, want %d", xzBlocks(t, b.Bytes()), want)
					}
					zw, _ = xz.NewWriter(&single)
				}
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("decoding gives %d bytes back (%v), want the %d written", len(got), err, len(data))
				}
				if n <= chunkSize {
					for off := 0; off < len(data); off += 32 << 10 {
						zw.Write(data[off:min(off+32<<10, len(data))])
					}
					zw.Close()
					if !bytes.Equal(single.Bytes(), b.Bytes()) {
						t.Errorf("one-chunk stream differs from the single encoder's")
					}
				}
			})
		}
	}
}

// TestPayloadCacheShared: debs of the same files with different control
// fields, written concurrently through one cache, compress the data member
// once and hold the same bytes of it; a different compression or mode is
// another payload. dpkg-deb reads every one.
func TestPayloadCacheShared(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb")
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	cache := NewPayloadCache(filepath.Join(t.TempDir(), "payloads"))
	type variant struct {
		comp, dep string
		mode      os.FileMode
	}
	vs := []variant{{"xz", "libc6 (>= 2.31)", 0o755}, {"xz", "libc6 (>= 2.36)", 0o755}, {"xz", "libc6 (>= 2.28), libz3-4", 0o755},
		{"zstd", "libc6 (>= 2.31)", 0o755}, {"zstd", "libc6 (>= 2.35)", 0o755}, {"xz", "libc6", 0o750}}
	paths := make([]string, len(vs))
	var wg sync.WaitGroup
	errs := make(chan error, len(vs))
	for i, v := range vs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := fixtureSpec("deb", in)
			s.Compression, s.Depends, s.Payloads, s.TempDir = v.comp, []string{v.dep}, cache, t.TempDir()
			s.Files[0].Mode = v.mode
			p, err := WritePackage(s, filepath.Join(t.TempDir()))
			paths[i] = p
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := cache.counts(); got != 3 {
		t.Errorf("compressed %d payloads, want 3 (xz, zstd, xz with another mode)", got)
	}
	data := func(i int) []byte {
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		names, m := arMembers(t, b)
		return m[names[2]]
	}
	if !bytes.Equal(data(0), data(1)) || !bytes.Equal(data(0), data(2)) || !bytes.Equal(data(3), data(4)) {
		t.Errorf("debs of the same files hold different data members")
	}
	if bytes.Equal(data(0), data(5)) {
		t.Errorf("a different file mode shared the data member")
	}
	for i, v := range vs {
		info := run(t, nil, "dpkg-deb", "-f", paths[i], "Depends")
		if strings.TrimSpace(info) != v.dep {
			t.Errorf("%s: Depends %q, want %q", paths[i], info, v.dep)
		}
		run(t, nil, "dpkg-deb", "-c", paths[i])
	}
}

// xzBlocks reads the block count from an .xz stream's index.
func xzBlocks(t *testing.T, s []byte) int {
	t.Helper()
	if len(s) < 24 || string(s[len(s)-2:]) != "YZ" {
		t.Fatal("not an xz stream")
	}
	idxLen := (int(binary.LittleEndian.Uint32(s[len(s)-8:])) + 1) * 4
	idx := s[len(s)-12-idxLen:]
	n, k := binary.Uvarint(idx[1:])
	if idx[0] != 0 || k <= 0 {
		t.Fatal("no xz index")
	}
	return int(n)
}

// TestChunksShared: debs whose data members differ only in their tail (the
// changelog carries the distro's version, as debian11 and debian12 do)
// compress the chunks before it once. dpkg-deb reads each; the bytes are
// those of a build without the cache.
func TestChunksShared(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb")
	in := t.TempDir()
	bin := filepath.Join(in, "big")
	content := codeLike(3*chunkSize+5000, 3)
	if err := os.WriteFile(bin, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"xz"} {
		t.Run(comp, func(t *testing.T) {
			cache := NewPayloadCache(filepath.Join(t.TempDir(), "payloads"))
			var debs [][]byte
			for _, rel := range []string{"1~deb11", "1~deb12"} {
				spec := PackageSpec{Format: "deb", Name: "bigpkg", Arch: "amd64", Version: "1.0", Release: rel,
					Maintainer: "T <t@example.org>", Summary: "big", Description: "big", MTime: fixtureMTime, Compression: comp,
					Files: []PackageFile{{Src: bin, Dst: "/usr/bin/big", Mode: 0o755},
						{Data: []byte("version " + rel + "\n"), Dst: "/usr/share/doc/bigpkg/VERSION", Mode: 0o644}}}
				spec.Payloads = cache
				p, err := WritePackage(spec, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				x := filepath.Join(t.TempDir(), "x")
				run(t, nil, "dpkg-deb", "-x", p, x)
				if got, _ := os.ReadFile(filepath.Join(x, "usr/bin/big")); !bytes.Equal(got, content) {
					t.Errorf("dpkg-deb -x does not give the binary back")
				}
				b, _ := os.ReadFile(p)
				spec.Payloads = nil
				p2, err := WritePackage(spec, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if b2, _ := os.ReadFile(p2); !bytes.Equal(b, b2) {
					t.Errorf("%s: the cache changed the bytes", filepath.Base(p))
				}
				debs = append(debs, b)
			}
			payloads, chunks := cache.counts()
			if payloads != 2 || chunks != 5 {
				t.Errorf("compressed %d payloads in %d chunks, want 2 payloads in 4+1 chunks (the last differs)", payloads, chunks)
			}
		})
	}
}
