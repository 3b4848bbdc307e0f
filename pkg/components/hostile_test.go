package components

import (
	"bytes"
	"compress/zlib"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"relpack/internal/memtest"
	"relpack/internal/regular"
	"relpack/internal/testdeps"
)

func compress(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withDepV0 writes a copy of the C fixture (no components) with section
// as its .dep-v0, added by objcopy as cargo-auditable's would be.
func withDepV0(t *testing.T, name string, section []byte) string {
	t.Helper()
	objcopy := testdeps.Tool(t, "objcopy")
	dir := t.TempDir()
	sec := filepath.Join(dir, name+".zlib")
	if err := os.WriteFile(sec, section, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command(objcopy, "--add-section", ".dep-v0="+sec, cFixture, out).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v: %s", err, b)
	}
	return out
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// theBomb is a zlib stream of 64 MiB of zeros (64 kB), eight times the
// cap, made once.
func theBomb(t testing.TB) []byte {
	bombOnce.Do(func() { bomb = zeros(t, 64<<20) })
	return bomb
}

// zeros returns a zlib stream of n zero bytes, compressed as it is made.
func zeros(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHostileDepV0 runs Read on binaries whose .dep-v0 section is hostile
// or broken: each is refused with an error naming the file and the fault.
func TestHostileDepV0(t *testing.T) {
	good, err := os.ReadFile(depV0JSON)
	if err != nil {
		t.Fatal(err)
	}
	goodZ := compress(t, good)
	pkgs := func(body string) []byte { return compress(t, []byte(`{"packages":[`+body+`]}`)) }
	cases := []struct {
		name, want string
		section    []byte
	}{
		{"bomb", "decompresses to more than 8388608 bytes", theBomb(t)},
		{"truncated", "bad zlib data: unexpected EOF", goodZ[:len(goodZ)/2]},
		{"badsum", "bad zlib data: zlib: invalid checksum", append(append([]byte{}, goodZ[:len(goodZ)-4]...), 0, 0, 0, 0)},
		{"notzlib", "is not zlib data", []byte("{\"packages\":[]}")},
		{"empty", "is not zlib data", nil},
		{"badjson", "bad JSON", compress(t, []byte(`{"packages":[{"name":"a"`))},
		{"trailing", "data after the document", compress(t, []byte(`{"packages":[]} {}`))},
		{"nopackages", `no "packages" list`, compress(t, []byte(`{"format":1}`))},
		{"index", "package 0 (a): dependency index 5 is out of range (1 packages)",
			pkgs(`{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[5]}`)},
		{"negindex", "package 0: bad JSON", pkgs(`{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[-1]}`)},
		{"control", `package 0: name "a\x1b[31mb" holds '\x1b'`, pkgs(`{"name":"a\u001b[31mb","version":"1.0.0","source":"crates.io"}`)},
		{"newline", `version "1.0\n0" holds '\n'`, pkgs(`{"name":"a","version":"1.0\n0","source":"crates.io"}`)},
		{"markdown", `source "crates.io](x)" holds ']'`, pkgs(`{"name":"a","version":"1","source":"crates.io](x)"}`)},
		{"emptyname", "package 0: empty name", pkgs(`{"version":"1","source":"crates.io"}`)},
		{"longname", "name of 65 bytes, more than 64", pkgs(`{"name":"` + strings.Repeat("a", 65) + `","version":"1","source":"crates.io"}`)},
		{"kind", `kind "dev" is neither runtime nor build`, pkgs(`{"name":"a","version":"1","source":"crates.io","kind":"dev"}`)},
		{"tworoots", "packages 0 and 1 are both the root", pkgs(`{"name":"a","version":"1","source":"local","root":true},{"name":"b","version":"1","source":"local","root":true}`)},
		{"cycle", "is part of a dependency cycle", pkgs(`{"name":"a","version":"1","source":"local","dependencies":[1]},{"name":"b","version":"1","source":"crates.io","dependencies":[0]}`)},
		{"selfdep", "package 0 (a) is part of a dependency cycle", pkgs(`{"name":"a","version":"1","source":"local","dependencies":[0]}`)},
		{"toomany", "more than 65536 packages", compress(t, []byte(`{"packages":[`+strings.Repeat(`{},`, MaxCargoPackages)+`{}]}`))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := withDepV0(t, c.name, c.section)
			got, err := Read(path)
			if err == nil {
				t.Fatalf("Read accepted it: %+v", got)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != path || !strings.HasPrefix(err.Error(), path+": section .dep-v0") {
				t.Errorf("error %q does not start with the file and section", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to hold %q", err, c.want)
			}
		})
	}
}

// TestBombMemory: a zlib bomb costs what the cap allows, not what it
// claims.
func TestBombMemory(t *testing.T) {
	bomb := theBomb(t)
	var err error
	alloc := memtest.Allocated(func() { _, _, err = DecodeDepV0(bomb) })
	if err == nil || !strings.Contains(err.Error(), "zlib bomb") {
		t.Fatalf("DecodeDepV0(bomb) = %v", err)
	}
	if limit := uint64(4 * MaxDepV0JSON); alloc > limit {
		t.Errorf("a %d-byte bomb allocated %d bytes, more than %d", len(bomb), alloc, limit)
	}
}

// TestHostileGoBuildInfo: a Go binary whose build info names a module with
// a control character (same length, so the build info stays well formed) is
// refused, naming the file and the module.
func TestHostileGoBuildInfo(t *testing.T) {
	b, err := os.ReadFile(goFixture)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte("github.com/ulikunitz/xz\tv0.5.15")
	// twice: in .go.buildinfo, and in the runtime's copy for runtime/debug
	if n := bytes.Count(b, old); n == 0 {
		t.Fatalf("%s does not hold %q", goFixture, old)
	}
	bad := bytes.ReplaceAll(b, old, []byte("github.com/ulikunitz/\x1bz\tv0.5.15"))
	path := filepath.Join(t.TempDir(), "gocomponents")
	if err := os.WriteFile(path, bad, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Read(path)
	want := path + `: Go build info: dependency 1: module path "github.com/ulikunitz/\x1bz" holds '\x1b'`
	if err == nil || err.Error() != want {
		t.Errorf("Read = %v\nwant %s", err, want)
	}
}

// TestNotRegular: a FIFO is refused at once (internal/regular), never
// opened for a blocking read.
func TestNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(fifo); done <- err }()
	select {
	case err := <-done:
		var nr *regular.NotRegularError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), fifo+" is a named pipe") {
			t.Errorf("Read(fifo) = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read blocked on a FIFO")
	}
	if _, err := Read("/dev/zero"); err == nil || !strings.Contains(err.Error(), "is a device") {
		t.Errorf("Read(/dev/zero) = %v", err)
	}
}

// TestCutShortELF: a binary cut inside its section headers is an error
// naming the file, not a panic or an "unknown".
func TestCutShortELF(t *testing.T) {
	b, err := os.ReadFile(rustFixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut")
	if err := os.WriteFile(path, b[:len(b)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("Read(cut) = %v", err)
	}
}
