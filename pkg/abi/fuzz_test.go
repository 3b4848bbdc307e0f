package abi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"relpack/pkg/abi/abitest"
)

// FuzzInspect feeds arbitrary bytes to the ELF reader. It must return facts
// or an *Error, never panic, loop or allocate far more than the input holds.
//
// InspectReader recovers from panics and turns them into a "malformed ELF
// file" error; the fuzzer must not lean on that, so it first runs
// inspectNoRecover (the same code without the recover) and lets any panic
// through to the fuzzing engine.
//
//	go test -run XXX -fuzz FuzzInspect -fuzztime 60s ./pkg/abi/
//
// Seeds: every file under testdata/fixtures (they are committed already),
// truncations of a few, two small hand-built ELF files that reach every
// table reader (fuzzMiniELF), and testdata/fuzz/FuzzInspect/ (crashers
// found so far and other hand-made inputs).
func FuzzInspect(f *testing.F) {
	const fixtures = "../../testdata/fixtures"
	var truncate [][]byte
	n := 0
	err := filepath.WalkDir(fixtures, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(data)
		n++
		switch filepath.ToSlash(strings.TrimPrefix(p, fixtures+"/")) {
		case "x86_64/hello-2.28", "x86_64/libdemo.so", "aarch64/hello-musl-static", "x86_64/cxx-hello-bullseye":
			truncate = append(truncate, data)
		}
		return nil
	})
	if err != nil || n < 20 {
		f.Fatalf("reading the fixtures under %s: %d files, %v (want at least 20)", fixtures, n, err)
	}
	if len(truncate) != 4 {
		f.Fatalf("found %d of the 4 fixtures to truncate", len(truncate))
	}
	for _, data := range truncate {
		for _, size := range []int{0, 3, 4, 16, 52, 63, 64, 120, 1024, len(data) / 2, len(data) - 64, len(data) - 1} {
			f.Add(data[:size])
		}
	}
	f.Add(fuzzMiniELF(elf.ELFCLASS64, binary.LittleEndian))
	f.Add(fuzzMiniELF(elf.ELFCLASS32, binary.BigEndian))

	f.Fuzz(func(t *testing.T, data []byte) { checkInspect(t, data) })
}

// inspectNoRecover is InspectReader without the magic check, the error
// wrapping and, above all, the recover: a panic reaches the fuzzing engine.
func inspectNoRecover(name string, r io.ReaderAt) (*Facts, error) {
	f, err := openELF(r)
	if err != nil {
		return nil, err
	}
	return inspectFile(name, f, readerSize(r))
}

func checkInspect(t *testing.T, data []byte) {
	const name = "fuzz.bin"
	defer watchdog(t, 10*time.Second)()

	before := heapAllocBytes()
	start := time.Now()
	rawFacts, rawErr := inspectNoRecover(name, bytes.NewReader(data))
	elapsed := time.Since(start)
	allocated := heapAllocBytes() - before
	// A tiny file may not make the reader allocate hundreds of megabytes
	// because a header claims a large size or count.
	if limit := uint64(32<<20 + 64*len(data)); allocated > limit {
		t.Fatalf("inspecting %d bytes allocated %d bytes (limit %d)", len(data), allocated, limit)
	}
	if elapsed > 3*time.Second {
		t.Fatalf("inspecting %d bytes took %v", len(data), elapsed)
	}

	facts, err := InspectReader(name, bytes.NewReader(data))
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Path != name {
			t.Fatalf("error %v (%T) is not an *Error naming %s", err, err, name)
		}
		if e.Msg == "malformed ELF file" {
			t.Fatalf("InspectReader recovered from a panic: %v", err)
		}
		if !strings.HasPrefix(err.Error(), name+": ") {
			t.Fatalf("error %q does not start with the file name", err)
		}
		if rawErr == nil && bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
			t.Fatalf("InspectReader failed (%v) where the reader without recover succeeded", err)
		}
		return
	}
	if rawErr != nil {
		t.Fatalf("InspectReader succeeded where the reader without recover failed: %v", rawErr)
	}
	if rawFacts == nil || facts == nil {
		t.Fatal("no facts and no error")
	}
	if facts.Path != name {
		t.Errorf("Path = %q, want %q", facts.Path, name)
	}
	// The JSON shape promises lists, never null.
	for field, l := range map[string]bool{
		"needed": facts.Needed == nil, "runpath": facts.Runpath == nil, "rpath": facts.Rpath == nil,
		"version_needs": facts.VersionNeeds == nil, "imports": facts.Imports == nil, "highest": facts.Highest == nil,
		"special": facts.Special == nil, "defines": facts.Defines == nil, "hash": facts.Hash == nil,
	} {
		if l {
			t.Errorf("%s is nil", field)
		}
	}
	if _, err := json.Marshal(facts); err != nil {
		t.Errorf("facts do not marshal: %v", err)
	}
	p := manylinuxPolicy("2.28")
	v := Verify(facts, p)
	WriteFacts(io.Discard, facts)
	WriteVerdict(io.Discard, v, p)
	if v.OK != (len(v.Violations) == 0) {
		t.Errorf("verdict OK=%v with %d violations", v.OK, len(v.Violations))
	}
}

