package xzread

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestXZUtilsStreams: the verifier's xz reader decodes what xz-utils
// writes: every check type, xz -T's many blocks (which record their sizes,
// so each is charged only its own size of dictionary), streams
// concatenated, xz -9's 64 MiB dictionary; and refuses an empty member
// and a changed byte.
func TestXZUtilsStreams(t *testing.T) {
	xzTool := testdeps.Tool(t, "xz")
	var in bytes.Buffer
	for i := 0; in.Len() < 800000; i++ {
		fmt.Fprintf(&in, "%d %x %s\n", i, i*i*2654435761, strings.Repeat("ab", i%37))
	}
	xz := func(args ...string) []byte {
		cmd := exec.Command(xzTool, append(args, "-c")...)
		cmd.Stdin = bytes.NewReader(in.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz %v: %v", args, err)
		}
		return out
	}
	decode := func(b []byte) ([]byte, *Reader, error) {
		x, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, nil, err
		}
		out, err := io.ReadAll(x)
		return out, x, err
	}
	multi := xz("-6", "-T2", "--block-size=128KiB")
	for name, c := range map[string]struct {
		data   []byte
		copies int
	}{
		"crc32":             {xz("--check=crc32", "-T2", "--block-size=128KiB"), 1},
		"crc64 (default)":   {multi, 1},
		"sha256":            {xz("--check=sha256", "-T2", "--block-size=128KiB"), 1},
		"none":              {xz("--check=none", "-T2", "--block-size=128KiB"), 1},
		"two streams":       {append(append([]byte{}, multi...), append(make([]byte, 8), multi...)...), 2},
		"64 MiB dictionary": {xz("--lzma2=preset=0,dict=64MiB"), 1},
	} {
		out, x, err := decode(c.data)
		if err != nil || !bytes.Equal(out, bytes.Repeat(in.Bytes(), c.copies)) {
			t.Errorf("%s: %d bytes of %d, %v", name, len(out), c.copies*in.Len(), err)
			continue
		}
		t.Logf("%s: %d bytes, %d blocks in the last stream, %d bytes of dictionary", name, len(out), len(x.records), x.dicts)
	}
	if _, _, err := decode(nil); err == nil {
		t.Error("an empty member decoded")
	}
	bad := bytes.Clone(multi)
	bad[len(bad)/2] ^= 0xff
	if _, _, err := decode(bad); err == nil || !strings.HasPrefix(err.Error(), "xz: ") {
		t.Errorf("a flipped byte in the middle: %v", err)
	}
}
