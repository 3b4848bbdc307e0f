package capture

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"relpack/internal/memtest"
	"relpack/internal/rpmtest"
)

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// tarEntry is a file of a synthetic tar: head, then zeros up to size.
type tarEntry struct {
	name string
	head string
	size int64
}

// zstdTar is a zstd-compressed tar of entries: gigabytes of zeros fit in
// a few kilobytes.
func zstdTar(t testing.TB, entries ...tarEntry) []byte {
	var b bytes.Buffer
	zw, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: e.size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.head)
		if _, err := io.Copy(tw, &zeros{e.size - int64(len(e.head))}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// arDeb is a .deb (ar archive) of the given members.
func arDeb(members ...[2]string) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m[0], "0", "0", "0", "100644", len(m[1]))
		b.WriteString(m[1])
		if len(m[1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

const goodControl = "Package: libhostile1\nVersion: 1.0-1\nArchitecture: amd64\n"

func hostileDeb(t testing.TB, control, data []tarEntry) []byte {
	return arDeb([2]string{"debian-binary", "2.0\n"},
		[2]string{"control.tar.zst", string(zstdTar(t, control...))},
		[2]string{"data.tar.zst", string(zstdTar(t, data...))})
}

// hostileRPM is an rpm of the given main header and payload (no
// signature entries).
func hostileRPM(main, payload []byte) []byte {
	return rpmtest.Assemble(rpmtest.RawHeader(nil, nil), main, payload)
}

// zstdCpio is a zstd-compressed cpio (newc) of one file: head, then zeros
// up to size.
func zstdCpio(t testing.TB, name, head string, size int64) []byte {
	var b bytes.Buffer
	zw, _ := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest))
	entry := func(name string, mode uint32, size int64) {
		fmt.Fprintf(zw, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
		io.WriteString(zw, name+"\x00")
		for n := 110 + len(name) + 1; n%4 != 0; n++ {
			zw.Write([]byte{0})
		}
	}
	entry(name, 0o100644, size)
	io.WriteString(zw, head)
	if _, err := io.Copy(zw, &zeros{size - int64(len(head))}); err != nil {
		t.Fatal(err)
	}
	for n := size; n%4 != 0; n++ {
		zw.Write([]byte{0})
	}
	entry("TRAILER!!!", 0, 0)
	zw.Close()
	return b.Bytes()
}

var nameVersion = rpmtest.RawHeader([][4]uint32{{rpmTagName, rpmTypeString, 0, 1}, {rpmTagVersion, rpmTypeString, 8, 1}}, []byte("hostile\x001.0\x00"))

// TestCaptureBounds holds capture's readers to memory linear in the
// package: each hostile package (a few KB claiming gigabytes) is refused
// with a message saying why, having allocated at most 32 MiB + 64n.
// Before the bounds, capture read a 64 MiB control file per "control"
// entry and a whole ELF member of up to 1 GiB before checking anything,
// and copied an rpm header's string once per entry naming it.
func TestCaptureBounds(t *testing.T) {
	elfHead := "\x7fELF\x02\x01\x01"
	longName := strings.Repeat("n", 1<<20)
	var sameName [][4]uint32
	for range 0xffff - 1 {
		sameName = append(sameName, [4]uint32{rpmTagName, rpmTypeString, 0, 1})
	}
	sameName = append(sameName, [4]uint32{rpmTagVersion, rpmTypeString, 0, 1})
	manyControls := []tarEntry{}
	for range 200 {
		manyControls = append(manyControls, tarEntry{"./control", goodControl, 1 << 20})
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"deb: a 64 MiB control file", hostileDeb(t, []tarEntry{{"./control", goodControl, 64 << 20}}, nil), "its control file is 67108864 bytes, more than the 1048576 bytes"},
		{"deb: a 32 MiB symbols file", hostileDeb(t, []tarEntry{{"./control", goodControl, int64(len(goodControl))}, {"./symbols", "", 32 << 20}}, nil), "its symbols file is 33554432 bytes"},
		{"deb: 200 control files of 1 MiB", hostileDeb(t, manyControls, nil), "holds a second control file"},
		{"deb: 2 GiB of zeros in control.tar", hostileDeb(t, []tarEntry{{"./control", goodControl, int64(len(goodControl))}, {"./zeros", "", 2 << 30}}, nil), "decompresses to more than"},
		{"deb: a 512 MiB ELF file", hostileDeb(t, []tarEntry{{"./control", goodControl, int64(len(goodControl))}}, []tarEntry{{"./usr/lib/libhostile.so.1", elfHead, 512 << 20}}), "past what the package may decompress to"},
		{"deb: 2 GiB of zeros in data.tar", hostileDeb(t, []tarEntry{{"./control", goodControl, int64(len(goodControl))}}, []tarEntry{{"./usr/share/zeros", "", 2 << 30}}), "decompresses to more than"},
		{"rpm: a 512 MiB ELF file", hostileRPM(nameVersion, zstdCpio(t, "./usr/lib64/libhostile.so.1", elfHead, 512<<20)), "past what the package may decompress to"},
		{"rpm: 65535 entries naming one 1 MiB string", hostileRPM(rpmtest.RawHeader(sameName, []byte(longName+"\x00")), nil), "payload: "},
		{"rpm: 16000 files in one 32 KiB directory", rpmtest.LongDir(32<<10, 16000), "payload: "},
		{"rpm: 40 tags sharing 1 MiB of NULs", rpmtest.SharedData(1 << 20), "payload: "},
		{"rpm: a header claiming 256 MiB", hostileRPM(rpmtest.RawHeader(nil, nil)[:8:8], nil), "header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "rpm: a header claiming 256 MiB" {
				c.data = hostileRPM(append([]byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff}, make([]byte, 64)...), nil)
				c.want = "runs past the end of the file"
			}
			var err error
			n := uint64(len(c.data))
			got := memtest.Allocated(func() { _, err = Read("hostile", bytes.NewReader(c.data), int64(n)) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if limit := 32<<20 + 64*n; got > limit {
				t.Errorf("%d-byte package: %d bytes allocated, over 32 MiB + 64n = %d", n, got, limit)
			}
			t.Logf("%d-byte package: %d bytes allocated; %v", n, got, err)
		})
	}
}

// FuzzCaptureRead: capture's package readers (Read: .deb and .rpm, their
// compressed tar and cpio members and the ELF files in them) never panic
// on arbitrary bytes, and one input allocates at most 160 MiB + 64 bytes
// per input byte: what the budget lets the decompressors produce
// (64 MiB + 64n, streamed) and the files read whole (control files, one
// ELF file and what pkg/abi and debug/elf make of it).
func FuzzCaptureRead(f *testing.F) {
	f.Add(hostileDeb(f, []tarEntry{{"./control", goodControl, int64(len(goodControl))}}, []tarEntry{{"./usr/lib/libx.so.1", "\x7fELF\x02\x01\x01", 64}}))
	f.Add(hostileDeb(f, []tarEntry{{"./control", goodControl, int64(len(goodControl))}, {"./shlibs", "libx 1 libx1\n", 13}, {"./symbols", "libx.so.1 libx1 #MINVER#\n x@Base 1.0\n", 37}}, nil))
	f.Add(hostileRPM(nameVersion, zstdCpio(f, "./usr/lib64/libx.so.1", "\x7fELF\x02\x01\x01", 64)))
	f.Add(hostileRPM(nameVersion, nil))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		Read("fuzz", bytes.NewReader(data), int64(len(data)))
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(160<<20+64*len(data)); got > limit {
			t.Fatalf("%d-byte input allocated %d bytes, over %d", len(data), got, limit)
		}
	})
}
