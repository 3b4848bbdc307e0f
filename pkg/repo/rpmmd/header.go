package rpmmd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"relpack/internal/rpmtag"
)

// An rpm file is a 96-byte lead, the signature header (padded to a
// multiple of 8 bytes), the main header, and the payload (rpm's
// lib/rpmlead.c, lib/header.cc; createrepo_c's cr_get_header_byte_range).
// A header is a 16-byte intro (magic 8e ad e8 01, 4 reserved bytes, the
// index entry count il and the data store length dl, big-endian), il
// index entries of 16 bytes (tag, type, offset into the store, count),
// then the dl-byte data store.

// Limits rpm itself puts on a header (lib/header.cc): at most 0xffff
// entries and 256 MiB of data; an rpm is refused past them whatever its
// size.
const (
	maxEntries = 0xffff
	maxData    = 0x0fffffff
	leadSize   = 96
	introSize  = 16
	entrySize  = 16
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}
)

// typeSize is the size of one value of the fixed-size types (0: variable).
var typeSize = [rpmtag.TypeI18NString + 1]uint32{rpmtag.TypeChar: 1, rpmtag.TypeInt8: 1, rpmtag.TypeInt16: 2, rpmtag.TypeInt32: 4, rpmtag.TypeInt64: 8, rpmtag.TypeBin: 1}

// Entry is one index entry of a header.
type Entry struct {
	Tag, Type, Offset, Count uint32
}

// Header is one parsed rpm header: its index and data store. Values are
// read on demand and bounds-checked against the store, so a header read
// from a hostile file never makes a getter read outside it.
type Header struct {
	// Start is the header's offset in the file (its magic), Size its
	// length: intro, index and data store.
	Start, Size int64
	Entries     []Entry
	Data        []byte
	byTag       map[uint32]int
}

// RPM is the lead and the two headers of an rpm file.
type RPM struct {
	// LeadMajor is the lead's format version (3 or 4).
	LeadMajor byte
	Signature *Header
	Main      *Header
}

// HeaderRange is the main header's byte range, rpm-md's
// <rpm:header-range start end>: what a client downloads to read the
// header alone.
func (r *RPM) HeaderRange() (start, end int64) {
	return r.Main.Start, r.Main.Start + r.Main.Size
}

// ReadRPM reads the lead and both headers of the rpm in r, which holds
// size bytes. Every count and length is checked against size before
// anything is allocated, so a truncated or hostile file gives an error,
// never a huge allocation or a read out of bounds.
func ReadRPM(r io.ReaderAt, size int64) (*RPM, error) {
	lead := make([]byte, leadSize)
	if size < leadSize {
		return nil, fmt.Errorf("not an rpm: %d bytes, shorter than the %d-byte lead", size, leadSize)
	}
	if _, err := r.ReadAt(lead, 0); err != nil {
		return nil, fmt.Errorf("reading the lead: %w", err)
	}
	if !bytes.Equal(lead[:4], leadMagic) {
		return nil, errors.New("not an rpm: no rpm lead magic (ed ab ee db)")
	}
	if lead[4] != 3 && lead[4] != 4 {
		return nil, fmt.Errorf("unsupported rpm format version %d (rpm reads versions 3 and 4)", lead[4])
	}
	// The signature type: 5 is a header-style signature, the only kind
	// rpm has written since version 3 (and the only one it reads).
	if st := binary.BigEndian.Uint16(lead[78:80]); st != 5 {
		return nil, fmt.Errorf("unsupported rpm signature type %d in the lead (want 5, a header)", st)
	}
	sig, err := readHeader(r, size, leadSize, "signature header")
	if err != nil {
		return nil, err
	}
	if err := sig.verifyRegion(rpmtag.HeaderSignatures, false, "signature header"); err != nil {
		return nil, err
	}
	if err := sig.checkLayout(rpmtag.HeaderSignatures, "signature header"); err != nil {
		return nil, err
	}
	// The main header starts at the next multiple of 8 after the
	// signature header (the padding rpm and createrepo_c both assume).
	start := sig.Start + sig.Size
	if pad := (sig.Size - introSize) % 8; pad != 0 {
		start += 8 - pad
	}
	main, err := readHeader(r, size, start, "main header")
	if err != nil {
		return nil, err
	}
	if len(main.Entries) == 0 {
		return nil, errors.New("the main header has no entries")
	}
	if err := main.verifyRegion(rpmtag.HeaderImmutable, true, "main header"); err != nil {
		return nil, err
	}
	if err := main.checkLayout(rpmtag.HeaderImmutable, "main header"); err != nil {
		return nil, err
	}
	return &RPM{LeadMajor: lead[4], Signature: sig, Main: main}, nil
}

