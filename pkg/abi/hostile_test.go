package abi

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/abi/abitest"
)

// Hostile inputs built from a real fixture by pkg/abi/abitest. The bounds
// these tests hold, stated in docs/fuzzing.md, for a file of n bytes:
// reading it (InspectReader) allocates at most 16n + 1 MiB; reading it and
// rendering both reports (human, with the glibc-2.28 verdict, and JSON)
// allocates at most 48n + 2 MiB; each report is at most 8n + 1 MiB.
// Measured worst cases: 7.4n, 29n and 3.9n.
const (
	readFactor, readSlack     = 16, 1 << 20
	totalFactor, totalSlack   = 48, 2 << 20
	outputFactor, outputSlack = 8, 1 << 20
)

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cost is what reading one file took.
type cost struct {
	size        int    // bytes of input
	read, total uint64 // bytes allocated by InspectReader, and with the reports
	output      int    // bytes of the larger report
}

// inspectMeasured inspects data the way inspect and verify do and returns
// the facts or the error and what it cost. Allocations are counted with
// runtime.MemStats, which sees every allocation (the cheaper metric the
// fuzzer reads lags behind by a cache's worth).
func inspectMeasured(t *testing.T, data []byte) (*Facts, error, cost) {
	t.Helper()
	defer watchdog(t, 30*time.Second)()
	c := cost{size: len(data)}
	var before, read, after runtime.MemStats
	runtime.ReadMemStats(&before)
	facts, err := InspectReader("crafted", bytes.NewReader(data))
	runtime.ReadMemStats(&read)
	if err == nil {
		p := manylinuxPolicy("2.28")
		var human bytes.Buffer
		WriteFacts(&human, facts)
		WriteVerdict(&human, Verify(facts, p), p)
		j, jerr := json.Marshal(facts)
		if jerr != nil {
			t.Fatal(jerr)
		}
		c.output = max(human.Len(), len(j))
	}
	runtime.ReadMemStats(&after)
	c.read = read.TotalAlloc - before.TotalAlloc
	c.total = after.TotalAlloc - before.TotalAlloc
	return facts, err, c
}

// checkBound fails when a cost breaks the documented bounds.
func checkBound(t *testing.T, c cost) {
	t.Helper()
	n := uint64(c.size)
	if limit := readFactor*n + readSlack; c.read > limit {
		t.Errorf("reading a %d-byte file allocated %d bytes, over the bound of %d (%dn + %d)", n, c.read, limit, readFactor, readSlack)
	}
	if limit := totalFactor*n + totalSlack; c.total > limit {
		t.Errorf("reading and reporting a %d-byte file allocated %d bytes, over the bound of %d (%dn + %d)", n, c.total, limit, totalFactor, totalSlack)
	}
	if limit := outputFactor*c.size + outputSlack; c.output > limit {
		t.Errorf("a %d-byte file printed %d bytes, over the bound of %d (%dn + %d)", n, c.output, limit, outputFactor, outputSlack)
	}
}

// Overlapping Verneed/Vernaux chains: every Vernaux is also the next
// Verneed, whose chain walks the same entries again. Before the walk
// refused reused entries, 4096 slots (an 80 KB file) made 8 million
// version records, and 16384 (276 KB) ran relpack out of memory.
func TestHostileVerneedChains(t *testing.T) {
	fx := readFixture(t, "x86_64/hello-2.28")
	for _, slots := range []int{64, 4096} {
		data, err := abitest.OverlappingVerneed(fx, slots)
		if err != nil {
			t.Fatal(err)
		}
		_, err, c := inspectMeasured(t, data)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), "version needs entry 1 (offset 16) overlaps an entry read before") {
			t.Errorf("%d slots: err = %v, want an *Error about overlapping entries", slots, err)
		}
		checkBound(t, c)
	}
}

// Symbol names at overlapping offsets of one long string: each a different
// string of almost the table's length. Memory stayed small (names are
// substrings), but every name was sorted, joined and printed: a 145 KB
// file printed 170 MB, a 1 MB one gigabytes.
func TestHostileOverlappingNames(t *testing.T) {
	fx := readFixture(t, "x86_64/hello-2.28")
	data, err := abitest.OverlappingNames(fx, 1<<16, 2730)
	if err != nil {
		t.Fatal(err)
	}
	_, err, c := inspectMeasured(t, data)
	if err == nil || !strings.Contains(err.Error(), "add up to more than") || !strings.Contains(err.Error(), "corrupt or crafted") {
		t.Errorf("err = %v, want the name budget's error", err)
	}
	checkBound(t, c)

	// Under the budget the file is read, and the reports still hold the
	// bound: four 64 KB names from an 80 KB file.
	data, err = abitest.OverlappingNames(fx, 1<<16, 5)
	if err != nil {
		t.Fatal(err)
	}
	facts, err, c := inspectMeasured(t, data)
	if err != nil {
		t.Fatalf("four long names: %v", err)
	}
	n := 0
	for _, g := range facts.Imports {
		n += len(g.Symbols)
	}
	if n != 4 {
		t.Errorf("read %d imported symbols, want 4", n)
	}
	if c.output < 4*(1<<16-8) {
		t.Errorf("printed %d bytes, less than the four names", c.output)
	}
	checkBound(t, c)
}

