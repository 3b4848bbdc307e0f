package rpmmd

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"relpack/internal/rpmtag"
)

// tv is one tag of a synthetic header: value is a string ([]string for
// an array), []uint32, []uint16 or []uint64.
type tv struct {
	tag, typ uint32
	value    any
}

// synthHeader serialises a header as rpm lays one out: index entries in
// the given order, data aligned for its type.
func synthHeader(tags []tv) []byte {
	var index, data bytes.Buffer
	// A region tag first has its trailer written last, at the end of the
	// store, covering the whole header (as rpmbuild writes one).
	var region *tv
	if len(tags) > 0 && (tags[0].tag == rpmtag.HeaderImmutable || tags[0].tag == rpmtag.HeaderSignatures) {
		region, tags = &tags[0], tags[1:]
		index.Write(make([]byte, entrySize)) // filled below
	}
	for _, e := range tags {
		align := map[uint32]int{rpmtag.TypeInt16: 2, rpmtag.TypeInt32: 4, rpmtag.TypeInt64: 8}[e.typ]
		for align > 0 && data.Len()%align != 0 {
			data.WriteByte(0)
		}
		off := data.Len()
		count := 0
		switch v := e.value.(type) {
		case string:
			data.WriteString(v + "\x00")
			count = 1
		case []string:
			for _, s := range v {
				data.WriteString(s + "\x00")
			}
			count = len(v)
		case []uint16:
			binary.Write(&data, binary.BigEndian, v)
			count = len(v)
		case []uint32:
			binary.Write(&data, binary.BigEndian, v)
			count = len(v)
		case []uint64:
			binary.Write(&data, binary.BigEndian, v)
			count = len(v)
		case []byte:
			data.Write(v)
			count = len(v)
		}
		binary.Write(&index, binary.BigEndian, []uint32{e.tag, e.typ, uint32(off), uint32(count)})
	}
	il := len(tags)
	if region != nil {
		il++
		off := data.Len()
		binary.Write(&data, binary.BigEndian, []uint32{region.tag, rpmtag.TypeBin, uint32(-int32(il * entrySize)), entrySize})
		idx := index.Bytes()
		binary.BigEndian.PutUint32(idx[0:], region.tag)
		binary.BigEndian.PutUint32(idx[4:], rpmtag.TypeBin)
		binary.BigEndian.PutUint32(idx[8:], uint32(off))
		binary.BigEndian.PutUint32(idx[12:], entrySize)
	}
	var h bytes.Buffer
	h.Write(headerMagic)
	h.Write([]byte{0, 0, 0, 0})
	binary.Write(&h, binary.BigEndian, []uint32{uint32(il), uint32(data.Len())})
	h.Write(index.Bytes())
	h.Write(data.Bytes())
	return h.Bytes()
}

// synthRPM is a lead (format major), a signature header, its padding,
// the main header and a few payload bytes.
func synthRPM(major byte, sig, main []tv) []byte {
	var b bytes.Buffer
	lead := make([]byte, leadSize)
	copy(lead, leadMagic)
	lead[4] = major
	copy(lead[10:], "synthetic")
	binary.BigEndian.PutUint16(lead[78:], 5)
	b.Write(lead)
	s := synthHeader(sig)
	b.Write(s)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	b.Write(synthHeader(main))
	b.WriteString("payload")
	return b.Bytes()
}

// baseTags is a minimal v4 binary package's main header: the immutable
// region tag first (its data is not read), then the tags sorted.
func baseTags(over ...tv) []tv {
	m := map[uint32]tv{}
	for _, e := range []tv{
		{rpmtag.Name, rpmtag.TypeString, "synth"},
		{rpmtag.Version, rpmtag.TypeString, "1.0"},
		{rpmtag.Release, rpmtag.TypeString, "1"},
		{rpmtag.Summary, rpmtag.TypeI18NString, []string{"A synthetic package"}},
		{rpmtag.Description, rpmtag.TypeI18NString, []string{"Made by the tests."}},
		{rpmtag.BuildTime, rpmtag.TypeInt32, []uint32{1700000000}},
		{rpmtag.BuildHost, rpmtag.TypeString, "builder"},
		{rpmtag.Size, rpmtag.TypeInt32, []uint32{42}},
		{rpmtag.License, rpmtag.TypeString, "MIT"},
		{rpmtag.Arch, rpmtag.TypeString, "x86_64"},
		{rpmtag.SourceRPM, rpmtag.TypeString, "synth-1.0-1.src.rpm"},
		{rpmtag.ProvideName, rpmtag.TypeStringArray, []string{"synth"}},
		{rpmtag.ProvideFlags, rpmtag.TypeInt32, []uint32{rpmtag.SenseEqual}},
		{rpmtag.ProvideVersion, rpmtag.TypeStringArray, []string{"1.0-1"}},
		{rpmtag.DirNames, rpmtag.TypeStringArray, []string{"/usr/bin/", "/usr/share/synth/"}},
		{rpmtag.DirIndexes, rpmtag.TypeInt32, []uint32{0, 1}},
		{rpmtag.BaseNames, rpmtag.TypeStringArray, []string{"synth", "data"}},
		{rpmtag.FileModes, rpmtag.TypeInt16, []uint16{0o100755, 0o100644}},
		{rpmtag.FileFlags, rpmtag.TypeInt32, []uint32{0, 0}},
		{rpmtag.FileDigests, rpmtag.TypeStringArray, []string{"", ""}},
	} {
		m[e.tag] = e
	}
	for _, e := range over {
		if e.value == nil {
			delete(m, e.tag)
		} else {
			m[e.tag] = e
		}
	}
	var out []tv
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tag < out[j].tag })
	region := tv{rpmtag.HeaderImmutable, rpmtag.TypeBin, make([]byte, 16)}
	return append([]tv{region}, out...)
}

// writeSynth writes a synthetic rpm into dir and returns its path.
func writeSynth(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var sigTags = []tv{{rpmtag.HeaderSignatures, rpmtag.TypeBin, nil}, {rpmtag.SigPayloadSize, rpmtag.TypeInt32, []uint32{1234}}}