func readHeader(r io.ReaderAt, size, start int64, what string) (*Header, error) {
	intro := make([]byte, introSize)
	if start+introSize > size {
		return nil, fmt.Errorf("truncated: the %s at byte %d needs %d bytes, the file has %d", what, start, introSize, size)
	}
	if _, err := r.ReadAt(intro, start); err != nil {
		return nil, fmt.Errorf("reading the %s: %w", what, err)
	}
	if !bytes.Equal(intro[:4], headerMagic) {
		return nil, fmt.Errorf("the %s at byte %d has no header magic (8e ad e8 01)", what, start)
	}
	il := binary.BigEndian.Uint32(intro[8:12])
	dl := binary.BigEndian.Uint32(intro[12:16])
	if il > maxEntries {
		return nil, fmt.Errorf("the %s claims %d entries (rpm's limit is %d)", what, il, maxEntries)
	}
	if dl > maxData {
		return nil, fmt.Errorf("the %s claims %d bytes of data (rpm's limit is %d)", what, dl, maxData)
	}
	total := int64(introSize) + int64(il)*entrySize + int64(dl)
	if start+total > size {
		return nil, fmt.Errorf("truncated: the %s at byte %d claims %d entries and %d bytes of data (%d bytes), past the end of the %d-byte file", what, start, il, dl, total, size)
	}
	buf := make([]byte, total-introSize)
	if _, err := r.ReadAt(buf, start+introSize); err != nil {
		return nil, fmt.Errorf("reading the %s: %w", what, err)
	}
	h := &Header{Start: start, Size: total, Data: buf[il*entrySize:], byTag: make(map[uint32]int, il)}
	h.Entries = make([]Entry, il)
	for i := range h.Entries {
		b := buf[i*entrySize:]
		e := Entry{
			Tag:    binary.BigEndian.Uint32(b[0:4]),
			Type:   binary.BigEndian.Uint32(b[4:8]),
			Offset: binary.BigEndian.Uint32(b[8:12]),
			Count:  binary.BigEndian.Uint32(b[12:16]),
		}
		if err := h.check(e); err != nil {
			return nil, fmt.Errorf("the %s: entry %d (tag %d): %w", what, i, e.Tag, err)
		}
		if _, dup := h.byTag[e.Tag]; dup {
			return nil, fmt.Errorf("the %s: tag %d appears twice", what, e.Tag)
		}
		h.byTag[e.Tag] = i
		h.Entries[i] = e
	}
	return h, nil
}

// check applies rpm's checks of an index entry (hdrblobVerifyInfo): a
// known type, a count of at least 1, the offset inside the data store and
// aligned for the type, and fixed-size data that fits. Strings are
// checked when read.
func (h *Header) check(e Entry) error {
	dl := uint32(len(h.Data))
	if e.Type < rpmtag.TypeChar || e.Type > rpmtag.TypeI18NString {
		return fmt.Errorf("unknown type %d", e.Type)
	}
	if e.Count < 1 || e.Count > dl {
		return fmt.Errorf("count %d out of range (data store %d bytes)", e.Count, dl)
	}
	if e.Offset >= dl {
		return fmt.Errorf("offset %d outside the %d-byte data store", e.Offset, dl)
	}
	if sz := typeSize[e.Type]; sz > 1 && e.Offset%sz != 0 {
		return fmt.Errorf("offset %d not aligned for its %d-byte values", e.Offset, sz)
	}
	if sz := typeSize[e.Type]; sz > 0 && uint64(e.Count)*uint64(sz) > uint64(dl-e.Offset) {
		return fmt.Errorf("%d values of %d bytes at offset %d run past the %d-byte data store", e.Count, sz, e.Offset, dl)
	}
	if e.Type == rpmtag.TypeString && e.Count != 1 {
		return fmt.Errorf("a string entry with count %d (must be 1)", e.Count)
	}
	return nil
}

