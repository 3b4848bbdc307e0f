package rpmmd

import (
	"fmt"
	"strings"
	"testing"

	"relpack/internal/memtest"
	"relpack/internal/rpmtag"
	"relpack/internal/rpmtest"
)

// readMetaBytes is ReadMeta on data written to a file.
func readMetaBytes(t *testing.T, data []byte) error {
	p := writeSynth(t, t.TempDir(), "hostile.rpm", data)
	_, err := ReadMeta(p, "hostile.rpm", 1)
	return err
}

// TestHeaderBounds holds the rpm header reader (ReadMeta: what relpack
// repo runs on every rpm) to memory linear in the file: 128n + 4 MiB for
// an n-byte rpm, accepted or refused. The hostile shapes are refused with
// a message saying why, having allocated about 3n; a legitimate header
// with as many values as it can hold is read within the bound (the
// densest, one-letter dependencies of 7 header bytes each, each a Dep of
// 88 bytes once read, takes about 80n).
func TestHeaderBounds(t *testing.T) {
	// rpmtest.SharedData points every dependency kind this reader reads
	// at the shared data; a kind added here must be added there.
	if len(rpmtest.DepTags) != len(depKinds) {
		t.Fatalf("rpmtest.DepTags has %d dependency kinds, depKinds %d", len(rpmtest.DepTags), len(depKinds))
	}
	for i, k := range depKinds {
		if rpmtest.DepTags[i] != [3]uint32{k.nameTag, k.flagTag, k.verTag} {
			t.Fatalf("rpmtest.DepTags[%d] = %v, depKinds says %s %v", i, rpmtest.DepTags[i], k.kind, [3]uint32{k.nameTag, k.flagTag, k.verTag})
		}
	}
	many := 60000
	names := make([]string, many)
	vers := make([]string, many)
	for i := range names {
		names[i] = fmt.Sprintf("cap%d", i)
		vers[i] = "1"
	}
	dirs := []string{"/usr/share/synth/"}
	bases := make([]string, many)
	for i := range bases {
		bases[i] = fmt.Sprintf("f%d", i)
	}
	legit := synthRPM(4, sigTags, baseTags(
		tv{rpmtag.ProvideName, rpmtag.TypeStringArray, names},
		tv{rpmtag.ProvideFlags, rpmtag.TypeInt32, make([]uint32, many)},
		tv{rpmtag.ProvideVersion, rpmtag.TypeStringArray, vers},
		tv{rpmtag.DirNames, rpmtag.TypeStringArray, dirs},
		tv{rpmtag.DirIndexes, rpmtag.TypeInt32, make([]uint32, many)},
		tv{rpmtag.BaseNames, rpmtag.TypeStringArray, bases},
		tv{rpmtag.FileModes, rpmtag.TypeInt16, make([]uint16, many)},
		tv{rpmtag.FileFlags, rpmtag.TypeInt32, make([]uint32, many)},
		tv{rpmtag.FileDigests, rpmtag.TypeStringArray, make([]string, many)},
	))
	// The densest header rpm-md readers take: dependencies of one-byte
	// names, no version, in every kind (7 bytes each in the header, a
	// Dep of 88 bytes once read).
	dense := []tv{}
	for _, k := range depKinds[:8] {
		n := 20000
		names := make([]string, n)
		for i := range names {
			names[i] = string(rune('a' + i%26))
		}
		dense = append(dense,
			tv{k.nameTag, rpmtag.TypeStringArray, names},
			tv{k.flagTag, rpmtag.TypeInt32, make([]uint32, n)},
			tv{k.verTag, rpmtag.TypeStringArray, make([]string, n)})
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // "" accepted
	}{
		{"legitimate, 60000 provides and files", legit, ""},
		{"legitimate, 160000 one-letter dependencies", synthRPM(4, sigTags, baseTags(dense...)), ""},
		{"16000 files in one 32 KiB directory", rpmtest.LongDir(32<<10, 16000), "file names add up to more than"},
		{"100 000 files in one 64 KiB directory", rpmtest.LongDir(64<<10, 100000), "file names add up to more than"},
		{"40 tags sharing 256 KiB of NULs", rpmtest.SharedData(256 << 10), "entries may not share data"},
		{"40 tags sharing 1 MiB of NULs", rpmtest.SharedData(1 << 20), "entries may not share data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := uint64(len(c.data))
			got := memtest.Allocated(func() { err = readMetaBytes(t, c.data) })
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if limit := 128*n + 4<<20; got > limit {
				t.Errorf("%d-byte rpm: %d bytes allocated, over the bound 128n + 4 MiB = %d", n, got, limit)
			}
			t.Logf("%d-byte rpm: %d bytes allocated (%.1fn); %v", n, got, float64(got)/float64(n), err)
		})
	}
}
