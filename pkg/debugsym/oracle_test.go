package debugsym

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/abi"
)

// fixture is one DWARF fixture of testdata/build-fixtures.sh and what gdb
// should resolve in it.
type fixture struct {
	rel  string // under testdata/fixtures
	arch string // x86_64 or aarch64
	fn   string // a function gdb resolves by name
	file string // the source file its line is in
	out  string // what the stripped binary prints
}

var fixtures = []fixture{
	{"debug/x86_64/hello-g", "x86_64", "count_args", "debug-hello.c", "hello from .*hello-g \\(0 args\\)\n"},
	{"debug/x86_64/cxx-g", "x86_64", "relpack::Greeter::greet", "debug-cxx.cpp", "hello, debug\n"},
	{"debug/aarch64/hello-g", "aarch64", "count_args", "debug-hello.c", "hello from .*hello-g \\(0 args\\)\n"},
	{"debug/aarch64/cxx-g", "aarch64", "relpack::Greeter::greet", "debug-cxx.cpp", "hello, debug\n"},
}

func fixturePath(rel string) string { return filepath.Join("..", "..", "testdata", "fixtures", rel) }

// tool is the binutils program for arch ("objcopy", "strip").
func tool(t *testing.T, arch, name string) string {
	if arch == "aarch64" {
		name = "aarch64-linux-gnu-" + name
	}
	return testdeps.Tool(t, name)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// split writes path's debug file and stripped binary into dir, as a
// packager does: the debug file first, its CRC into the link.
func split(t *testing.T, path, dir string) (stripped, debug string, f *File) {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	debug = filepath.Join(dir, filepath.Base(BuildIDPath(f.BuildID)))
	var db bytes.Buffer
	if err := f.WriteDebug(&db); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(debug, db.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	crc, err := LinkCRC(bytes.NewReader(db.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var sb bytes.Buffer
	if err := f.WriteStripped(&sb, filepath.Base(debug), crc); err != nil {
		t.Fatal(err)
	}
	stripped = filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(stripped, sb.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return stripped, debug, f
}

// sectionList is "name type size" of every section, one a line.
func sectionList(t *testing.T, path string) string {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatalf("debug/elf cannot read %s: %v", path, err)
	}
	defer ef.Close()
	var b strings.Builder
	for _, s := range ef.Sections {
		fmt.Fprintf(&b, "%-20s %-14v %#x\n", s.Name, s.Type, s.Size)
	}
	return b.String()
}

// TestMatchesBinutils: on every DWARF fixture, the debug file has the
// sections objcopy --only-keep-debug writes and the stripped binary the
// ones strip --strip-debug + objcopy --add-gnu-debuglink write: same
// names, order, types and sizes; the .gnu_debuglink contents are equal.
func TestMatchesBinutils(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rel, func(t *testing.T) {
			dir := t.TempDir()
			stripped, debug, _ := split(t, fixturePath(fx.rel), dir)
			odir := filepath.Join(dir, "oracle")
			os.Mkdir(odir, 0o755)
			odebug := filepath.Join(odir, filepath.Base(debug))
			run(t, tool(t, fx.arch, "objcopy"), "--only-keep-debug", fixturePath(fx.rel), odebug)
			ostripped := filepath.Join(odir, "stripped")
			run(t, tool(t, fx.arch, "strip"), "--strip-debug", "-o", ostripped, fixturePath(fx.rel))
			// objcopy finds the debug file by the path given and names its base.
			cmd := exec.Command(tool(t, fx.arch, "objcopy"), "--add-gnu-debuglink="+filepath.Base(odebug), ostripped)
			cmd.Dir = odir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("objcopy --add-gnu-debuglink: %v\n%s", err, out)
			}
			if got, want := sectionList(t, debug), sectionList(t, odebug); got != want {
				t.Errorf("debug file sections differ from objcopy --only-keep-debug's:\ngot:\n%s\nwant:\n%s", got, want)
			}
			if got, want := sectionList(t, stripped), sectionList(t, ostripped); got != want {
				t.Errorf("stripped sections differ from strip --strip-debug's:\ngot:\n%s\nwant:\n%s", got, want)
			}
			// The debug files differ in layout, so their CRCs differ: compare
			// each link with its own debug file.
			checkLink(t, stripped, debug)
			checkLink(t, ostripped, odebug)
		})
	}
}

// checkLink checks that stripped's .gnu_debuglink names debug and holds
// its CRC, laid out as objcopy writes it.
func checkLink(t *testing.T, stripped, debug string) {
	t.Helper()
	ef, err := elf.Open(stripped)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	s := ef.Section(".gnu_debuglink")
	if s == nil {
		t.Fatalf("%s has no .gnu_debuglink", stripped)
	}
	got, _ := s.Data()
	db, _ := os.ReadFile(debug)
	crc, _ := LinkCRC(bytes.NewReader(db))
	want := debugLink(filepath.Base(debug), crc)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: .gnu_debuglink is %x, want %x", stripped, got, want)
	}
}

