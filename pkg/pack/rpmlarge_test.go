package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// writeLargeInput writes a deterministic file of size bytes: a sparse file
// (holes read as zeros) with 4 KiB of pseudo-random bytes at every MiB
// and a line of text every 64 KiB, so every compressor has matches and
// literals to encode and the payload is several xz chunks. It returns the
// file's SHA-256.
func writeLargeInput(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	x := uint64(0x9e3779b97f4a7c15)
	noise := make([]byte, 4096)
	for off := int64(0); off < size; off += 64 << 10 {
		var b []byte
		if off%(1<<20) == 0 {
			for i := 0; i < len(noise); i += 8 {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				binary.LittleEndian.PutUint64(noise[i:], x)
			}
			b = noise
		} else {
			b = fmt.Appendf(nil, "relpack large payload line at offset %d\n", off)
		}
		b = b[:min(int64(len(b)), size-off)]
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return writeLargeSum(t, path)
}

// largeSpec is an rpm of one large file.
func largeSpec(src, compression string) PackageSpec {
	return PackageSpec{Format: "rpm", Name: "relpack-large", Arch: "amd64", Version: "1.0", Release: "1",
		Maintainer: "Relpack Tests <relpack-tests@example.com>", Summary: "large payload", Description: "A package with a large payload.",
		License: "MIT", Homepage: "https://example.com/relpack-large", Compression: compression, MTime: fixtureMTime,
		Files: []PackageFile{{Src: src, Dst: "/usr/bin/relpack-large", Mode: 0o755}}}
}

// rpmPayloadOffset is where the payload of the rpm in f begins: after the
// 96-byte lead, the signature header (padded to eight bytes) and the main
// header, each 16 bytes, 16 per index entry and its data store.
func rpmPayloadOffset(t *testing.T, f string) int64 {
	t.Helper()
	r, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	off := int64(96)
	for i := 0; i < 2; i++ {
		var h [16]byte
		if _, err := r.ReadAt(h[:], off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
			t.Fatalf("%s: no header magic at %d", f, off)
		}
		off += 16 + 16*int64(binary.BigEndian.Uint32(h[8:12])) + int64(binary.BigEndian.Uint32(h[12:16]))
		if i == 0 {
			off += (8 - off%8) % 8
		}
	}
	return off
}

// TestRPMLargePayload: an rpm whose file is larger than one xz chunk
// (8 MiB) is read by the distros' own decoders: rpm -K checks its digests
// (and, signed, its signatures), rpm2cpio | cpio -idm extracts the file
// byte for byte, and xz -t / zstd -t / gzip -t accept the compressed
// payload cut out of the rpm; the xz payload is several blocks.
func TestRPMLargePayload(t *testing.T) {
	testdeps.Tools(t, "rpm", "rpm2cpio", "cpio", "sh", "xz", "zstd", "gzip")
	in := t.TempDir()
	src := filepath.Join(in, "large")
	sum := writeLargeInput(t, src, 20<<20+12345)
	key, pubFile, _ := signingKey(t, "rsa3072", signPassphrase)
	for _, c := range []struct {
		compression, tester string
		signed              bool
	}{
		{"xz", "xz", true},
		{"zstd", "zstd", false},
		{"gzip", "gzip", false},
	} {
		t.Run(c.compression, func(t *testing.T) {
			spec := largeSpec(src, c.compression)
			if c.signed {
				spec.Signing = key
			}
			pkg, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if got := run(t, nil, "rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", pkg); got != c.compression {
				t.Errorf("PAYLOADCOMPRESSOR %q, want %q", got, c.compression)
			}
			want := "digests OK"
			db := rpmDB(t, "")
			args := []string{"--dbpath", db, "-K", "--nosignature", pkg}
			if c.signed {
				db, want = rpmDB(t, pubFile), "digests signatures OK"
				args = []string{"--dbpath", db, "-K", pkg}
			}
			if got := run(t, nil, "rpm", args...); !strings.HasSuffix(strings.TrimSpace(got), want) {
				t.Errorf("rpm -K: %s, want %q", got, want)
			}

			dir := t.TempDir()
			run(t, nil, "sh", "-c", `cd "$2" && rpm2cpio "$1" | cpio -idm --quiet`, "sh", pkg, dir)
			if got := writeLargeSum(t, filepath.Join(dir, "usr/bin/relpack-large")); got != sum {
				t.Errorf("extracted file sha256 %s, want %s", got, sum)
			}

			payload := filepath.Join(t.TempDir(), "payload."+c.compression)
			r, err := os.Open(pkg)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			w, err := os.Create(payload)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, io.NewSectionReader(r, rpmPayloadOffset(t, pkg), 1<<40)); err != nil {
				t.Fatal(err)
			}
			w.Close()
			run(t, nil, c.tester, "-t", payload)
			if c.compression == "xz" {
				// xz --robot -l: "totals" line, field 3 is the block count.
				for _, l := range strings.Split(run(t, nil, "xz", "--robot", "-l", payload), "\n") {
					if f := strings.Split(l, "\t"); f[0] == "totals" && (len(f) < 3 || f[2] == "1") {
						t.Errorf("xz payload is not multi-block: %s", l)
					}
				}
			}
		})
	}
}

