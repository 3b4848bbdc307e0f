package smoke

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// A root's /etc/ld.so.cache, read the way glibc's loader reads it
// (elf/dl-cache.c, _dl_load_cache_lookup and search_cache; the layout is
// sysdeps/generic/dl-cache.h). ldconfig writes one of three shapes:
//
//   - the new format alone ("glibc-ld.so.cache1.1"; ldconfig's default
//     since glibc 2.32);
//   - the old format ("ld.so-1.7.0") with the new one after its entries,
//     at the next 8-byte boundary (glibc 2.31 and older, EL8's 2.28);
//   - the old format alone.
//
// The loader uses the new table when there is one. Entries are sorted by
// ldconfig (elf/cache.c, compare): by soname, highest first in
// _dl_cache_libcmp's order, then by flags, and entries with the same name
// and flags keep the order in which ldconfig scanned their folders (its
// ld.so.conf folders in order, then its built-in ones). The loader
// binary-searches the name, steps back to the first entry with it and
// takes the first one whose flags are its own (libc6 and the
// architecture's bits); it opens that one path only, and goes on to its
// default folders if that fails.
//
// The file is the root's, so hostile: every count is checked against the
// file's size before anything is read, every string offset against the
// string table, and a string must end (NUL) inside the file. A file the
// loader would not use (bad magic, a count beyond the file, the wrong
// byte order) is reported as such: the loader then has no cache.

const (
	ldCacheOldMagic = "ld.so-1.7.0"
	ldCacheNewMagic = "glibc-ld.so.cache1.1"

	ldCacheOldHeader = 16 // magic (11), padding (1), nlibs
	ldCacheOldEntry  = 12 // flags, key, value
	ldCacheNewHeader = 48 // magic+version (20), nlibs, len_strings, flags, padding, extension_offset, unused
	ldCacheNewEntry  = 24 // flags, key, value, osversion, hwcap

	// maxLdCache is the most read of a root's cache: a full Fedora
	// desktop's is about 200 KB.
	maxLdCache = 64 << 20
)

// ldCacheEntry is one entry of the table the loader searches.
type ldCacheEntry struct {
	Flags int32
	// Key is the soname and Value the path, "" when the offset is bad
	// (KeyOK, ValueOK false): the loader skips such entries.
	Key, Value     string
	KeyOK, ValueOK bool
	Hwcap          uint64 // 0 in the old format
}

// ldCache is a parsed cache.
type ldCache struct {
	// New tells which table the entries come from.
	New     bool
	Entries []ldCacheEntry
}

// ldCacheError says why the loader would not use a cache file.
type ldCacheError struct{ reason string }

func (e *ldCacheError) Error() string { return e.reason }

func badCache(format string, a ...any) error {
	return &ldCacheError{reason: fmt.Sprintf(format, a...)}
}

// parseLdCache reads a cache file's bytes. The cache is in the byte order
// of the machine that wrote it; relpack reads little-endian caches (x86_64,
// aarch64), and a big-endian one is refused as its loader would refuse a
// foreign one.
func parseLdCache(data []byte) (*ldCache, error) {
	le := binary.LittleEndian
	size := uint64(len(data))
	if size > maxLdCache {
		return nil, badCache("it is larger than %d MiB", maxLdCache>>20)
	}
	switch {
	case bytes.HasPrefix(data, []byte(ldCacheNewMagic)):
		if size <= ldCacheNewHeader {
			return nil, badCache("the new-format header is cut short (%d bytes)", size)
		}
		return parseNewCache(data, 0)
	case bytes.HasPrefix(data, []byte(ldCacheOldMagic)):
		if size <= ldCacheOldHeader {
			return nil, badCache("the old-format header is cut short (%d bytes)", size)
		}
		n := uint64(le.Uint32(data[12:16]))
		if (size-ldCacheOldHeader)/ldCacheOldEntry < n {
			return nil, badCache("it claims %d entries, more than its %d bytes hold", n, size)
		}
		end := ldCacheOldHeader + n*ldCacheOldEntry
		// The new table, if any, starts at the next 8-byte boundary.
		off := (end + 7) &^ 7
		if size >= off+ldCacheNewHeader && bytes.HasPrefix(data[off:], []byte(ldCacheNewMagic)) {
			return parseNewCache(data, off)
		}
		c := &ldCache{Entries: make([]ldCacheEntry, 0, n)}
		strs := newStringTable(data[end:])
		for i := uint64(0); i < n; i++ {
			e := data[ldCacheOldHeader+i*ldCacheOldEntry:]
			c.Entries = append(c.Entries, entryOf(strs, int32(le.Uint32(e[0:4])), le.Uint32(e[4:8]), le.Uint32(e[8:12]), 0))
		}
		return c, nil
	}
	return nil, badCache("it starts with neither %q nor %q", ldCacheNewMagic, ldCacheOldMagic)
}

// parseNewCache reads the new table at off. Its string offsets count from
// the table's own header.
func parseNewCache(data []byte, off uint64) (*ldCache, error) {
	le := binary.LittleEndian
	h := data[off:]
	if uint64(len(h)) <= ldCacheNewHeader {
		return nil, badCache("the new-format header is cut short")
	}
	n := uint64(le.Uint32(h[20:24]))
	if (uint64(len(h))-ldCacheNewHeader)/ldCacheNewEntry < n {
		return nil, badCache("it claims %d entries, more than its %d bytes hold", n, len(data))
	}
	// flags: 0 (unknown), 2 little-endian, 3 big-endian, 1 invalid.
	if f := h[28]; f != 0 && f&3 != 2 {
		return nil, badCache("its flags byte (%d) says it is not a little-endian cache", f)
	}
	c := &ldCache{New: true, Entries: make([]ldCacheEntry, 0, n)}
	strs := newStringTable(h)
	for i := uint64(0); i < n; i++ {
		e := h[ldCacheNewHeader+i*ldCacheNewEntry:]
		c.Entries = append(c.Entries, entryOf(strs, int32(le.Uint32(e[0:4])), le.Uint32(e[4:8]), le.Uint32(e[8:12]), le.Uint64(e[16:24])))
	}
	return c, nil
}

