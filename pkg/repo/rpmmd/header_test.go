package rpmmd

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"relpack/internal/rpmroot"
	"relpack/internal/rpmtag"
)

// demoRPM is an rpm of relpack's own writer (pkg/pack).
func demoRPM(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(rpmroot.StandIn(t, t.TempDir(), "glibc", "2.28", rpmroot.EL8GlibcProvides()))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readBytes(b []byte) (*RPM, error) { return ReadRPM(bytes.NewReader(b), int64(len(b))) }

// TestReadRPMTruncated cuts a real rpm at every length up to the end of
// its main header: each is refused with an error (no panic), and one
// whole header range is enough.
func TestReadRPMTruncated(t *testing.T) {
	data := demoRPM(t)
	full, err := readBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	_, end := full.HeaderRange()
	for n := 0; n < int(end); n++ {
		if _, err := readBytes(data[:n]); err == nil {
			t.Fatalf("cut at %d of %d bytes: accepted", n, end)
		} else if n > leadSize && !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("cut at %d: %v, want a truncation error", n, err)
		}
	}
	r, err := readBytes(data[:end])
	if err != nil {
		t.Fatalf("the file up to the end of the main header: %v", err)
	}
	if s, e := r.HeaderRange(); s != full.Main.Start || e != end {
		t.Errorf("header range %d-%d, want %d-%d", s, e, full.Main.Start, end)
	}
}

// TestReadRPMHostile feeds headers whose counts, offsets and types lie,
// and checks each is refused by name, without reading or allocating past
// what the file holds.
func TestReadRPMHostile(t *testing.T) {
	good := synthRPM(4, sigTags, baseTags())
	if _, err := readBytes(good); err != nil {
		t.Fatalf("the unaltered synthetic rpm: %v", err)
	}
	parsed, err := readBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	mainAt := int(parsed.Main.Start)
	il := len(parsed.Main.Entries)
	trailer := mainAt + introSize + il*entrySize + int(parsed.Main.Entries[0].Offset)
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	put := func(b []byte, at int, v uint32) { binary.BigEndian.PutUint32(b[at:], v) }
	entry := func(i int) int { return mainAt + introSize + i*entrySize } // the main header's entry i
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an rpm"},
		{"no lead magic", edit(func(b []byte) { b[0] = 0 }), "no rpm lead magic"},
		{"lead version 2", edit(func(b []byte) { b[4] = 2 }), "format version 2"},
		{"old signature type", edit(func(b []byte) { b[79] = 1 }), "signature type 1"},
		{"no header magic", edit(func(b []byte) { b[leadSize] = 0 }), "no header magic"},
		{"entry count past rpm's limit", edit(func(b []byte) { put(b, mainAt+8, 0x10000) }), "claims 65536 entries"},
		{"data length past rpm's limit", edit(func(b []byte) { put(b, mainAt+12, 0x10000000) }), "bytes of data (rpm's limit"},
		{"entries past the end of the file", edit(func(b []byte) { put(b, mainAt+8, 0xffff) }), "past the end of the"},
		{"data past the end of the file", edit(func(b []byte) { put(b, mainAt+12, 0x0fffffff) }), "past the end of the"},
		{"signature header past the end", edit(func(b []byte) { put(b, leadSize+12, 0x0fffffff) }), "truncated: the signature header"},
		{"unknown type", edit(func(b []byte) { put(b, entry(1)+4, 10) }), "unknown type 10"},
		{"null type", edit(func(b []byte) { put(b, entry(1)+4, 0) }), "unknown type 0"},
		{"offset outside the store", edit(func(b []byte) { put(b, entry(1)+8, 0x00ffffff) }), "outside the"},
		{"zero count", edit(func(b []byte) { put(b, entry(1)+12, 0) }), "count 0 out of range"},
		{"count larger than the store", edit(func(b []byte) { put(b, entry(1)+12, 0x7fffffff) }), "out of range"},
		{"region tag of another type", edit(func(b []byte) { put(b, entry(0)+4, rpmtag.TypeChar) }), "region tag 63 has type 1"},
		{"region trailer of another tag", edit(func(b []byte) { put(b, trailer, 62) }), "bad region trailer (tag 62"},
		{"region short of the header", edit(func(b []byte) { put(b, trailer+8, uint32(-int32((il-1)*entrySize))) }), "its region covers"},
		{"region larger than the header", edit(func(b []byte) { put(b, trailer+8, uint32(-int32((il+1)*entrySize))) }), "region trailer claims"},
		{"duplicate tag", edit(func(b []byte) { put(b, entry(2), binary.BigEndian.Uint32(b[entry(1):])) }), "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readBytes(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
		})
	}

	// Values that lie are refused when read (through ReadMeta, which
	// names the file).
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		tags []tv
		want string
	}{
		{"misaligned integers", nil, "not aligned"},
		{"ints past the store", []tv{{rpmtag.FileFlags, rpmtag.TypeInt32, []uint32{0, 0}}}, "run past the"},
		{"string array without its NULs", []tv{{rpmtag.BaseNames, rpmtag.TypeStringArray, []string{"synth", "data"}}}, "run past the data store"},
		{"directory index out of range", []tv{{rpmtag.DirIndexes, rpmtag.TypeInt32, []uint32{0, 7}}}, "directory index 7"},
		{"strings where numbers belong", []tv{{rpmtag.BuildTime, rpmtag.TypeString, "yesterday"}}, "where integers belong"},
		{"numbers where strings belong", []tv{{rpmtag.Name, rpmtag.TypeInt32, []uint32{1}}}, "where strings belong"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := synthRPM(4, sigTags, baseTags(c.tags...))
			r, err := readBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			h := r.Main
			switch c.name {
			case "misaligned integers":
				e, _ := h.Lookup(rpmtag.FileFlags)
				put(data, int(h.Start)+introSize+h.byTag[rpmtag.FileFlags]*entrySize+8, e.Offset+1)
			case "ints past the store":
				// The last entry (the highest tag) moved to the store's end.
				i := h.byTag[rpmtag.FileFlags]
				put(data, int(h.Start)+introSize+i*entrySize+8, (uint32(len(h.Data))-4)&^3)
			case "string array without its NULs":
				i := h.byTag[rpmtag.BaseNames]
				put(data, int(h.Start)+introSize+i*entrySize+12, uint32(len(h.Data)))
			}
			p := writeSynth(t, dir, "hostile.rpm", data)
			_, err = ReadMeta(p, "hostile.rpm", 1)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err %v, want %q naming %s", err, c.want, p)
			}
		})
	}
}