// verifyRegion applies rpm's check of a header's region
// (hdrblobVerifyRegion): when the first entry is the region tag, it and
// its trailer must be well formed and the region must fit the header;
// in a package's main header (exact) it must be the whole header. A
// header without the region tag is a legacy (v3) one, which rpm reads.
func (h *Header) verifyRegion(regionTag uint32, exact bool, what string) error {
	if len(h.Entries) == 0 || h.Entries[0].Tag != regionTag {
		return nil
	}
	e := h.Entries[0]
	if e.Type != rpmtag.TypeBin || e.Count != entrySize {
		return fmt.Errorf("the %s: region tag %d has type %d and count %d (want %d, %d)", what, e.Tag, e.Type, e.Count, rpmtag.TypeBin, entrySize)
	}
	dl := uint64(len(h.Data))
	rdl := uint64(e.Offset) + entrySize
	if rdl > dl {
		return fmt.Errorf("the %s: region trailer at offset %d outside the %d-byte data store", what, e.Offset, dl)
	}
	b := h.Data[e.Offset:]
	tag, typ := binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint32(b[4:8])
	off, count := -int64(int32(binary.BigEndian.Uint32(b[8:12]))), binary.BigEndian.Uint32(b[12:16])
	if regionTag == rpmtag.HeaderSignatures && tag == rpmtag.HeaderImage {
		tag = rpmtag.HeaderSignatures // some old packages: rpm accepts it
	}
	if tag != regionTag || typ != rpmtag.TypeBin || count != entrySize {
		return fmt.Errorf("the %s: bad region trailer (tag %d type %d count %d)", what, tag, typ, count)
	}
	if off < 0 || off%entrySize != 0 || off/entrySize > int64(len(h.Entries)) {
		return fmt.Errorf("the %s: region trailer claims %d bytes of index, the header has %d entries", what, off, len(h.Entries))
	}
	if exact && (off/entrySize != int64(len(h.Entries)) || rdl != dl) {
		return fmt.Errorf("the %s: its region covers %d of %d entries and %d of %d data bytes (rpm wants all)", what, off/entrySize, len(h.Entries), rdl, dl)
	}
	return nil
}

