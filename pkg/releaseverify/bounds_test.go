package releaseverify

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"relpack/internal/memtest"
)

// xzStream is b compressed as one xz stream (ulikunitz/xz, relpack's own
// xz writer) whose block header then claims the LZMA2 dictionary of code
// dictCode (40: 4 GiB - 1; xz-utils' own limit is 1.5 GiB, code 37), with
// the header's CRC32 made good again.
func xzStream(t testing.TB, b []byte, dictCode byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := xz.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	s := out.Bytes()
	const blockAt = 12 // after the stream header
	hlen := (int(s[blockAt]) + 1) * 4
	h := s[blockAt : blockAt+hlen]
	i := 2
	for _, present := range []bool{h[1]&0x40 != 0, h[1]&0x80 != 0} { // compressed, uncompressed size
		if present {
			_, n := binary.Uvarint(h[i:])
			i += n
		}
	}
	if h[1]&3 != 0 || h[i] != 0x21 || h[i+1] != 1 {
		t.Fatalf("unexpected xz block header % x", h)
	}
	h[i+2] = dictCode
	binary.LittleEndian.PutUint32(h[hlen-4:], crc32.ChecksumIEEE(h[:hlen-4]))
	return s
}

// TestPackageBounds: crafted packages that claim far more than they hold
// are refused (or, the 100 000-entry data.tar, accepted) by the package
// check with the memory it allocates bounded (runtime.MemStats TotalAlloc
// around the check) and a message naming the file.
func TestPackageBounds(t *testing.T) {
	dataTar := gzipped(t, tarFile(t, tarEntry{name: "./", typ: '5'}, tarEntry{name: "./usr/bin/demo", data: "x"}))
	debWith := func(ctlName string, ctl []byte) []byte {
		return arFile(arEntry{name: "debian-binary", data: []byte("2.0\n")}, arEntry{name: ctlName, data: ctl}, arEntry{name: "data.tar.gz", data: dataTar})
	}

	// control.tar.gz: ./md5sums (a name relpack writes) of 1 GiB of
	// zeros, about 1 MiB compressed: 64 gzip members of 16 MiB of zeros
	// each after the one of the tar headers (gzip readers read every
	// member of a file, as gzip -d does).
	hdr := tarFile(t, tarEntry{name: "./control", data: goodControl})[:1024] // ./control, without the end blocks
	md5 := tarFile(t, tarEntry{name: "./md5sums", data: "x"})[:512]
	copy(md5[124:136], fmt.Sprintf("%011o\x00", 1<<30))
	copy(md5[148:156], "        ")
	var sum int64
	for _, c := range md5 {
		sum += int64(c)
	}
	copy(md5[148:156], fmt.Sprintf("%06o\x00 ", sum))
	bomb := append(gzipped(t, hdr), gzipped(t, md5)...)
	zeros16 := gzipped(t, make([]byte, 16<<20))
	for range 64 {
		bomb = append(bomb, zeros16...)
	}

	// data.tar.gz of 100 000 entries with 100-byte names.
	// data.tar is streamed: what stays in memory is one header at a time;
	// archive/tar allocates about 800 bytes per header (garbage), which
	// its bound (96 MiB + 64n) allows.
	var entries []tarEntry
	for i := range 100000 {
		entries = append(entries, tarEntry{name: fmt.Sprintf("./usr/share/demo/%083d", i)})
	}
	many := gzipped(t, tarFile(t, entries...))

	// The signature header of an rpm claims 65 535 entries; the file is
	// the lead and the header's 16-byte intro.
	rpm := make([]byte, 96, 112)
	copy(rpm, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0})
	binary.BigEndian.PutUint16(rpm[78:], 5)
	rpm = append(rpm, 0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0)

	dataXZ := tarFile(t, tarEntry{name: "./", typ: '5'}, tarEntry{name: "./usr/bin/demo", data: "x"})
	for _, c := range []struct {
		name  string
		kind  string
		data  []byte
		want  string // in the problem, empty: accepted
		limit uint64 // bytes allocated, besides 64 per byte of the file
	}{
		{"ar member claims 9 GiB", "deb", arFile(arEntry{name: "debian-binary", data: []byte("2.0\n")}, arEntry{name: "control.tar.gz", data: []byte("tiny"), size: "9999999999"}), `ar member "control.tar.gz" at byte 72 has a size ("9999999999") outside the file`, 1 << 20},
		{"ar member claims 1 TiB", "deb", arFile(arEntry{name: "debian-binary", data: []byte("2.0\n")}, arEntry{name: "control.tar.gz", data: []byte("tiny"), size: "1099511627776"}), "has a corrupt ar member header at byte 72", 1 << 20},
		{"control.tar.gz of 1 GiB of zeros", "deb", debWith("control.tar.gz", bomb), fmt.Sprintf("control.tar.gz decompresses to more than %d bytes", maxControlTar), 1 << 20},
		{"control past maxControlFile", "deb", debWith("control.tar.gz", gzipped(t, tarFile(t, tarEntry{name: "./control", data: goodControl + " " + strings.Repeat("x", maxControlFile) + "\n"}))), fmt.Sprintf("./control is %d bytes (over %d is refused)", len(goodControl)+maxControlFile+2, maxControlFile), 4 << 20},
		{"data.tar of 100 000 long names", "deb", craftedDeb(t, goodControl, "data.tar.gz", many), "", 96 << 20},
		{"xz data.tar claims a 4 GiB dictionary", "deb", craftedDeb(t, goodControl, "data.tar.xz", xzStream(t, dataXZ, 40)), "data.tar.xz: xz: a block claims a dictionary of 4294967295 bytes", 80 << 20},
		{"xz data.tar's second stream claims 3 GiB", "deb", craftedDeb(t, goodControl, "data.tar.xz", append(xzStream(t, dataXZ[:512], 22), xzStream(t, dataXZ[512:], 39)...)), "data.tar.xz: xz: a block claims a dictionary of 3221225472 bytes", 80 << 20},
		{"xz data.tar of streams claiming 64 MiB each", "deb", craftedDeb(t, goodControl, "data.tar.xz", append(xzStream(t, dataXZ[:512], 28), xzStream(t, dataXZ[512:], 28)...)), "data.tar.xz: xz: the block at byte 128 of the member claims a dictionary of 67108864 bytes, after blocks that used 67108864 bytes of dictionary to decode 512 bytes", 80 << 20},
		{"xz data.tar of an 8 MiB dictionary", "deb", craftedDeb(t, goodControl, "data.tar.xz", xzStream(t, dataXZ, 22)), "", 80 << 20},
		{"rpm header claims 65 535 entries", "rpm", rpm, "is not a readable rpm: truncated: the signature header at byte 96 claims 65535 entries", 1 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := testArtifact(c.kind)
			var (
				ps  []Problem
				err error
			)
			dir := t.TempDir()
			got := memtest.Allocated(func() { ps, err = checkBytes(t, dir, a, false, c.data) })
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == "" && len(ps) > 0:
				t.Errorf("refused:\n%s", problemsText(ps))
			case c.want != "" && len(ps) != 1:
				t.Errorf("want one problem %q, got:\n%s", c.want, problemsText(ps))
			case c.want != "" && (ps[0].File != dir+"/"+a.File || !strings.Contains(ps[0].Message, c.want)):
				t.Errorf("problem %s, want %s/%s: ...%s...", ps[0], dir, a.File, c.want)
			}
			n := uint64(len(c.data))
			if limit := c.limit + 64*n; got > limit {
				t.Errorf("%d-byte package: %d bytes allocated, over %d + 64n = %d", n, got, c.limit, limit)
			}
			t.Logf("%d-byte package: %d bytes allocated; %s", n, got, problemsText(ps))
		})
	}
}
