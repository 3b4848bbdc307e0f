package debugsym

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/testdeps"
)

// TestRefusesNoBuildID: a binary linked with --build-id=none is opened but
// not split, and the message says how to link a build-id in.
func TestRefusesNoBuildID(t *testing.T) {
	path := fixturePath("debug/x86_64/hello-g-nobuildid")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.BuildID != "" || !f.HasDebug {
		t.Fatalf("BuildID %q HasDebug %v, want none and true", f.BuildID, f.HasDebug)
	}
	var w bytes.Buffer
	for name, write := range map[string]func() error{
		"WriteDebug":    func() error { return f.WriteDebug(&w) },
		"WriteStripped": func() error { return f.WriteStripped(&w, "x.debug", 1) },
	} {
		err := write()
		var nb *NoBuildIDError
		if !errors.As(err, &nb) {
			t.Fatalf("%s: got %v, want a *NoBuildIDError", name, err)
		}
		for _, s := range []string{path, "-Wl,--build-id", "Rust", "-ldflags=-B gobuildid", "unstripped"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: message %q does not say %q", name, err, s)
			}
		}
		if w.Len() != 0 {
			t.Errorf("%s wrote %d bytes before refusing", name, w.Len())
		}
	}
}

// TestHeaderFacts: BuildID is what readelf -n prints, HasDebug is true
// exactly for the DWARF fixtures, DebugLink is read back from a stripped
// output, and the machine is the file's.
func TestHeaderFacts(t *testing.T) {
	readelf := testdeps.Tool(t, "readelf")
	for _, rel := range []string{"debug/x86_64/hello-g", "debug/aarch64/cxx-g", "x86_64/hello-2.28", "x86_64/hello-musl-static", "aarch64/hello-2.28", "x86_64/libz3.so.4"} {
		f, err := Open(fixturePath(rel))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindStringSubmatch(run(t, readelf, "-nW", fixturePath(rel)))
		if m == nil || f.BuildID != m[1] {
			t.Errorf("%s: BuildID %q, readelf says %v", rel, f.BuildID, m)
		}
		if want := strings.HasPrefix(rel, "debug/"); f.HasDebug != want {
			t.Errorf("%s: HasDebug %v, want %v", rel, f.HasDebug, want)
		}
		if want := map[bool]elf.Machine{true: elf.EM_AARCH64, false: elf.EM_X86_64}[strings.Contains(rel, "aarch64")]; f.Machine != want {
			t.Errorf("%s: Machine %v, want %v", rel, f.Machine, want)
		}
		if f.DebugLink != "" {
			t.Errorf("%s: DebugLink %q, want none", rel, f.DebugLink)
		}
		f.Close()
	}
	if got := BuildIDPath("0a1b2c"); got != ".build-id/0a/1b2c.debug" {
		t.Errorf("BuildIDPath = %q", got)
	}
	for _, bad := range []string{"", "ab", "0A1B2C", "../x", "0a/b"} {
		if got := BuildIDPath(bad); got != "" {
			t.Errorf("BuildIDPath(%q) = %q, want \"\"", bad, got)
		}
	}
}