// TestLoadedBytesAndABIFactsUnchanged: every byte a program header covers
// is the input's, the program headers are equal, and pkg/abi reads the
// same facts from the stripped binary.
func TestLoadedBytesAndABIFactsUnchanged(t *testing.T) {
	rels, _ := filepath.Glob(fixturePath("demo/*/openshell-gateway"))
	if len(rels) != 7 {
		t.Fatalf("%d demo gateways, want 7", len(rels))
	}
	for i, r := range rels {
		rels[i], _ = filepath.Rel(fixturePath(""), r)
	}
	for _, fx := range fixtures {
		rels = append(rels, fx.rel)
	}
	for _, rel := range rels {
		t.Run(rel, func(t *testing.T) {
			stripped, _, _ := split(t, fixturePath(rel), t.TempDir())
			in, _ := os.ReadFile(fixturePath(rel))
			out, _ := os.ReadFile(stripped)
			ei, _ := elf.Open(fixturePath(rel))
			defer ei.Close()
			eo, _ := elf.Open(stripped)
			defer eo.Close()
			if !reflect.DeepEqual(progHeaders(ei), progHeaders(eo)) {
				t.Errorf("program headers differ:\n%v\n%v", progHeaders(ei), progHeaders(eo))
			}
			// The ELF header's e_shoff, e_shnum and e_shstrndx say where the
			// new section header table is: the only loaded bytes that change
			// (nothing reads them at run time).
			in, out = maskSectionFields(in), maskSectionFields(out)
			for _, p := range ei.Progs {
				a, b := p.Off, p.Off+p.Filesz
				if b > uint64(len(out)) || !bytes.Equal(in[a:b], out[a:b]) {
					t.Errorf("%v at %#x..%#x: bytes differ from the input's", p.Type, a, b)
				}
			}
			fi, err := abi.Inspect(fixturePath(rel))
			if err != nil {
				t.Fatal(err)
			}
			fo, err := abi.Inspect(stripped)
			if err != nil {
				t.Fatal(err)
			}
			fo.Path = fi.Path
			if !reflect.DeepEqual(fi, fo) {
				t.Errorf("ABI facts differ:\ninput    %+v\nstripped %+v", fi, fo)
			}
		})
	}
}

// maskSectionFields zeroes a copy's e_shoff, e_shnum and e_shstrndx.
func maskSectionFields(b []byte) []byte {
	b = bytes.Clone(b)
	clear(b[0x28:0x30])
	clear(b[0x3c:0x40])
	return b
}

func progHeaders(f *elf.File) []elf.ProgHeader {
	var ps []elf.ProgHeader
	for _, p := range f.Progs {
		ps = append(ps, p.ProgHeader)
	}
	return ps
}