func entryOf(strs *stringTable, flags int32, key, value uint32, hwcap uint64) ldCacheEntry {
	e := ldCacheEntry{Flags: flags, Hwcap: hwcap}
	e.Key, e.KeyOK = strs.at(key)
	e.Value, e.ValueOK = strs.at(value)
	return e
}

// stringTable hands out the NUL-terminated strings of a cache's string
// table. Entries may all point into one long string at different offsets:
// the table is converted to a Go string once and every name is a
// substring of it, and where each string ends is found once for the whole
// table, so memory and time stay linear in the file.
type stringTable struct {
	s   string
	end []int32 // end[i]: the index of the first NUL at or after i, -1 if none
}

func newStringTable(b []byte) *stringTable {
	return &stringTable{s: string(b)}
}

// at is the string at off, if it starts and ends (NUL) inside the table.
func (t *stringTable) at(off uint32) (string, bool) {
	if uint64(off) >= uint64(len(t.s)) {
		return "", false
	}
	if t.end == nil {
		t.end = make([]int32, len(t.s))
		next := int32(-1)
		for i := len(t.s) - 1; i >= 0; i-- {
			if t.s[i] == 0 {
				next = int32(i)
			}
			t.end[i] = next
		}
	}
	e := t.end[off]
	if e < 0 {
		return "", false
	}
	return t.s[off:e], true
}

// cacheFlags is the flags value a loader of machine and class accepts
// (_DL_CACHE_DEFAULT_ID with _dl_cache_check_flags of glibc's
// sysdeps/x86_64/dl-cache.h and sysdeps/unix/sysv/linux/aarch64/dl-cache.h:
// FLAG_ELF_LIBC6 with the architecture's bits, nothing else).
func cacheFlags(machine, class string) (int32, bool) {
	switch {
	case machine == "x86_64" && class == "ELF64":
		return 0x0303, true
	case machine == "aarch64" && class == "ELF64":
		return 0x0a03, true
	}
	return 0, false
}

// lookupResult is what a cache lookup found.
type lookupResult struct {
	Path  string // the path the loader opens, "" if none
	Found bool
	// HwcapOnly: the name has entries with the right flags, but only
	// hwcap-specific ones (legacy hwcaps or glibc-hwcaps subfolders),
	// which relpack does not model.
	HwcapOnly bool
}

// lookup searches name as search_cache does: a binary search in
// _dl_cache_libcmp order (the table is sorted highest first), a bogus
// key offset on the way ends the search with nothing, then the first
// entry of that name with flags want and a good value. Entries with a
// hwcap value are skipped: glibc 2.37 and later skip the legacy ones,
// earlier loaders and the glibc-hwcaps entries depend on the CPU.
// signedChar is the C char of the loader's machine (x86_64 signed, aarch64
// unsigned), which decides the order of bytes of 0x80 and above.
func (c *ldCache) lookup(name string, want int32, signedChar bool) lookupResult {
	var res lookupResult
	left, right := 0, len(c.Entries)-1
	for left <= right {
		middle := (left + right) / 2
		e := c.Entries[middle]
		if !e.KeyOK {
			return res
		}
		cmp := libcmp(name, e.Key, signedChar)
		if cmp == 0 {
			first := middle
			for first > 0 {
				p := c.Entries[first-1]
				if !p.KeyOK || libcmp(name, p.Key, signedChar) != 0 {
					break
				}
				first--
			}
			for i := first; i <= right; i++ {
				e := c.Entries[i]
				if i > middle && (!e.KeyOK || libcmp(name, e.Key, signedChar) != 0) {
					break
				}
				if e.Flags != want || !e.ValueOK {
					continue
				}
				if e.Hwcap != 0 {
					res.HwcapOnly = true
					continue
				}
				return lookupResult{Path: e.Value, Found: true}
			}
			return res
		}
		if cmp < 0 {
			left = middle + 1
		} else {
			right = middle - 1
		}
	}
	return res
}

// libcmp is glibc's _dl_cache_libcmp: runs of digits compare as numbers
// (libfoo.so.10 after libfoo.so.9), a digit sorts after any other byte,
// other bytes compare as C chars. The numbers are C ints: they wrap as the
// loader's do on a run of digits too long for one.
func libcmp(a, b string, signedChar bool) int32 {
	at := func(s string, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	char := func(c byte) int32 {
		if signedChar {
			return int32(int8(c))
		}
		return int32(c)
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for at(a, i) != 0 {
		c1, c2 := at(a, i), at(b, j)
		switch {
		case digit(c1):
			if !digit(c2) {
				return 1
			}
			var v1, v2 int32
			for ; digit(at(a, i)); i++ {
				v1 = v1*10 + int32(at(a, i)-'0')
			}
			for ; digit(at(b, j)); j++ {
				v2 = v2*10 + int32(at(b, j)-'0')
			}
			if v1 != v2 {
				return v1 - v2
			}
		case digit(c2):
			return -1
		case c1 != c2:
			return char(c1) - char(c2)
		default:
			i++
			j++
		}
	}
	return char(at(a, i)) - char(at(b, j))
}
