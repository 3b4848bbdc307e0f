package apt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"testing"
)

// fuzzDeb is a .deb of debian-binary and control.tar.gz holding control.
func fuzzDeb(control string, gz bool) []byte {
	var t bytes.Buffer
	tw := tar.NewWriter(&t)
	tw.WriteHeader(&tar.Header{Name: "./control", Mode: 0o644, Size: int64(len(control)), Typeflag: tar.TypeReg})
	tw.Write([]byte(control))
	tw.Close()
	member, body := "control.tar", t.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		member, body = "control.tar.gz", z.Bytes()
	}
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {member, body}, {"data.tar", nil}} {
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.name, "0", "0", "0", "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// FuzzReadControl: the deb control reader relpack repo runs on every deb
// (controlFile, then ParseStanza) never panics on arbitrary bytes, and
// one input allocates at most 160 MiB + 64 bytes per input byte (the
// control member is at most 4 MiB and decompresses to at most 64 MiB,
// streamed; ./control is at most 4 MiB).
func FuzzReadControl(f *testing.F) {
	f.Add(fuzzDeb(goodControl, true))
	f.Add(fuzzDeb(goodControl, false))
	f.Add(fuzzDeb("Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: libc6\n", true))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b, err := controlFile(bytes.NewReader(data))
		if err == nil {
			if len(b) > maxControl {
				t.Fatalf("./control of %d bytes accepted, over %d", len(b), maxControl)
			}
			ParseStanza(b)
		}
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(160<<20+64*len(data)); got > limit {
			t.Fatalf("%d-byte input allocated %d bytes, over %d", len(data), got, limit)
		}
	})
}