// TestUnstripRecombines: eu-unstrip puts the pair back together, and the
// result has the input's debug sections, byte for byte.
func TestUnstripRecombines(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rel, func(t *testing.T) {
			dir := t.TempDir()
			stripped, debug, _ := split(t, fixturePath(fx.rel), dir)
			joined := filepath.Join(dir, "joined")
			run(t, testdeps.Tool(t, "eu-unstrip"), stripped, debug, "-o", joined)
			in, err := elf.Open(fixturePath(fx.rel))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			out, err := elf.Open(joined)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			n := 0
			for _, s := range in.Sections {
				if !strings.HasPrefix(s.Name, ".debug") {
					continue
				}
				n++
				o := out.Section(s.Name)
				if o == nil {
					t.Errorf("eu-unstrip's output has no %s", s.Name)
					continue
				}
				a, _ := s.Data()
				b, _ := o.Data()
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs after eu-unstrip", s.Name)
				}
			}
			if n == 0 {
				t.Fatal("the fixture has no debug sections")
			}
			// elfutils' own reader reads the split files without complaint.
			for _, p := range []string{stripped, debug, joined} {
				run(t, testdeps.Tool(t, "eu-readelf"), "-a", p)
			}
		})
	}
}

// TestGdbFindsDebugFileByBuildID: gdb, given only the stripped binary and
// a debug-file-directory holding .build-id/xx/rest.debug, resolves a
// function by name and an address to its source file and line.
func TestGdbFindsDebugFileByBuildID(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rel, func(t *testing.T) {
			dir := t.TempDir()
			stripped, debug, f := split(t, fixturePath(fx.rel), dir)
			root := filepath.Join(dir, "usr", "lib", "debug")
			p := filepath.Join(root, BuildIDPath(f.BuildID))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Rename(debug, p); err != nil {
				t.Fatal(err)
			}
			gdb := testdeps.Tool(t, "gdb")
			if fx.arch == "aarch64" {
				gdb = testdeps.Tool(t, "gdb-multiarch")
			}
			out := run(t, gdb, "--batch", "-nx",
				"-ex", "set debug-file-directory "+root,
				"-ex", "file "+stripped,
				"-ex", "info line "+fx.fn)
			m := regexp.MustCompile(`Line (\d+) of "([^"]+)" starts at address (0x[0-9a-f]+)`).FindStringSubmatch(out)
			if m == nil || !strings.HasSuffix(m[2], fx.file) {
				t.Fatalf("gdb did not resolve %s to a line of %s:\n%s", fx.fn, fx.file, out)
			}
			out2 := run(t, gdb, "--batch", "-nx",
				"-ex", "set debug-file-directory "+root,
				"-ex", "file "+stripped,
				"-ex", "info line *"+m[3])
			if !strings.Contains(out2, "Line "+m[1]+" of \""+m[2]+"\"") {
				t.Errorf("gdb did not resolve %s back to line %s of %s:\n%s", m[3], m[1], m[2], out2)
			}
			// Without the debug directory gdb has no line: the debug file is
			// what answered, not anything left in the stripped binary.
			out3 := run(t, gdb, "--batch", "-nx",
				"-ex", "set debug-file-directory "+filepath.Join(dir, "empty"),
				"-ex", "file "+stripped,
				"-ex", "info line *"+m[3])
			if strings.Contains(out3, "Line "+m[1]) {
				t.Errorf("the stripped binary alone still resolves lines:\n%s", out3)
			}
		})
	}
}

// TestStrippedBinaryRuns runs every stripped fixture (aarch64 under qemu).
func TestStrippedBinaryRuns(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rel, func(t *testing.T) {
			stripped, _, _ := split(t, fixturePath(fx.rel), t.TempDir())
			var out string
			if fx.arch == "aarch64" {
				testdeps.File(t, "/usr/aarch64-linux-gnu/lib/libstdc++.so.6")
				out = run(t, testdeps.Tool(t, "qemu-aarch64-static"), "-L", "/usr/aarch64-linux-gnu", stripped)
			} else {
				out = run(t, stripped)
			}
			if !regexp.MustCompile("^" + fx.out + "$").MatchString(out) {
				t.Errorf("got %q, want /%s/", out, fx.out)
			}
		})
	}
}