// checkLayout applies rpm's rule that the entries' data do not overlap
// (hdrblobVerifyInfo, "Previous data must not overlap"): in index order,
// past the region tag, each entry's data starts at or after the end of
// the one before, and none reaches into the region trailer. rpm writes
// headers that way (headerExport lays the data out in index order), and
// it is what keeps reading a header linear in its size: without it, every
// tag could point at the same megabyte of NULs, each a million empty
// strings (16 bytes each once read), or one long directory name could
// serve every file. With it, the values of all entries together are at
// most the data store: n bytes give at most n strings and n integers.
// The string scans here cover each byte once.
func (h *Header) checkLayout(regionTag uint32, what string) error {
	entries := h.Entries
	rdl := uint64(len(h.Data))
	region := len(entries) > 0 && entries[0].Tag == regionTag
	if region {
		rdl = uint64(entries[0].Offset) + entrySize // verifyRegion: inside the store
		entries = entries[1:]
	}
	end := uint64(0)
	for i, e := range entries {
		if uint64(e.Offset) < end {
			return fmt.Errorf("the %s: entry %d (tag %d) has its data at offset %d, inside the previous entry's data (which ends at %d): entries may not share data (rpm refuses it too)", what, i+btoi(region), e.Tag, e.Offset, end)
		}
		n, err := h.dataLength(e)
		if err != nil {
			return fmt.Errorf("the %s: entry %d (tag %d): %w", what, i+btoi(region), e.Tag, err)
		}
		end = uint64(e.Offset) + n
		if region && end > rdl-entrySize && uint64(e.Offset) < rdl {
			return fmt.Errorf("the %s: entry %d (tag %d) has its data over the region trailer at offset %d", what, i+btoi(region), e.Tag, rdl-entrySize)
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dataLength is the bytes an entry's values take in the store (rpm's
// dataLength): count times the size of a fixed-size value, or the
// strings up to and including their NULs, which must lie in the store.
func (h *Header) dataLength(e Entry) (uint64, error) {
	if sz := typeSize[e.Type]; sz > 0 {
		return uint64(e.Count) * uint64(sz), nil // check: fits
	}
	d := h.Data[e.Offset:]
	n := uint64(0)
	for range e.Count {
		j := bytes.IndexByte(d, 0)
		if j < 0 {
			return 0, fmt.Errorf("%d strings from offset %d run past the data store", e.Count, e.Offset)
		}
		n += uint64(j) + 1
		d = d[j+1:]
	}
	return n, nil
}

// Has reports whether the header has tag.
func (h *Header) Has(tag uint32) bool { _, ok := h.byTag[tag]; return ok }

// Lookup returns tag's entry.
func (h *Header) Lookup(tag uint32) (Entry, bool) {
	i, ok := h.byTag[tag]
	if !ok {
		return Entry{}, false
	}
	return h.Entries[i], true
}

// Strings returns the values of a string, string array or I18N string
// tag (nil, nil when absent). Each string must end with a NUL inside the
// data store.
func (h *Header) Strings(tag uint32) ([]string, error) {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil, nil
	}
	if e.Type != rpmtag.TypeString && e.Type != rpmtag.TypeStringArray && e.Type != rpmtag.TypeI18NString {
		return nil, fmt.Errorf("tag %d: type %d where strings belong", tag, e.Type)
	}
	d := h.Data[e.Offset:]
	// count <= len(Data) (check), and every string takes at least its
	// NUL, so this allocation is bounded by the file.
	out := make([]string, 0, min(e.Count, uint32(len(d))))
	for range e.Count {
		n := bytes.IndexByte(d, 0)
		if n < 0 {
			return nil, fmt.Errorf("tag %d: %d strings from offset %d run past the data store", tag, e.Count, e.Offset)
		}
		out = append(out, string(d[:n]))
		d = d[n+1:]
	}
	return out, nil
}

// String returns the first value of a string tag ("", false when absent):
// an I18N string's first value is its untranslated (C locale) text, what
// rpm returns without a locale.
func (h *Header) String(tag uint32) (string, bool, error) {
	s, err := h.Strings(tag)
	if err != nil || len(s) == 0 {
		return "", false, err
	}
	return s[0], true, nil
}

// Ints returns the values of an integer tag (any of the integer types),
// nil when absent.
func (h *Header) Ints(tag uint32) ([]uint64, error) {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil, nil
	}
	sz := uint32(0)
	switch e.Type {
	case rpmtag.TypeChar, rpmtag.TypeInt8, rpmtag.TypeInt16, rpmtag.TypeInt32, rpmtag.TypeInt64:
		sz = typeSize[e.Type]
	default:
		return nil, fmt.Errorf("tag %d: type %d where integers belong", tag, e.Type)
	}
	d := h.Data[e.Offset:] // check: Count*sz fits
	out := make([]uint64, e.Count)
	for i := range out {
		b := d[uint32(i)*sz:]
		switch sz {
		case 1:
			out[i] = uint64(b[0])
		case 2:
			out[i] = uint64(binary.BigEndian.Uint16(b))
		case 4:
			out[i] = uint64(binary.BigEndian.Uint32(b))
		case 8:
			out[i] = binary.BigEndian.Uint64(b)
		}
	}
	return out, nil
}

// Int returns the first value of an integer tag (0, false when absent).
func (h *Header) Int(tag uint32) (uint64, bool, error) {
	v, err := h.Ints(tag)
	if err != nil || len(v) == 0 {
		return 0, false, err
	}
	return v[0], true, nil
}
