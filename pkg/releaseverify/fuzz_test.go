package releaseverify

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// FuzzPackageCheck: the deb and rpm checks verify-release, repo and merge
// run on every package of a release (checkPackage: the ar reader,
// control.tar and data.tar through gzip, xz and zstd, archive/tar, the rpm
// header reader, the digests and the OpenPGP signatures) never panic or
// hang on arbitrary bytes, and one input, checked as a deb and as an rpm
// of a signed release, allocates at most 160 MiB + 64 bytes per input
// byte: the control member is at most 4 MiB and decompresses to at most
// 16 MiB, ./control at most 1 MiB, data.tar is streamed through an xz
// dictionary of at most 64 MiB or a zstd window of at most 64 MiB, and
// rpm headers are bounded by the file (pkg/repo/rpmmd).
func FuzzPackageCheck(f *testing.F) {
	for _, signed := range []bool{false, true} {
		for _, c := range []struct{ format, comp string }{{"deb", "gzip"}, {"deb", "xz"}, {"deb", "zstd"}, {"rpm", "xz"}, {"rpm", "zstd"}} {
			f.Add(testPackage(f, c.format, c.comp, signed))
		}
	}
	f.Add(craftedDeb(f, goodControl, "data.tar", tarFile(f, tarEntry{name: "./", typ: '5'}, tarEntry{name: "./usr/bin/demo", data: "x"})))
	f.Add([]byte("!<arch>\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(t, 10*time.Second)()
		for _, kind := range []string{"deb", "rpm"} {
			a := testArtifact(kind)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := checkBytes(t, dir, a, true, data)
			runtime.ReadMemStats(&after)
			// A file that is there and regular is read without an I/O
			// error: everything wrong with it is a problem.
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(160<<20+64*len(data)); got > limit {
				t.Fatalf("%d-byte input checked as %s allocated %d bytes, over %d", len(data), kind, got, limit)
			}
			os.Remove(dir + "/" + a.File)
		}
	})
}

// watchdog kills the process when the check has not returned in time: the
// fuzzing engine then records the input as a crasher, where a plain hang
// would only stall the run. Call the returned func when done.
func watchdog(t *testing.T, limit time.Duration) (stop func()) {
	timer := time.AfterFunc(limit, func() {
		panic(fmt.Sprintf("%s: input still running after %v: a loop does not terminate", t.Name(), limit))
	})
	return func() { timer.Stop() }
}
