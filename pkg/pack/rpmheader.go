package pack

import (
	"encoding/binary"
	"fmt"
	"slices"

	"relpack/internal/rpmtag"
)

// rpmEntry is one header entry: its type, element count and data as
// stored (big-endian integers, NUL-terminated strings).
type rpmEntry struct {
	typ, count int
	data       []byte
}

func rpmInt16(v ...uint16) rpmEntry {
	b := make([]byte, 0, 2*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return rpmEntry{rpmtag.TypeInt16, len(v), b}
}

func rpmInt32(v ...uint32) rpmEntry {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return rpmEntry{rpmtag.TypeInt32, len(v), b}
}

func rpmInt64(v ...uint64) rpmEntry {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return rpmEntry{rpmtag.TypeInt64, len(v), b}
}

func rpmString(s string) rpmEntry {
	return rpmEntry{rpmtag.TypeString, 1, append([]byte(s), 0)}
}

func rpmBin(b []byte) rpmEntry {
	return rpmEntry{rpmtag.TypeBin, len(b), b}
}

// rpmStrings is a string array; an empty one is a single NUL, as
// rpmpack wrote it.
func rpmStrings(v []string) rpmEntry {
	var b []byte
	for i, s := range v {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return rpmEntry{rpmtag.TypeStringArray, len(v), append(b, 0)}
}

// rpmAlign is the alignment of each integer type in the data store: rpm
// refuses unaligned integers (and other types must not be padded).
var rpmAlign = map[int]int{rpmtag.TypeInt16: 2, rpmtag.TypeInt32: 4, rpmtag.TypeInt64: 8}

// rpmHeader is an rpm header structure (the signature header or the main
// one) being built: its entries by tag. A tag set twice keeps the last
// value.
type rpmHeader struct {
	region  int // rpmtag.HeaderSignatures or rpmtag.HeaderImmutable
	entries map[int]rpmEntry
}

func newRPMHeader(region int) *rpmHeader {
	return &rpmHeader{region: region, entries: map[int]rpmEntry{}}
}

func (h *rpmHeader) set(tag int, e rpmEntry) { h.entries[tag] = e }

// bytes serialises the header as rpmpack v0.7.1 did, which is rpm's
// layout: magic 8e ad e8 01, four reserved bytes, the entry count and data
// size, then the index (the region entry first, then every tag in
// ascending order) and the data store (each entry's data in tag order,
// integers aligned, then the region trailer: an index entry of the region
// tag whose offset is minus the size of the whole index).
func (h *rpmHeader) bytes() ([]byte, error) {
	tags := make([]int, 0, len(h.entries))
	for t := range h.entries {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	var data []byte
	offsets := make([]int, len(tags))
	for i, t := range tags {
		e := h.entries[t]
		if a, ok := rpmAlign[e.typ]; ok {
			for len(data)%a != 0 {
				data = append(data, 0)
			}
		}
		offsets[i] = len(data)
		data = append(data, e.data...)
	}
	n := len(tags) + 1 // with the region entry
	trailer := rpmIndexEntry(h.region, rpmtag.TypeBin, -16*n, 16)
	data = append(data, trailer...)
	if len(data) > 256<<20 || n > 0xffff {
		// rpm refuses headers over 256 MiB (hdrchk) and so many tags.
		return nil, fmt.Errorf("rpm header of %d bytes in %d entries is larger than rpm reads", len(data), n)
	}

	out := make([]byte, 0, 16+16*n+len(data))
	out = append(out, 0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(n))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, rpmIndexEntry(h.region, rpmtag.TypeBin, len(data)-16, 16)...)
	for i, t := range tags {
		e := h.entries[t]
		out = append(out, rpmIndexEntry(t, e.typ, offsets[i], e.count)...)
	}
	return append(out, data...), nil
}

// rpmIndexEntry is one 16-byte index entry: tag, type, offset, count.
func rpmIndexEntry(tag, typ, offset, count int) []byte {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(tag)))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(typ)))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(offset)))
	return binary.BigEndian.AppendUint32(b, uint32(int32(count)))
}

// rpmLead is the 96-byte lead as rpmpack wrote it: magic, format 3.0, a
// binary package, archnum 1, NAME-V-R (at most 65 bytes, NUL-padded to
// 66), osnum 1, signature type 5 (a header-style signature), 16 reserved
// bytes. rpm reads nothing from it but the magic and the signature type.
func rpmLead(name, fullVersion string) []byte {
	n := []byte(name + "-" + fullVersion)
	if len(n) > 65 {
		n = n[:65]
	}
	b := []byte{0xed, 0xab, 0xee, 0xdb, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}
	b = append(b, n...)
	b = append(b, make([]byte, 66-len(n))...)
	b = append(b, 0x00, 0x01, 0x00, 0x05)
	return append(b, make([]byte, 16)...)
}