// The bounds hold across the shape's sizes, whether the names are printed
// as they are ('A') or escaped (a control byte, an invalid UTF-8 byte),
// read in full or refused: the files just under the name budget are the
// worst case (29n allocated, 3.9n printed, for four 1 MB names).
func TestHostileNamesSweep(t *testing.T) {
	fx := readFixture(t, "x86_64/hello-2.28")
	read := 0
	for _, fill := range []byte{'A', 0x01, 0xff} {
		for _, size := range []int{1 << 12, 1 << 16, 1 << 20} {
			for _, syms := range []int{2, 5, 17, 129} {
				data, err := abitest.OverlappingNamesOf(fx, fill, size, syms)
				if err != nil {
					t.Fatal(err)
				}
				_, err, c := inspectMeasured(t, data)
				if err == nil {
					read++
				}
				checkBound(t, c)
			}
		}
	}
	if read < 6 {
		t.Errorf("only %d of the files were read: the sweep should reach the budget from below", read)
	}
}

// A RUNPATH of endless colons is as many empty elements (each means the
// current directory to the loader), a string header each: 1 MB of colons
// allocated 107 MB (100n) before path elements were charged to the budget.
func TestHostileRunpath(t *testing.T) {
	fx := readFixture(t, "x86_64/runpath")
	for _, n := range []int{1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 20} {
		data, err := abitest.DynString(fx, elf.DT_RUNPATH, strings.Repeat(":", n))
		if err != nil {
			t.Fatal(err)
		}
		facts, err, c := inspectMeasured(t, data)
		switch {
		case err != nil && !strings.Contains(err.Error(), "search path of endless empty elements"):
			t.Errorf("%d colons: %v", n, err)
		case err == nil && len(facts.Runpath) != n+1:
			t.Errorf("%d colons: %d elements, want %d", n, len(facts.Runpath), n+1)
		case n == 1<<20 && err == nil:
			t.Errorf("%d colons: read without an error", n)
		}
		checkBound(t, c)
	}
}

// 60 000 program headers, each a PT_INTERP claiming 4 KB: every one was
// read (500 MB, 149n, for a 3.4 MB file) and the last one won, where the
// kernel loads the first, up to its first NUL.
func TestHostileManyInterps(t *testing.T) {
	data, err := abitest.ManyInterps(readFixture(t, "x86_64/hello-2.28"), 60000, 4096)
	if err != nil {
		t.Fatal(err)
	}
	facts, err, c := inspectMeasured(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if facts.Interpreter != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("interpreter %q, want the first PT_INTERP up to its NUL", facts.Interpreter)
	}
	checkBound(t, c)
}

// A compressed section inflates to whatever its header claims: 16 KB of
// zlib made 16 MB (41 MB allocated for a 30 KB file). The sections relpack
// reads may not be compressed (the gABI forbids it for what the loader
// reads; debug/elf checks that only against SHF_ALLOC, which is the file's
// word), nor may .shstrtab, which elf.NewFile inflates before anything.
func TestHostileCompressedSections(t *testing.T) {
	fx := readFixture(t, "x86_64/hello-2.28")
	for _, sec := range []string{".dynstr", ".dynsym", ".gnu.version_r", ".shstrtab"} {
		data, err := abitest.CompressedBomb(fx, sec, 16<<20)
		if err != nil {
			t.Fatal(err)
		}
		_, err, c := inspectMeasured(t, data)
		if err == nil || !strings.Contains(err.Error(), "compressed (SHF_COMPRESSED)") {
			t.Errorf("%s: err = %v, want the compressed section refused", sec, err)
		}
		checkBound(t, c)
	}
}

// Thousands of section headers naming offset 1 of one long .shstrtab:
// elf.NewFile copied each name, 525 MB and 2 s for a 400 KB file, before
// checkSectionNames held section names to the same budget.
func TestHostileSectionNames(t *testing.T) {
	data, err := abitest.OverlappingSectionNames(readFixture(t, "x86_64/hello-2.28"), 2000, 1<<18)
	if err != nil {
		t.Fatal(err)
	}
	_, err, c := inspectMeasured(t, data)
	if err == nil || !strings.Contains(err.Error(), "section names add up to more than") {
		t.Errorf("err = %v, want the section name budget's error", err)
	}
	checkBound(t, c)
}

