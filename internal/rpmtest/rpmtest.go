// Package rpmtest builds rpm files for tests: well-formed synthetic
// packages of the tags a test names, and the hostile shapes that made
// rpm header readers grow far past the file (issue 18), so the readers'
// own tests (pkg/repo/rpmmd, pkg/capture) and the CLI's (cmd/relpack)
// throw the same bytes at them. It imports only internal/rpmtag, so the
// tests of any package may use it.
package rpmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"

	"relpack/internal/rpmtag"
)

// The rpm file format's fixed parts (rpm's lib/rpmlead.c, lib/header.c).
const (
	LeadSize  = 96
	EntrySize = 16
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}
)

// Tag is one tag of a synthetic header: Value is a string ([]string for
// an array), []uint32, []uint16, []uint64 or []byte; nil in BaseTags'
// arguments removes the tag.
type Tag struct {
	Tag, Type uint32
	Value     any
}

// Header serialises a header as rpm lays one out: index entries in the
// given order, data aligned for its type.
func Header(tags []Tag) []byte {
	var index, data bytes.Buffer
	// A region tag first has its trailer written last, at the end of the
	// store, covering the whole header (as rpmbuild writes one).
	var region *Tag
	if len(tags) > 0 && (tags[0].Tag == rpmtag.HeaderImmutable || tags[0].Tag == rpmtag.HeaderSignatures) {
		region, tags = &tags[0], tags[1:]
		index.Write(make([]byte, EntrySize)) // filled below
	}
	for _, e := range tags {
		align := map[uint32]int{rpmtag.TypeInt16: 2, rpmtag.TypeInt32: 4, rpmtag.TypeInt64: 8}[e.Type]
		for align > 0 && data.Len()%align != 0 {
			data.WriteByte(0)
		}
		off := data.Len()
		count := 0
		switch v := e.Value.(type) {
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
		binary.Write(&index, binary.BigEndian, []uint32{e.Tag, e.Type, uint32(off), uint32(count)})
	}
	il := len(tags)
	if region != nil {
		il++
		off := data.Len()
		binary.Write(&data, binary.BigEndian, []uint32{region.Tag, rpmtag.TypeBin, uint32(-int32(il * EntrySize)), EntrySize})
		idx := index.Bytes()
		binary.BigEndian.PutUint32(idx[0:], region.Tag)
		binary.BigEndian.PutUint32(idx[4:], rpmtag.TypeBin)
		binary.BigEndian.PutUint32(idx[8:], uint32(off))
		binary.BigEndian.PutUint32(idx[12:], EntrySize)
	}
	var h bytes.Buffer
	h.Write(headerMagic)
	h.Write([]byte{0, 0, 0, 0})
	binary.Write(&h, binary.BigEndian, []uint32{uint32(il), uint32(data.Len())})
	h.Write(index.Bytes())
	h.Write(data.Bytes())
	return h.Bytes()
}

// RawHeader is a header of the given index entries ({tag, type, offset,
// count}) over data, as written: no region tag (a legacy header, which
// rpm reads), no checks, so a hostile header points entries wherever it
// likes.
func RawHeader(entries [][4]uint32, data []byte) []byte {
	var h bytes.Buffer
	h.Write(headerMagic)
	h.Write([]byte{0, 0, 0, 0})
	binary.Write(&h, binary.BigEndian, []uint32{uint32(len(entries)), uint32(len(data))})
	for _, e := range entries {
		binary.Write(&h, binary.BigEndian, e[:])
	}
	h.Write(data)
	return h.Bytes()
}

// Lead is an rpm lead of format major, a binary package.
func Lead(major byte) []byte {
	lead := make([]byte, LeadSize)
	copy(lead, leadMagic)
	lead[4] = major
	copy(lead[10:], "synthetic")
	binary.BigEndian.PutUint16(lead[78:], 5)
	return lead
}

// Assemble is a v4 lead, the signature header sig, its padding to 8
// bytes, the main header and the payload bytes.
func Assemble(sig, main, payload []byte) []byte {
	var b bytes.Buffer
	b.Write(Lead(4))
	b.Write(sig)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	b.Write(main)
	b.Write(payload)
	return b.Bytes()
}

// RPM is a lead (format major), a signature header, its padding, the
// main header and a few payload bytes.
func RPM(major byte, sig, main []Tag) []byte {
	b := Assemble(Header(sig), Header(main), []byte("payload"))
	b[4] = major
	return b
}

// SigTags is a minimal signature header: its region and a payload size.
var SigTags = []Tag{{rpmtag.HeaderSignatures, rpmtag.TypeBin, nil}, {rpmtag.SigPayloadSize, rpmtag.TypeInt32, []uint32{1234}}}

// BaseTags is a minimal v4 binary package's main header: the immutable
// region tag first (its data is not read), then the tags sorted; over
// replaces (or, with a nil Value, removes) tags.
func BaseTags(over ...Tag) []Tag {
	m := map[uint32]Tag{}
	for _, e := range []Tag{
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
		m[e.Tag] = e
	}
	for _, e := range over {
		if e.Value == nil {
			delete(m, e.Tag)
		} else {
			m[e.Tag] = e
		}
	}
	var out []Tag
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	region := Tag{rpmtag.HeaderImmutable, rpmtag.TypeBin, make([]byte, 16)}
	return append([]Tag{region}, out...)
}

// LongDir is an rpm whose files all sit in one directory of dirLen
// bytes: files x dirLen bytes of path names from a header of about
// dirLen + 12 x files bytes (an unbounded reader builds them all: 16 000
// files in a 32 KiB directory, a 230 KB rpm, asked for 512 MB; a 269 KB
// one took relpack repo 1.7 GB before issue 18).
func LongDir(dirLen, files int) []byte {
	return RPM(4, SigTags, BaseTags(LongDirTags(dirLen, files)...))
}

// LongDirTags are LongDir's file tags, for BaseTags or Sealed.
func LongDirTags(dirLen, files int) []Tag {
	dir := "/" + strings.Repeat("d", dirLen-2) + "/"
	return []Tag{
		{rpmtag.DirNames, rpmtag.TypeStringArray, []string{dir}},
		{rpmtag.DirIndexes, rpmtag.TypeInt32, make([]uint32, files)},
		{rpmtag.BaseNames, rpmtag.TypeStringArray, make([]string, files)},
		{rpmtag.FileModes, rpmtag.TypeInt16, make([]uint16, files)},
		{rpmtag.FileFlags, rpmtag.TypeInt32, make([]uint32, files)},
		{rpmtag.FileDigests, rpmtag.TypeStringArray, make([]string, files)},
	}
}

// Sealed is an unsigned rpm of BaseTags(over...) and payload whose
// digests agree with its bytes, as rpm -K (and pkg/releaseverify) checks
// them: the payload's SHA-256 in the main header (PAYLOADDIGEST), the
// main header's SHA-256 in the signature header. Whoever can write a
// release folder can make one, so a reader behind the verifier still
// sees hostile headers.
func Sealed(payload []byte, over ...Tag) []byte {
	const pgpHashSHA256 = 8
	ps := sha256.Sum256(payload)
	over = append(over,
		Tag{rpmtag.PayloadDigest, rpmtag.TypeStringArray, []string{hex.EncodeToString(ps[:])}},
		Tag{rpmtag.PayloadDigestAlgo, rpmtag.TypeInt32, []uint32{pgpHashSHA256}})
	main := Header(BaseTags(over...))
	hs := sha256.Sum256(main)
	sig := Header([]Tag{
		{rpmtag.HeaderSignatures, rpmtag.TypeBin, nil},
		{rpmtag.SigSHA256, rpmtag.TypeString, hex.EncodeToString(hs[:])},
	})
	return Assemble(sig, main, payload)
}

// DepTags are the name, flags and version tags of every dependency kind
// an rpm-md reader reads (pkg/repo/rpmmd's depKinds).
var DepTags = [][3]uint32{
	{rpmtag.ProvideName, rpmtag.ProvideFlags, rpmtag.ProvideVersion},
	{rpmtag.ConflictName, rpmtag.ConflictFlags, rpmtag.ConflictVersion},
	{rpmtag.ObsoleteName, rpmtag.ObsoleteFlags, rpmtag.ObsoleteVersion},
	{rpmtag.RequireName, rpmtag.RequireFlags, rpmtag.RequireVersion},
	{rpmtag.SuggestName, rpmtag.SuggestFlags, rpmtag.SuggestVersion},
	{rpmtag.EnhanceName, rpmtag.EnhanceFlags, rpmtag.EnhanceVersion},
	{rpmtag.RecommendName, rpmtag.RecommendFlags, rpmtag.RecommendVersion},
	{rpmtag.SupplementName, rpmtag.SupplementFlags, rpmtag.SupplementVersion},
	{rpmtag.OldSuggestsName, rpmtag.OldSuggestsFlags, rpmtag.OldSuggestsVersion},
	{rpmtag.OldEnhancesName, rpmtag.OldEnhancesFlags, rpmtag.OldEnhancesVersion},
}

// SharedData is an rpm of about n bytes whose dependency and file tags
// all point at the same run of NULs: each reads as n empty strings (16
// bytes each in Go) or n one-byte integers (8 bytes each), 40 times over
// (a 256 KiB rpm allocated 250 MB; a 1.2 MB one crashed relpack repo).
func SharedData(n int) []byte {
	data := make([]byte, n)
	copy(data, "synth\x001.0\x00")
	entries := [][4]uint32{
		{rpmtag.Name, rpmtag.TypeString, 0, 1},
		{rpmtag.Version, rpmtag.TypeString, 6, 1},
	}
	strs := []uint32{rpmtag.BaseNames, rpmtag.DirNames, rpmtag.FileDigests, rpmtag.ChangelogName, rpmtag.ChangelogText}
	ints := []uint32{rpmtag.DirIndexes, rpmtag.FileFlags, rpmtag.FileModes, rpmtag.ChangelogTime}
	for _, k := range DepTags {
		strs = append(strs, k[0], k[2])
		ints = append(ints, k[1])
	}
	for _, tag := range strs {
		entries = append(entries, [4]uint32{tag, rpmtag.TypeStringArray, 16, uint32(n - 16)})
	}
	for _, tag := range ints {
		entries = append(entries, [4]uint32{tag, rpmtag.TypeChar, 16, uint32(n - 16)})
	}
	return Assemble(Header(SigTags), RawHeader(entries, data), []byte("payload"))
}