// writeLargeSum is the sha256 (hex) of the file at path, read in pieces:
// the large files are not held in memory.
func writeLargeSum(t testing.TB, path string) string {
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
	return fmt.Sprintf("%x", h.Sum(nil))
}

// heapPeak runs f while sampling the heap in use, and returns the highest
// sample above the heap in use before f (after a collection) and the bytes
// f allocated in all. Sampling can miss a short peak; it cannot invent one.
func heapPeak(f func()) (peak, allocated uint64) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var max uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > max {
				max = m.HeapInuse
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if max < before.HeapInuse {
		return 0, after.TotalAlloc - before.TotalAlloc
	}
	return max - before.HeapInuse, after.TotalAlloc - before.TotalAlloc
}

// TestRPMWriterMemory: writing the rpm of a 64 MiB file holds a bounded
// amount of memory, not the file (rpmpack held every body and the
// compressed payload: more than 64 MiB here, plus its encoder). Each
// bound is what the compressor holds by design, whatever the input: pgzip
// and zstd their blocks and windows (well under the input); xz, through
// chunkedWriter as the deb writer uses it, per core one 8 MiB chunk in
// flight, its compressed copy and an encoder with a 2 MiB dictionary,
// plus the chunk being filled (about 80 MiB on 2 cores, 90 for a deb).
func TestRPMWriterMemory(t *testing.T) {
	in := t.TempDir()
	src := filepath.Join(in, "large")
	const size = 64 << 20
	writeLargeInput(t, src, size)
	procs := uint64(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		compression string
		bound       uint64
	}{
		{"gzip", 24 << 20},
		{"zstd", 32 << 20},
		{"xz", 16<<20 + procs*40<<20},
	} {
		t.Run(c.compression, func(t *testing.T) {
			var err error
			peak, alloc := heapPeak(func() { _, err = WritePackage(largeSpec(src, c.compression), t.TempDir()) })
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: peak heap in use %.1f MiB above the start, %.1f MiB allocated in all, for a %d MiB input (GOMAXPROCS %d)",
				c.compression, float64(peak)/(1<<20), float64(alloc)/(1<<20), size>>20, procs)
			if peak > c.bound {
				t.Errorf("peak heap in use %d MiB above the start; want at most %d MiB, whatever the input's size", peak>>20, c.bound>>20)
			}
		})
	}
}

// BenchmarkWriteRPMLarge writes the rpm of a 64 MiB file per compression,
// reporting the peak heap in use (sampled) beside the time: run with
// go test -run XXX -bench WriteRPMLarge -benchtime 1x ./pkg/pack
func BenchmarkWriteRPMLarge(b *testing.B) {
	src := filepath.Join(b.TempDir(), "large")
	const size = 64 << 20
	writeLargeInput(b, src, size)
	for _, c := range []string{"gzip", "xz", "zstd"} {
		b.Run(c, func(b *testing.B) {
			b.SetBytes(size)
			var peak uint64
			for b.Loop() {
				p, _ := heapPeak(func() {
					if _, err := WritePackage(largeSpec(src, c), b.TempDir()); err != nil {
						b.Fatal(err)
					}
				})
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
