package abi

import (
	"testing"

	"relpack/internal/testdeps"
)

// BenchmarkInspectLibz3 measures Inspect + Verify on Debian's 23 MB
// libz3.so.4, the largest library a gateway release deals with
// (docs/benchmarks.md; run with `go test -bench . -benchmem ./pkg/abi`).
func BenchmarkInspectLibz3(b *testing.B) {
	const path = "/usr/lib/x86_64-linux-gnu/libz3.so.4"
	testdeps.File(b, path)
	p := manylinuxPolicy("2.28")
	b.ReportAllocs()
	for b.Loop() {
		f, err := Inspect(path)
		if err != nil {
			b.Fatal(err)
		}
		Verify(f, p)
	}
}
