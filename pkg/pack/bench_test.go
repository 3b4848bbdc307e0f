package pack

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWritePackage writes one package holding 8 MiB of incompressible
// bytes per format and compression: the cost a release pays per artifact
// (docs/benchmarks.md). Run: go test -run XXX -bench WritePackage -benchtime 3x ./pkg/pack
func BenchmarkWritePackage(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "payload")
	buf := make([]byte, 8<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(src, buf, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, fc := range [][2]string{{"deb", "gzip"}, {"deb", "xz"}, {"deb", "zstd"}, {"rpm", "gzip"}, {"rpm", "xz"}, {"rpm", "zstd"}} {
		b.Run(fc[0]+"-"+fc[1], func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				_, err := WritePackage(PackageSpec{Format: fc[0], Name: "bench", Arch: "amd64", Version: "1.0", Release: "1",
					Maintainer: "bench <bench@example.org>", Summary: "bench", Description: "bench", License: "MIT",
					Homepage: "https://example.org", Compression: fc[1], MTime: time.Unix(1577836800, 0),
					Files: []PackageFile{{Src: src, Dst: "/usr/bin/bench", Mode: 0o755}}}, b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("tar.gz", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if err := WriteTarGz(filepath.Join(b.TempDir(), "t.tar.gz"), []TarEntry{{Name: "bench", Src: src, Mode: 0o755}}, time.Unix(0, 0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