// The bound is linear: doubling the hostile file may not much more than
// double what reading it costs.
func TestHostileCostIsLinear(t *testing.T) {
	fx := readFixture(t, "x86_64/hello-2.28")
	for _, shape := range []struct {
		name  string
		build func(n int) ([]byte, error)
	}{
		{"verneed", func(n int) ([]byte, error) { return abitest.OverlappingVerneed(fx, n/16) }},
		{"names", func(n int) ([]byte, error) { return abitest.OverlappingNames(fx, n/2, n/48) }},
		{"section names", func(n int) ([]byte, error) { return abitest.OverlappingSectionNames(fx, n/128, n/2) }},
	} {
		for _, n := range []int{1 << 18, 1 << 20} {
			data, err := shape.build(n)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err, c := inspectMeasured(t, data)
			if err == nil {
				t.Errorf("%s, %d bytes: read without an error", shape.name, len(data))
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s, %d bytes: %v", shape.name, len(data), d)
			}
			checkBound(t, c)
		}
	}
}

// A version name's number is compared as a decimal string: parsed into a
// uint64, GLIBC_99999999999999999999 failed to 0 and met every floor.
func TestHugeVersionNumbers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"99999999999999999999", "2.28", 1},
		{"2.99999999999999999999", "2.28", 1},
		{"2.28", "2.000000000000000000000000028", 0},
		{"18446744073709551616", "18446744073709551615", 1},
		{"2.x", "2.0", 0},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	p := manylinuxPolicy("2.28")
	v := Verify(factsWith(map[string][]string{"libc.so.6": {"GLIBC_99999999999999999999"}}, nil), p)
	if v.OK {
		t.Error("GLIBC_99999999999999999999 meets glibc-2.28")
	}
}

// An interpreter and a symbol name carrying terminal escape sequences, in a
// real fixture: the facts keep the bytes readelf shows, the human report
// escapes them, and JSON carries no raw control byte.
func TestEscapedNames(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[2J"
	fx := readFixture(t, "x86_64/math-2.29")
	data, err := abitest.ReplaceString(fx, "/lib64/ld-linux-x86-64.so.2", "/lib64/"+evil)
	if err != nil {
		t.Fatal(err)
	}
	if data, err = abitest.ReplaceString(data, "exp2", "e\x1b[m"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "evil")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	facts, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if facts.Interpreter != "/lib64/"+evil {
		t.Errorf("interpreter %q", facts.Interpreter)
	}
	// readelf prints the interpreter raw: the fact is the bytes it shows.
	if out, err := exec.Command(testdeps.Tool(t, "readelf"), "-lW", path).Output(); err != nil {
		t.Fatal(err)
	} else if !bytes.Contains(out, []byte("[Requesting program interpreter: /lib64/"+evil+"]")) {
		t.Errorf("readelf -l does not show the interpreter relpack read:\n%q", out)
	}
	p := manylinuxPolicy("2.28")
	var human bytes.Buffer
	WriteFacts(&human, facts)
	WriteVerdict(&human, Verify(facts, p), p)
	for _, want := range []string{
		`interpreter: "/lib64/\x1b]0;pwned\a\x1b[2J"`,
		`GLIBC_2.29: "e\x1b[m", exp, log, log2, posix_spawn_file_actions_addchdir_np, pow`,
	} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human report lacks %s:\n%s", want, human.String())
		}
	}
	j, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range [][]byte{human.Bytes(), j} {
		if i := bytes.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }); i >= 0 {
			t.Errorf("raw control byte %q in a report: %q", out[i], out[max(0, i-20):min(len(out), i+20)])
		}
	}
	var back Facts
	if err := json.Unmarshal(j, &back); err != nil || back.Interpreter != facts.Interpreter {
		t.Errorf("JSON does not give back the interpreter: %q, %v", back.Interpreter, err)
	}
}

// A FIFO blocks open(2) until a writer comes, a device never ends; Inspect
// refuses both, quickly, naming the file and what it is.
func TestInspectSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        fifo + ": is a named pipe (FIFO), not an ELF file",
		"/dev/null": "/dev/null: is a character device, not an ELF file",
		"/dev/zero": "/dev/zero: is a character device, not an ELF file",
	} {
		done := make(chan error, 1)
		go func() { _, err := Inspect(path); done <- err }()
		select {
		case err := <-done:
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "regular files") {
				t.Errorf("Inspect(%s) = %v, want %q...", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Inspect(%s) still blocked after 5 s", path)
		}
	}
	// A symlink to a regular file is read as the file.
	link := filepath.Join(t.TempDir(), "link")
	abs, _ := filepath.Abs(filepath.Join(fixtureDir, "x86_64/hello-2.28"))
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(link); err != nil {
		t.Errorf("symlink to a fixture: %v", err)
	}
}