// FuzzReadRPM: no input makes the reader panic, and an accepted rpm's
// header range lies inside the file.
func FuzzReadRPM(f *testing.F) {
	f.Add(synthRPM(4, sigTags, baseTags()))
	f.Add(synthRPM(3, nil, baseTags(tv{rpmtag.HeaderImmutable, 0, nil})))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readBytes(data)
		if err != nil {
			return
		}
		if _, end := r.HeaderRange(); end > int64(len(data)) {
			t.Fatalf("header range ends at %d, past the %d-byte file", end, len(data))
		}
		if _, err := metaOf(r); err != nil {
			return
		}
	})
}

// TestV3Header reads a v3 package as rpm 4.18 (and so createrepo_c) does:
// no immutable region, the file list in OLDFILENAMES, and no provide of
// its own NAME = EVR, which rpm adds.
func TestV3Header(t *testing.T) {
	p := v3RPM(t, t.TempDir())
	m, err := ReadMeta(p, "synth-1.0-1.x86_64.rpm", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Files[0].Path != "/usr/bin/synth" || m.Files[1].Path != "/usr/share/synth/data" {
		t.Errorf("files %+v", m.Files)
	}
	want := []Dep{{Name: "synth-virtual", Epoch: ""}, {Name: "synth", Flags: "EQ", Epoch: "2", Ver: "1.0", Rel: "1"}}
	if len(m.Provides) != 2 || m.Provides[0] != want[0] || m.Provides[1] != want[1] {
		t.Errorf("provides %+v, want %+v", m.Provides, want)
	}
	if m.SizeArchive != 1234 || m.SizeInstalled != 42 || m.Epoch != "2" {
		t.Errorf("archive %d installed %d epoch %s", m.SizeArchive, m.SizeInstalled, m.Epoch)
	}
}

// v3RPM writes a synthetic v3 rpm (lead version 3, no immutable region,
// OLDFILENAMES, no self-provide) into dir.
func v3RPM(t *testing.T, dir string) string {
	tags := baseTags(
		tv{rpmtag.HeaderImmutable, 0, nil},
		tv{rpmtag.DirNames, 0, nil}, tv{rpmtag.DirIndexes, 0, nil}, tv{rpmtag.BaseNames, 0, nil},
		tv{rpmtag.OldFilenames, rpmtag.TypeStringArray, []string{"/usr/bin/synth", "/usr/share/synth/data"}},
		tv{rpmtag.ProvideName, rpmtag.TypeStringArray, []string{"synth-virtual"}},
		tv{rpmtag.ProvideFlags, rpmtag.TypeInt32, []uint32{0}},
		tv{rpmtag.ProvideVersion, rpmtag.TypeStringArray, []string{""}},
		tv{rpmtag.Epoch, rpmtag.TypeInt32, []uint32{2}},
	)[1:] // no region entry
	return writeSynth(t, dir, "synth-1.0-1.x86_64.rpm", synthRPM(3, sigTags, tags))
}
