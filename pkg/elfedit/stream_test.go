package elfedit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"relpack/internal/memtest"
	"relpack/internal/testdeps"
)

// TestStreamingMatchesOracle: the streaming SetRunpath writes exactly the
// bytes the in-memory algorithm it replaced (oracle_test.go) computes, on
// every fixture, every runpath length and every forced path, and refuses
// what it refused with the same message.
func TestStreamingMatchesOracle(t *testing.T) {
	srcs := []string{
		"x86_64/hello-musl-static", "aarch64/hello-musl-static", "README.md", // refused
	}
	for _, fx := range dynamicFixtures {
		srcs = append(srcs, fx.path)
	}
	for i := range srcs {
		srcs[i] = filepath.Join(fixtures, srcs[i])
	}
	// Crafted inputs: truncated files, both RPATH and RUNPATH, a RUNPATH
	// sharing its bytes with a DT_NEEDED string.
	tmp := t.TempDir()
	write := func(name string, b []byte) {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, p)
	}
	hello := mustRead(t, filepath.Join(fixtures, "x86_64/hello-2.28"))
	write("truncated-header", hello[:40])
	write("truncated-phdrs", hello[:200])
	write("truncated-dynamic", hello[:0x2000])
	rp := mustRead(t, filepath.Join(fixtures, "x86_64/runpath"))
	f := mustParse(t, filepath.Join(fixtures, "x86_64/runpath"))
	val, _ := f.dynVal(0x1d) // DT_RUNPATH
	both := bytes.Clone(rp)
	off := f.progs[f.dynProg].Off + uint64(f.nused)*dynSize
	le.PutUint64(both[off:], 15) // DT_RPATH
	le.PutUint64(both[off+8:], val)
	write("both", both)
	tab, _, _, _ := f.strtab()
	shared := bytes.Clone(rp)
	for k, d := range f.dyns[:f.nused] {
		if d.Tag == 0x1d {
			le.PutUint64(shared[f.progs[f.dynProg].Off+uint64(k)*dynSize+8:], uint64(bytes.Index(tab, []byte("libz3.so.4\x00"))+len("libz3.")))
		}
	}
	write("shared", shared)
	// This machine's own binaries (bookworm layouts, the 23 MB libz3).
	for _, bin := range []string{"/usr/bin/ls", "/usr/bin/readelf", "/usr/bin/patchelf", "/usr/bin/tar", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/lib/x86_64-linux-gnu/libz3.so.4"} {
		srcs = append(srcs, testdeps.File(t, bin))
	}

	runpaths := []string{"x/y", "$ORIGIN/lib", origin, longRunpath}
	opts := []options{{}, {noInPlace: true}, {moveDynamic: true}, {noInPlace: true, moveDynamic: true}}
	for _, src := range srcs {
		data := mustRead(t, src)
		for _, rp := range runpaths {
			for _, opt := range opts {
				t.Run(fmt.Sprintf("%s/%s/%+v", filepath.Base(filepath.Dir(src))+"/"+filepath.Base(src), rp, opt), func(t *testing.T) {
					want, werr := oldEdit(data, rp, opt)
					dst := filepath.Join(t.TempDir(), "out")
					err := setRunpath(src, dst, rp, opt)
					if werr != nil {
						var e *Error
						if !errors.As(err, &e) || e.Msg != werr.Error() || e.Path != src {
							t.Fatalf("got %v, want the oracle's refusal %q", err, werr)
						}
						return
					}
					if err != nil {
						t.Fatalf("got %v, the oracle edits it", err)
					}
					if got := mustRead(t, dst); !bytes.Equal(got, want) {
						t.Errorf("output differs from the oracle's (%d bytes, want %d, first difference at %d)", len(got), len(want), firstDiff(got, want))
					}
				})
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// bigSize is what the memory test and benchmark grow their inputs to.
const bigSize = 64 << 20

// grow writes a copy of the fixture at dst grown to bigSize bytes by a
// non-loaded section (as bench/build-realistic.sh grows its inputs), and
// returns dst. The padding is written in small pieces: nothing here holds
// the file either.
func grow(tb testing.TB, fixture, dst string) string {
	tb.Helper()
	testdeps.Tools(tb, "objcopy")
	st, err := os.Stat(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	pad := dst + ".pad"
	pf, err := os.Create(pad)
	if err != nil {
		tb.Fatal(err)
	}
	// Not zeros, which a file system may store as holes: a counter.
	chunk := make([]byte, 1<<20)
	for n := bigSize - st.Size(); n > 0; n -= int64(len(chunk)) {
		for i := range chunk {
			chunk[i] = byte(i*7 + int(n>>20))
		}
		if _, err := pf.Write(chunk[:min(n, int64(len(chunk)))]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := pf.Close(); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("objcopy", "--add-section", ".relpack.pad="+pad,
		"--set-section-flags", ".relpack.pad=noload,readonly", fixture, dst).CombinedOutput()
	if err != nil {
		tb.Fatalf("objcopy: %v\n%s", err, out)
	}
	os.Remove(pad)
	return dst
}

// bigCases are the edit paths on grown inputs: in place, relocation of
// .dynstr, relocation of .dynstr and .dynamic.
var bigCases = []struct {
	name, fixture, runpath string
	opt                    options
	sameSize               bool // the in-place path keeps the file's size
}{
	{"in-place", "x86_64/runpath", "$ORIGIN/lib", options{}, true},
	{"relocate", "x86_64/runpath", longRunpath, options{}, false},
	{"relocate-dynamic", "demo/x86_64-unknown-linux-gnu/openshell-gateway", origin, options{moveDynamic: true}, false},
}

// TestMemoryBoundedByEdit: on a 64 MiB binary SetRunpath allocates a few
// hundred KiB (the headers, .dynstr, .dynamic, symbol names it reads), not
// the file: under 4 MiB on every path, where the in-memory algorithm (the
// oracle, reading the file and building the output) allocates more than
// twice the file. The output is still the oracle's, byte for byte.
func TestMemoryBoundedByEdit(t *testing.T) {
	const limit = 4 << 20
	for _, c := range bigCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := grow(t, filepath.Join(fixtures, c.fixture), filepath.Join(dir, "big"))
			st, err := os.Stat(src)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() < bigSize {
				t.Fatalf("grown input is %d bytes, want %d", st.Size(), bigSize)
			}
			dst := filepath.Join(dir, "out")
			var editErr error
			n := memtest.Allocated(func() { editErr = setRunpath(src, dst, c.runpath, c.opt) })
			if editErr != nil {
				t.Fatal(editErr)
			}
			t.Logf("SetRunpath on %d bytes allocated %d bytes", st.Size(), n)
			if n > limit {
				t.Errorf("SetRunpath on a %d-byte file allocated %d bytes, want under %d", st.Size(), n, limit)
			}
			out, err := os.Stat(dst)
			if err != nil {
				t.Fatal(err)
			}
			if (out.Size() == st.Size()) != c.sameSize {
				t.Errorf("output is %d bytes from %d: not the %s path", out.Size(), st.Size(), c.name)
			}

			// The oracle: the old algorithm allocated the file twice over.
			var want []byte
			old := memtest.Allocated(func() {
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if want, err = oldEdit(data, c.runpath, c.opt); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("the in-memory algorithm allocated %d bytes", old)
			if old <= 2*bigSize {
				t.Errorf("the in-memory algorithm allocated only %d bytes: this test would not see a regression", old)
			}
			if got, w := fileSum(t, dst), sha256.Sum256(want); got != w {
				t.Error("output differs from the oracle's")
			}
		})
	}
}

// fileSum hashes a file without reading it whole.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// BenchmarkSetRunpath64MiB edits a 64 MiB binary on each path; -benchmem
// shows the bytes it allocates per edit.
func BenchmarkSetRunpath64MiB(b *testing.B) {
	for _, c := range bigCases {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			src := grow(b, filepath.Join(fixtures, c.fixture), filepath.Join(dir, "big"))
			dst := filepath.Join(dir, "out")
			b.SetBytes(bigSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := setRunpath(src, dst, c.runpath, c.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