// watchdog kills the process when the check has not returned in time: the
// fuzzing engine then records the input as a crasher, where a plain hang
// would only stall the run. Call the returned func when done.
func watchdog(t *testing.T, limit time.Duration) (stop func()) {
	timer := time.AfterFunc(limit, func() {
		panic(fmt.Sprintf("%s: input still running after %v: a loop does not terminate", t.Name(), limit))
	})
	return func() { timer.Stop() }
}

// heapAllocBytes is the cumulative number of bytes allocated on the heap.
// It is cheap to read (no stop-the-world, unlike runtime.ReadMemStats).
func heapAllocBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// fuzzMiniELF builds a small shared library (about 1 KB) that reaches every
// table relpack reads: PT_INTERP, .dynamic (NEEDED, SONAME, RUNPATH, RPATH,
// FLAGS_1), .dynsym with undefined and defined symbols, .gnu.version,
// .gnu.version_r (a weak, a numbered and a special need), .gnu.version_d
// (a base and a named definition), and both hash table types. A fixture
// is 15-67 KB, mostly code the reader skips; mutations of a small file
// land in the tables far more often.
func fuzzMiniELF(class elf.Class, bo binary.AppendByteOrder) []byte {
	is64 := class == elf.ELFCLASS64
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	str := func(s string) uint32 {
		off := uint32(strtab.Len())
		strtab.WriteString(s)
		strtab.WriteByte(0)
		return off
	}
	u16 := func(b *bytes.Buffer, v uint16) { b.Write(bo.AppendUint16(nil, v)) }
	u32 := func(b *bytes.Buffer, v uint32) { b.Write(bo.AppendUint32(nil, v)) }
	word := func(b *bytes.Buffer, v uint64) { // Elf_Addr, Elf_Off, Elf_Xword, ...
		if is64 {
			b.Write(bo.AppendUint64(nil, v))
		} else {
			u32(b, uint32(v))
		}
	}

	libc, libm, soname := str("libc.so.6"), str("libm.so.6"), str("libmini.so.1")
	runpath, rpath := str("$ORIGIN/../lib:/opt/mini/lib"), str("/old/lib")
	g225, g229, gpriv, gxx := str("GLIBC_2.2.5"), str("GLIBC_2.29"), str("GLIBC_PRIVATE"), str("GLIBCXX_3.4.30")
	m227, mini1 := str("GLIBC_2.27"), str("MINI_1.0")
	symMemcpy, symPuts, symExp, symDef := str("memcpy"), str("puts"), str("exp"), str("mini_init")

	var dyn bytes.Buffer
	for _, d := range [][2]uint64{
		{uint64(elf.DT_NEEDED), uint64(libc)}, {uint64(elf.DT_NEEDED), uint64(libm)},
		{uint64(elf.DT_SONAME), uint64(soname)}, {uint64(elf.DT_RUNPATH), uint64(runpath)},
		{uint64(elf.DT_RPATH), uint64(rpath)}, {uint64(elf.DT_FLAGS_1), 0}, {uint64(elf.DT_NULL), 0},
	} {
		word(&dyn, d[0])
		word(&dyn, d[1])
	}

	// Symbols: null, memcpy@GLIBC_2.2.5 (2), puts@GLIBC_2.29 (3),
	// exp@GLIBC_2.27 from libm (5), mini_init@@MINI_1.0 (6, defined).
	var dynsym, versym bytes.Buffer
	for _, s := range []struct {
		name  uint32
		shndx uint16
		ver   uint16
	}{{0, 0, 0}, {symMemcpy, 0, 2}, {symPuts, 0, 3}, {symExp, 0, 5}, {symDef, 7, 6}} {
		info := byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
		if s.name == 0 {
			info = 0
		}
		if is64 {
			u32(&dynsym, s.name)
			dynsym.Write([]byte{info, 0})
			u16(&dynsym, s.shndx)
			word(&dynsym, 0) // value
			word(&dynsym, 0) // size
		} else {
			u32(&dynsym, s.name)
			u32(&dynsym, 0) // value
			u32(&dynsym, 0) // size
			dynsym.Write([]byte{info, 0})
			u16(&dynsym, s.shndx)
		}
		u16(&versym, s.ver)
	}

	// Elf_Verneed (16 bytes) + Elf_Vernaux (16 bytes) chains.
	var verneed bytes.Buffer
	need := func(file uint32, next uint32, aux ...[3]uint32) { // aux: name, flags, other
		u16(&verneed, 1)
		u16(&verneed, uint16(len(aux)))
		u32(&verneed, file)
		u32(&verneed, 16)
		u32(&verneed, next)
		for i, a := range aux {
			u32(&verneed, 0) // hash; relpack does not read it
			u16(&verneed, uint16(a[1]))
			u16(&verneed, uint16(a[2]))
			u32(&verneed, a[0])
			if i == len(aux)-1 {
				u32(&verneed, 0)
			} else {
				u32(&verneed, 16)
			}
		}
	}
	need(libc, 16+4*16, [3]uint32{g225, 0, 2}, [3]uint32{g229, 0, 3}, [3]uint32{gpriv, 0, 4}, [3]uint32{gxx, uint32(elf.VER_FLG_WEAK), 7})
	need(libm, 0, [3]uint32{m227, 0, 5})

	// Elf_Verdef (20 bytes) + one Elf_Verdaux (8 bytes) each.
	var verdef bytes.Buffer
	def := func(flags, ndx uint16, name uint32, next uint32) {
		u16(&verdef, 1)
		u16(&verdef, flags)
		u16(&verdef, ndx)
		u16(&verdef, 1)
		u32(&verdef, 0) // hash
		u32(&verdef, 20)
		u32(&verdef, next)
		u32(&verdef, name)
		u32(&verdef, 0)
	}
	def(uint16(elf.VER_FLG_BASE), 1, soname, 28)
	def(0, 6, mini1, 0)

	interp := []byte("/lib64/ld-linux-x86-64.so.2\x00")
	hash := make([]byte, 16) // contents are never read, only the type

	var shstr bytes.Buffer
	shstr.WriteByte(0)
	shname := func(s string) uint32 {
		off := uint32(shstr.Len())
		shstr.WriteString(s)
		shstr.WriteByte(0)
		return off
	}

	type section struct {
		name        string
		typ         elf.SectionType
		data        []byte
		link, info  uint32
		entsize     uint64
		off, nameAt uint32
	}
	// Indexes: 1 .interp, 2 .dynstr, 3 .dynamic, 4 .dynsym, 5 .gnu.version,
	// 6 .gnu.version_r, 7 .gnu.version_d, 8 .hash, 9 .gnu.hash, 10 .shstrtab.
	dynEnt, symEnt := uint64(16), uint64(24)
	if !is64 {
		dynEnt, symEnt = 8, 16
	}
	secs := []*section{
		{name: ".interp", typ: elf.SHT_PROGBITS, data: interp},
		{name: ".dynstr", typ: elf.SHT_STRTAB, data: strtab.Bytes()},
		{name: ".dynamic", typ: elf.SHT_DYNAMIC, data: dyn.Bytes(), link: 2, entsize: dynEnt},
		{name: ".dynsym", typ: elf.SHT_DYNSYM, data: dynsym.Bytes(), link: 2, info: 1, entsize: symEnt},
		{name: ".gnu.version", typ: elf.SHT_GNU_VERSYM, data: versym.Bytes(), link: 4, entsize: 2},
		{name: ".gnu.version_r", typ: elf.SHT_GNU_VERNEED, data: verneed.Bytes(), link: 2, info: 2},
		{name: ".gnu.version_d", typ: elf.SHT_GNU_VERDEF, data: verdef.Bytes(), link: 2, info: 2},
		{name: ".hash", typ: elf.SHT_HASH, data: hash, link: 4, entsize: 4},
		{name: ".gnu.hash", typ: elf.SHT_GNU_HASH, data: hash, link: 4},
		{name: ".shstrtab", typ: elf.SHT_STRTAB},
	}
	for _, s := range secs {
		s.nameAt = shname(s.name)
	}
	secs[len(secs)-1].data = shstr.Bytes()

	ehsize, phentsize, shentsize := 64, 56, 64
	if !is64 {
		ehsize, phentsize, shentsize = 52, 32, 40
	}
	off := uint32(ehsize + phentsize)
	for _, s := range secs {
		s.off = off
		off += uint32(len(s.data))
	}
	off = (off + 7) &^ 7 // section headers start aligned
	shoff := off

	var out bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	machine := elf.EM_X86_64
	if bo == binary.BigEndian {
		ident[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
		machine = elf.EM_PPC
	}
	out.Write(ident[:])
	u16(&out, uint16(elf.ET_DYN))
	u16(&out, uint16(machine))
	u32(&out, uint32(elf.EV_CURRENT))
	word(&out, 0)              // entry
	word(&out, uint64(ehsize)) // phoff
	word(&out, uint64(shoff))
	u32(&out, 0) // flags
	u16(&out, uint16(ehsize))
	u16(&out, uint16(phentsize))
	u16(&out, 1)
	u16(&out, uint16(shentsize))
	u16(&out, uint16(len(secs)+1))
	u16(&out, uint16(len(secs))) // shstrndx

	// PT_INTERP.
	ip := secs[0]
	if is64 {
		u32(&out, uint32(elf.PT_INTERP))
		u32(&out, uint32(elf.PF_R))
		word(&out, uint64(ip.off))
		word(&out, uint64(ip.off))
		word(&out, uint64(ip.off))
		word(&out, uint64(len(ip.data)))
		word(&out, uint64(len(ip.data)))
		word(&out, 1)
	} else {
		u32(&out, uint32(elf.PT_INTERP))
		u32(&out, ip.off)
		u32(&out, ip.off)
		u32(&out, ip.off)
		u32(&out, uint32(len(ip.data)))
		u32(&out, uint32(len(ip.data)))
		u32(&out, uint32(elf.PF_R))
		u32(&out, 1)
	}
	for _, s := range secs {
		out.Write(s.data)
	}
	for out.Len() < int(shoff) {
		out.WriteByte(0)
	}
	out.Write(make([]byte, shentsize)) // section 0
	for _, s := range secs {
		u32(&out, s.nameAt)
		u32(&out, uint32(s.typ))
		word(&out, uint64(elf.SHF_ALLOC))
		word(&out, uint64(s.off)) // addr = offset
		word(&out, uint64(s.off))
		word(&out, uint64(len(s.data)))
		u32(&out, s.link)
		u32(&out, s.info)
		word(&out, 1)
		word(&out, s.entsize)
	}
	return out.Bytes()
}

// The hand-built seeds must read the way they were built, or the fuzzer
// starts from a file the reader rejects and explores little.
func TestFuzzMiniELF(t *testing.T) {
	for _, c := range []struct {
		class elf.Class
		bo    binary.AppendByteOrder
	}{{elf.ELFCLASS64, binary.LittleEndian}, {elf.ELFCLASS32, binary.BigEndian}} {
		t.Run(c.class.String(), func(t *testing.T) {
			data := fuzzMiniELF(c.class, c.bo)
			fa, err := InspectReader("mini", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(fa)
			for _, want := range []string{
				`"type":"pie-executable"`, `"libc":"glibc"`, `"interpreter":"/lib64/ld-linux-x86-64.so.2"`,
				`"soname":"libmini.so.1"`, `"needed":["libc.so.6","libm.so.6"]`,
				`"runpath":["$ORIGIN/../lib","/opt/mini/lib"]`, `"rpath":["/old/lib"]`,
				`{"name":"GLIBCXX_3.4.30","weak":true}`, `"special":["GLIBC_PRIVATE"]`, `"defines":["MINI_1.0"]`,
				`{"library":"libc.so.6","version":"GLIBC_2.29","symbols":["puts"]}`,
				`{"library":"libm.so.6","version":"GLIBC_2.27","symbols":["exp"]}`,
				`"highest":[{"family":"GLIBC","version":"2.29","name":"GLIBC_2.29"}]`, `"hash":["sysv","gnu"]`,
			} {
				if !strings.Contains(string(got), want) {
					t.Errorf("facts lack %s:\n%s", want, got)
				}
			}
			if len(data) > 2048 {
				t.Errorf("mini ELF is %d bytes; keep it small", len(data))
			}
		})
	}
}

// fuzzRegressions are hostile inputs found while fuzzing and reading the
// readers; each must give facts or an *Error quickly, without a panic and
// without allocating far more than its size (checkInspect's limits). The
// PT_INTERP cases are also in testdata/fuzz/FuzzInspect/; the long-name
// files are too big for a corpus file and are built here.
var fuzzRegressions = []struct {
	name string
	data func() []byte
}{
	// make([]byte, p_filesz) before any check: "fatal error: runtime: out
	// of memory", which recover() cannot catch, from a 1 KB file.
	{"PT_INTERP p_filesz 1 TiB", func() []byte { return fuzzPatchInterp(1 << 40) }},
	{"PT_INTERP p_filesz 2^62", func() []byte { return fuzzPatchInterp(1 << 62) }},
	// Every .dynsym name a copy of one 256 KiB string: 2.7 GB and 9 s.
	{"dynsym names all one 256 KiB string", func() []byte { return fuzzLongNames(1 << 18) }},
	// The same through .symtab of a static file (debug/elf's Symbols, used
	// to look for musl's start-up symbols): 5.4 GB.
	{"symtab names all one 256 KiB string", func() []byte { return fuzzLongNamesStatic(1 << 18) }},
	// Verneed/Vernaux chains through each other's entries (issue 9): the
	// walk grew with the square of the section, out of memory at 262 KB.
	{"verneed chains overlap, 16384 entries", func() []byte { return fuzzHostile(abitest.OverlappingVerneed, 16384) }},
	// Names at offsets 1, 2, 3, ... of one 512 KiB string (issue 9): no
	// copies, but sorted, joined and printed, 2 GB of output per MB.
	{"names overlap in one 512 KiB string", func() []byte {
		return fuzzHostile(func(b []byte, n int) ([]byte, error) { return abitest.OverlappingNames(b, n, n/24) }, 1<<19)
	}},
	// 16000 section headers all named at offset 1 of a 1 MiB .shstrtab:
	// elf.NewFile copies every name, 16 GB.
	{"section names overlap in one 1 MiB string", func() []byte {
		return fuzzHostile(func(b []byte, n int) ([]byte, error) { return abitest.OverlappingSectionNames(b, 16000, n) }, 1<<20)
	}},
	// 60 000 PT_INTERP headers claiming 4 KB each: every one was read.
	{"60000 PT_INTERP headers", func() []byte {
		return fuzzHostile(func(b []byte, n int) ([]byte, error) { return abitest.ManyInterps(b, n, 4096) }, 60000)
	}},
}

// fuzzHostile applies an abitest shape to the 64-bit mini ELF.
func fuzzHostile(shape func([]byte, int) ([]byte, error), n int) []byte {
	b, err := shape(fuzzMiniELF(elf.ELFCLASS64, binary.LittleEndian), n)
	if err != nil {
		panic(err)
	}
	return b
}

// fuzzSeeds are the committed corpus files made in code: small instances of
// the issue 9 shapes, so the fuzzer mutates around them. Each is also
// refused by the check it is named after. TestFuzzSeedsCommitted keeps the
// files equal to what this builds; RELPACK_WRITE_FUZZ_SEEDS=1 rewrites them.
var fuzzSeeds = []struct {
	file, wantErr string
	data          func() []byte
}{
	{"verneed-overlapping-chains", "overlaps an entry read before",
		func() []byte { return fuzzHostile(abitest.OverlappingVerneed, 64) }},
	// 47 names of 8 KB from a 10 KB file: over the name budget's 64 KiB
	// slack, the smallest file that reaches it.
	{"names-overlapping-offsets", "add up to more than",
		func() []byte {
			return fuzzHostile(func(b []byte, n int) ([]byte, error) { return abitest.OverlappingNames(b, n, 48) }, 8192)
		}},
	// 64 section names of 4 KB from a 9 KB file.
	{"section-names-overlapping-offsets", "section names add up to more than",
		func() []byte {
			return fuzzHostile(func(b []byte, n int) ([]byte, error) { return abitest.OverlappingSectionNames(b, 64, n) }, 4096)
		}},
}

func TestFuzzSeedsCommitted(t *testing.T) {
	for _, s := range fuzzSeeds {
		data := s.data()
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		p := filepath.Join("testdata/fuzz/FuzzInspect", s.file)
		if os.Getenv("RELPACK_WRITE_FUZZ_SEEDS") == "1" {
			if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("%s differs from what fuzzSeeds builds (%v); rewrite it with RELPACK_WRITE_FUZZ_SEEDS=1 go test -run TestFuzzSeedsCommitted ./pkg/abi/", p, err)
		}
		if _, err := InspectReader("seed", bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), s.wantErr) {
			t.Errorf("%s: %v, want an error with %q", s.file, err, s.wantErr)
		}
	}
}

func TestFuzzRegressions(t *testing.T) {
	for _, c := range fuzzRegressions {
		t.Run(c.name, func(t *testing.T) { checkInspect(t, c.data()) })
	}
}

// fuzzPatchInterp is the 64-bit mini ELF with PT_INTERP's p_filesz set
// (the program header is at byte 64, p_filesz at +32).
func fuzzPatchInterp(size uint64) []byte {
	b := fuzzMiniELF(elf.ELFCLASS64, binary.LittleEndian)
	binary.LittleEndian.PutUint64(b[64+32:], size)
	return b
}

// fuzzLongNames appends to the 64-bit mini ELF a .dynstr of n bytes (n-1
// letters and a NUL) and a .dynsym of n/24 undefined symbols all named at
// offset 1, and points the section headers at them: every name is the
// same string of n-2 bytes.
func fuzzLongNames(n int) []byte {
	b := fuzzMiniELF(elf.ELFCLASS64, binary.LittleEndian)
	shoff := binary.LittleEndian.Uint64(b[40:])
	str := len(b)
	b = append(b, bytes.Repeat([]byte{'A'}, n-1)...)
	b = append(b, 0)
	sym := len(b)
	for i := 0; i < n/24; i++ {
		e := make([]byte, 24)
		if i > 0 {
			binary.LittleEndian.PutUint32(e, 1)
			e[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
		}
		b = append(b, e...)
	}
	sh := func(i int) []byte { return b[shoff+uint64(i)*64:] }
	binary.LittleEndian.PutUint64(sh(2)[24:], uint64(str))
	binary.LittleEndian.PutUint64(sh(2)[32:], uint64(n))
	binary.LittleEndian.PutUint64(sh(4)[24:], uint64(sym))
	binary.LittleEndian.PutUint64(sh(4)[32:], uint64(n/24*24))
	return b
}

// fuzzLongNamesStatic turns fuzzLongNames into a static executable: no
// PT_INTERP, no .dynamic, and the symbol table is .symtab.
func fuzzLongNamesStatic(n int) []byte {
	b := fuzzLongNames(n)
	shoff := binary.LittleEndian.Uint64(b[40:])
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint32(b[64:], uint32(elf.PT_NULL))
	binary.LittleEndian.PutUint32(b[shoff+3*64+4:], uint32(elf.SHT_PROGBITS))
	binary.LittleEndian.PutUint32(b[shoff+4*64+4:], uint32(elf.SHT_SYMTAB))
	return b
}