// TestReplacesDebugLink: splitting a stripped binary again replaces its
// .gnu_debuglink instead of adding a second one.
func TestReplacesDebugLink(t *testing.T) {
	dir := t.TempDir()
	stripped, debug, _ := split(t, fixturePath("debug/x86_64/cxx-g"), dir)
	f, err := Open(stripped)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.DebugLink != filepath.Base(debug) || f.HasDebug {
		t.Fatalf("DebugLink %q HasDebug %v, want %q and false", f.DebugLink, f.HasDebug, filepath.Base(debug))
	}
	var b bytes.Buffer
	if err := f.WriteStripped(&b, filepath.Base(debug), 0x01020304); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again")
	os.WriteFile(again, b.Bytes(), 0o755)
	ef, err := elf.Open(again)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	n := 0
	for _, s := range ef.Sections {
		if s.Name == ".gnu_debuglink" {
			n++
			got, _ := s.Data()
			if want := debugLink(filepath.Base(debug), 0x01020304); !bytes.Equal(got, want) {
				t.Errorf(".gnu_debuglink %x, want %x", got, want)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d .gnu_debuglink sections, want 1", n)
	}
	if got, want := sectionList(t, again), sectionList(t, stripped); got != want {
		t.Errorf("a second split changed the sections:\n%s\nwant\n%s", got, want)
	}
}

// TestReproducible: two writes of the same input are equal byte for byte,
// from one File and from two.
func TestReproducible(t *testing.T) {
	for _, fx := range fixtures {
		var outs [3][2]bytes.Buffer
		for i := range outs {
			f, err := Open(fixturePath(fx.rel))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.WriteDebug(&outs[i][0]); err != nil {
				t.Fatal(err)
			}
			if err := f.WriteStripped(&outs[i][1], "x.debug", 7); err != nil {
				t.Fatal(err)
			}
			if i == 2 { // the same File again
				outs[i][0].Reset()
				outs[i][1].Reset()
				f.WriteDebug(&outs[i][0])
				f.WriteStripped(&outs[i][1], "x.debug", 7)
			}
			f.Close()
		}
		for i := 1; i < len(outs); i++ {
			for k := range 2 {
				if !bytes.Equal(outs[0][k].Bytes(), outs[i][k].Bytes()) {
					t.Errorf("%s: write %d of output %d differs from the first", fx.rel, i, k)
				}
			}
		}
	}
}

// TestOtherShapes: executables (ET_EXEC, PIE), static and dynamic, and a
// shared library, with DWARF or without (the demo gateways, whatever they
// carry): the stripped output has strip --strip-debug's sections, and the
// static ones still run.
func TestOtherShapes(t *testing.T) {
	for _, c := range []struct {
		rel, arch, out string
	}{
		{"x86_64/hello-nopie", "x86_64", ""},
		{"x86_64/hello-musl-static", "x86_64", "hello from .*hello-musl-static \\(0 args\\)\n"},
		{"aarch64/hello-musl-static", "aarch64", "hello from .*hello-musl-static \\(0 args\\)\n"},
		{"x86_64/libz3.so.4", "x86_64", ""},
		{"demo/x86_64-unknown-linux-gnu/openshell-gateway", "x86_64", ""},
		{"demo/x86_64-unknown-linux-gnu-el8/openshell-gateway", "x86_64", ""},
		{"demo/x86_64-unknown-linux-gnu-bundled/openshell-gateway", "x86_64", ""},
		{"demo/x86_64-unknown-linux-musl/openshell-gateway", "x86_64", "usage: openshell-gateway \\[--version \\| serve\\]\n"},
		{"demo/aarch64-unknown-linux-gnu/openshell-gateway", "aarch64", ""},
		{"demo/aarch64-unknown-linux-gnu-el8/openshell-gateway", "aarch64", ""},
		{"demo/aarch64-unknown-linux-musl/openshell-gateway", "aarch64", "usage: openshell-gateway \\[--version \\| serve\\]\n"},
	} {
		t.Run(c.rel, func(t *testing.T) {
			dir := t.TempDir()
			stripped, debug, _ := split(t, fixturePath(c.rel), dir)
			ostripped := filepath.Join(dir, "oracle")
			run(t, tool(t, c.arch, "strip"), "--strip-debug", "-o", ostripped, fixturePath(c.rel))
			cmd := exec.Command(tool(t, c.arch, "objcopy"), "--add-gnu-debuglink="+filepath.Base(debug), ostripped)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("objcopy: %v\n%s", err, out)
			}
			if got, want := sectionList(t, stripped), sectionList(t, ostripped); got != want {
				t.Errorf("sections differ from strip --strip-debug's:\ngot:\n%s\nwant:\n%s", got, want)
			}
			if c.out == "" {
				return
			}
			var out string
			if c.arch == "aarch64" {
				out = run(t, testdeps.Tool(t, "qemu-aarch64-static"), stripped)
			} else {
				out = run(t, stripped)
			}
			if !regexp.MustCompile("^" + c.out + "$").MatchString(out) {
				t.Errorf("got %q, want /%s/", out, c.out)
			}
		})
	}
}

// TestRefusals: what is not a regular ELF64 little-endian x86_64/aarch64
// executable or library is refused at Open with a message naming it.
func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(fixturePath("debug/x86_64/hello-g"))
	if err != nil {
		t.Fatal(err)
	}
	patched := func(name string, edit func(b []byte) []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, edit(bytes.Clone(good)), 0o644)
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "named pipe"},
		{dir, "directory"},
		{"/dev/zero", "device"},
		{filepath.Join(dir, "missing"), "no such file"},
		{patched("text", func([]byte) []byte { return []byte("#!/bin/sh\n") }), "not an ELF file"},
		{patched("elf32", func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b }), "only ELF64 little-endian"},
		{patched("bigendian", func(b []byte) []byte { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB); return b }), "only ELF64 little-endian"},
		{patched("riscv", func(b []byte) []byte { le.PutUint16(b[18:], uint16(elf.EM_RISCV)); return b }), "only x86_64 and aarch64"},
		{patched("object", func(b []byte) []byte { le.PutUint16(b[16:], uint16(elf.ET_REL)); return b }), "only executables and shared libraries"},
		{patched("truncated", func(b []byte) []byte { return b[:len(b)/2] }), "past"},
		{patched("header", func(b []byte) []byte { return b[:40] }), "truncated ELF header"},
		{patched("shentsize", func(b []byte) []byte { le.PutUint16(b[58:], 40); return b }), "section header entry size"},
		{patched("shstrndx", func(b []byte) []byte { le.PutUint16(b[62:], 0xfff0); return b }), "extended section numbering"},
	} {
		f, err := Open(c.path)
		if err == nil {
			f.Close()
			t.Errorf("%s: opened, want an error saying %q", c.path, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: %v, want a message naming it and saying %q", c.path, err, c.want)
		}
	}
	f, err := Open(fixturePath("debug/x86_64/hello-g"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, link := range []string{"", "a/b.debug", "a\x00b", strings.Repeat("x", 256)} {
		var w bytes.Buffer
		if err := f.WriteStripped(&w, link, 0); err == nil || w.Len() != 0 {
			t.Errorf("WriteStripped(%q): err %v, %d bytes written; want a refusal and nothing", link, err, w.Len())
		}
	}
}

// TestMemoryBoundedBySections: a 64 MiB debug section is copied through a
// fixed buffer, never read into memory.
func TestMemoryBoundedBySections(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	big := int64(64 << 20)
	if err := os.WriteFile(data, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(data, big)
	in := filepath.Join(dir, "big")
	run(t, testdeps.Tool(t, "objcopy"), "--add-section", ".debug_big="+data, fixturePath("debug/x86_64/hello-g"), in)
	f, err := Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cw := &countWriter{}
	if err := f.WriteDebug(cw); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteStripped(cw, "x.debug", 0); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms1)
	if cw.n < big {
		t.Fatalf("wrote %d bytes, want the %d of the debug section at least", cw.n, big)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 4<<20 {
		t.Errorf("splitting a file with a %d-byte debug section allocated %d bytes, want at most 4 MiB", big, alloc)
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// FuzzOpen: no input makes Open or the writers panic, and what they
// write for any input stays within a bound of its size.
func FuzzOpen(f *testing.F) {
	for _, rel := range []string{"debug/x86_64/hello-g", "x86_64/hello-musl-static", "x86_64/libz3.so.4"} {
		b, err := os.ReadFile(fixturePath(rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := newFile("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, write := range []func(io.Writer) error{
			file.WriteDebug,
			func(w io.Writer) error { return file.WriteStripped(w, "x.debug", 0) },
		} {
			cw := &countWriter{}
			if err := write(cw); err == nil && cw.n > int64(len(b))+int64(maxSections)*(maxAlign+shdrSize)+16 {
				t.Fatalf("wrote %d bytes for a %d-byte input", cw.n, len(b))
			}
		}
	})
}
