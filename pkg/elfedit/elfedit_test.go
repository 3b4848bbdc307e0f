package elfedit

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"relpack/internal/testdeps"
)

// The tests run real binaries: every fixture is edited by SetRunpath and,
// as the oracle, by `patchelf --set-rpath`; both results are laid out as
// T/bin/NAME next to T/lib/libz3.so.4 (the stub, version 4.99.1.0) and run
// under the loader they were built for, and their output and LD_DEBUG=libs
// traces must agree. patchelf is a test oracle only.

const (
	fixtures = "../../testdata/fixtures"
	origin   = "$ORIGIN/../lib"
	// longRunpath is longer than any string in the fixtures: it forces the
	// relocation path even where a RUNPATH/RPATH already exists.
	longRunpath = "$ORIGIN/../lib:$ORIGIN/../lib/a/much/longer/path/that/forces/relocation"
)

// runner says how to start a fixture.
type runner int

const (
	bullseyeX86 runner = iota // bullseye's ld-2.31.so, called directly
	hostX86                   // the host's loader (bookworm builds)
	bullseyeA64               // qemu-aarch64-static -L the bullseye arm64 sysroot
	hostA64                   // qemu-aarch64-static -L /usr/aarch64-linux-gnu (bookworm cross libc)
)

type fixture struct {
	path string // under testdata/fixtures
	run  runner
	lib  bool // a shared library: checked with the loader's --list
	z3   bool // needs libz3: T/lib must be the one it loads
}

var dynamicFixtures = []fixture{
	{"x86_64/hello-2.28", bullseyeX86, false, false},
	{"x86_64/hello-nopie", bullseyeX86, false, false},
	{"x86_64/z3-user", bullseyeX86, false, true},
	{"x86_64/runpath", bullseyeX86, false, true},
	{"x86_64/rpath", bullseyeX86, false, true},
	{"x86_64/math-2.29", bullseyeX86, false, false},
	{"x86_64/gettid-2.30", bullseyeX86, false, false},
	{"x86_64/cxx-hello-bullseye", bullseyeX86, false, false},
	{"x86_64/hello-bookworm", hostX86, false, false},
	{"x86_64/cxx-hello", hostX86, false, false},
	{"x86_64/libdemo.so", bullseyeX86, true, false},
	{"x86_64/libz3.so.4", bullseyeX86, true, false},
	{"demo/x86_64-unknown-linux-gnu/openshell-gateway", bullseyeX86, false, true},
	{"demo/x86_64-unknown-linux-gnu-el8/openshell-gateway", bullseyeX86, false, true},
	{"demo/x86_64-unknown-linux-gnu-bundled/openshell-gateway", bullseyeX86, false, false},
	{"aarch64/hello-2.28", bullseyeA64, false, false},
	{"aarch64/z3-user", bullseyeA64, false, true},
	{"aarch64/hello-bookworm", hostA64, false, false},
	{"aarch64/libz3.so.4", bullseyeA64, true, false},
	{"demo/aarch64-unknown-linux-gnu/openshell-gateway", bullseyeA64, false, true},
	{"demo/aarch64-unknown-linux-gnu-el8/openshell-gateway", bullseyeA64, false, true},
}

func (f fixture) arch() string {
	if f.run == bullseyeA64 || f.run == hostA64 {
		return "aarch64"
	}
	return "x86_64"
}

func cacheDir() string { return testdeps.CacheDir() }

var (
	rootsOnce         sync.Once
	x86Root, a64Root  string
	x86Err, a64RootEr error
)

// roots makes (once) the bullseye root for x86_64 and the arm64 sysroot.
func roots(t *testing.T) (x86, a64 string) {
	t.Helper()
	bullseyeRoot := testdeps.Script(t, "scripts/bullseye-root.sh")
	sysroot := testdeps.Script(t, "testdata/sysroot.sh")
	rootsOnce.Do(func() {
		out, err := exec.Command(bullseyeRoot, "amd64").Output()
		x86Root, x86Err = strings.TrimSpace(string(out)), err
		a64Root = filepath.Join(cacheDir(), "sysroot", "bullseye-arm64")
		if out, err := exec.Command(sysroot, "arm64", a64Root).CombinedOutput(); err != nil {
			a64RootEr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if x86Err != nil {
		t.Fatalf("no bullseye root (scripts/bullseye-root.sh needs root and a mirror): %v", x86Err)
	}
	if a64RootEr != nil {
		t.Fatalf("no arm64 sysroot (testdata/sysroot.sh arm64): %v", a64RootEr)
	}
	return x86Root, a64Root
}

// command returns the command that runs bin (or, for a library, lists what
// the loader loads for it) with a clean environment plus env.
func command(t *testing.T, fx fixture, bin string, env []string, args ...string) *exec.Cmd {
	x86, a64 := roots(t)
	var argv []string
	switch fx.run {
	case bullseyeX86:
		lib := x86 + "/lib/x86_64-linux-gnu"
		argv = []string{lib + "/ld-2.31.so", "--library-path", lib + ":" + x86 + "/usr/lib/x86_64-linux-gnu"}
		if fx.lib {
			argv = append(argv, "--list")
		}
	case hostX86:
		if fx.lib {
			argv = []string{"/lib64/ld-linux-x86-64.so.2", "--list"}
		}
	case bullseyeA64:
		testdeps.Tools(t, "qemu-aarch64-static")
		argv = []string{"qemu-aarch64-static", "-L", a64}
		if fx.lib {
			argv = append(argv, a64+"/lib/aarch64-linux-gnu/ld-2.31.so", "--list")
		}
	case hostA64:
		testdeps.Tools(t, "qemu-aarch64-static")
		testdeps.File(t, "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1") // libc6-arm64-cross, the loader qemu -L finds there
		argv = []string{"qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"}
	}
	argv = append(append(argv, bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LD_BIND_NOW=1"}, env...)
	return cmd
}

// layout makes T/bin/NAME (a copy of bin) and T/lib with the libz3 stubs of
// the fixture's architecture; it returns T (symlinks resolved) and the
// program's path.
func layout(t *testing.T, fx fixture, bin string) (dir, prog string) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bin", "lib"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, lib := range []string{"libz3.so.4", "libz3.so.4.8"} {
		copyFile(t, filepath.Join(fixtures, fx.arch(), lib), filepath.Join(dir, "lib", lib))
	}
	prog = filepath.Join(dir, "bin", filepath.Base(fx.path))
	copyFile(t, bin, prog)
	return dir, prog
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

var (
	pidPrefix = regexp.MustCompile(`(?m)^\s*\d+:\s?`)
	loadAddr  = regexp.MustCompile(`\(0x[0-9a-f]+\)`)
	threadID  = regexp.MustCompile(`\btid \d+`) // gettid-2.30 prints its own
)

// runResult is what a run printed, with the layout folder replaced by "T",
// PIDs and load addresses removed.
type runResult struct {
	stdout, trace string
}

func runIn(t *testing.T, fx fixture, bin string) runResult {
	t.Helper()
	dir, prog := layout(t, fx, bin)
	var args []string
	if strings.Contains(fx.path, "openshell-gateway") {
		args = []string{"--version"}
	}
	norm := func(s string) string {
		s = strings.ReplaceAll(s, dir, "T")
		s = pidPrefix.ReplaceAllString(s, "")
		s = threadID.ReplaceAllString(s, "tid N")
		return loadAddr.ReplaceAllString(s, "")
	}
	var res runResult
	cmd := command(t, fx, prog, nil, args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(cmd.Args, " "), err, out, stderrOf(err))
	}
	res.stdout = norm(string(out))
	cmd = command(t, fx, prog, []string{"LD_DEBUG=libs"}, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil {
		t.Fatalf("%s (LD_DEBUG=libs): %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	res.trace = norm(stderr.String())
	return res
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// checkReadelf runs readelf on path: no errors or warnings, the RUNPATH
// shown, no RPATH.
func checkReadelf(t *testing.T, path, runpath string) {
	t.Helper()
	cmd := exec.Command("readelf", "-hlSdVW", "--dyn-syms", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("readelf %s: %v\n%s", path, err, stderr.String())
	}
	if want := "(RUNPATH)            Library runpath: [" + runpath + "]"; !strings.Contains(string(out), want) {
		t.Errorf("readelf -d %s does not show %q", path, want)
	}
	if strings.Contains(string(out), "(RPATH)") {
		t.Errorf("readelf -d %s still shows an RPATH", path)
	}
}

func TestDifferentialPatchelf(t *testing.T) {
	testdeps.Tools(t, "patchelf", "readelf", "qemu-aarch64-static")
	for _, fx := range dynamicFixtures {
		for _, rp := range []string{origin, longRunpath} {
			name := fx.path
			if rp == longRunpath {
				name += "/long"
			}
			t.Run(name, func(t *testing.T) {
				src := filepath.Join(fixtures, fx.path)
				before := sha(t, src)
				tmp := t.TempDir()
				ours := filepath.Join(tmp, "relpack")
				theirs := filepath.Join(tmp, "patchelf")
				if err := SetRunpath(src, ours, rp); err != nil {
					t.Fatal(err)
				}
				if sha(t, src) != before {
					t.Fatal("SetRunpath changed its source file")
				}
				if out, err := exec.Command("patchelf", "--set-rpath", rp, "--output", theirs, src).CombinedOutput(); err != nil {
					t.Fatalf("patchelf: %v\n%s", err, out)
				}
				checkReadelf(t, ours, rp)

				// Same facts as the original, apart from the RUNPATH.
				compareDynamic(t, src, ours, rp)

				a, b := runIn(t, fx, ours), runIn(t, fx, theirs)
				if a.stdout != b.stdout {
					t.Errorf("output differs:\nrelpack:  %q\npatchelf: %q", a.stdout, b.stdout)
				}
				if a.trace != b.trace {
					t.Errorf("LD_DEBUG=libs traces differ:\nrelpack:\n%s\npatchelf:\n%s", a.trace, b.trace)
				}
				// Under bullseye's loader --library-path (which comes first)
				// finds libc; everywhere else the RUNPATH is searched.
				if (fx.run != bullseyeX86 || fx.z3) && !strings.Contains(a.trace, "(RUNPATH from file T/bin/") {
					t.Errorf("the loader did not search the RUNPATH:\n%s", a.trace)
				}
				if fx.z3 && !fx.lib {
					// The library that answered is T/lib's stub, found
					// through the RUNPATH ("(RUNPATH from file ...)").
					if !strings.Contains(a.trace, "(RUNPATH from file T/bin/") ||
						!regexp.MustCompile(`trying file=T/bin/\.\./lib/libz3\.so\.4(\.8)?\n`).MatchString(a.trace) {
						t.Errorf("libz3 not searched in T/lib through the RUNPATH:\n%s", a.trace)
					}
					if !strings.Contains(a.stdout, "4.99.1.0") && !strings.Contains(a.stdout, "4.8.99.0") {
						t.Errorf("the stub libz3 did not answer: %q", a.stdout)
					}
					if strings.Contains(fx.path, "openshell-gateway") && !strings.Contains(a.stdout, " from T/lib/libz3.so.4") {
						t.Errorf("gateway did not load T/lib's libz3: %q", a.stdout)
					}
				}
			})
		}
	}
}

// compareDynamic checks with debug/elf that NEEDED and SONAME are those of
// the original and the RUNPATH reads back.
func compareDynamic(t *testing.T, orig, edited, runpath string) {
	t.Helper()
	fo, err := elf.Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	fe, err := elf.Open(edited)
	if err != nil {
		t.Fatal(err)
	}
	defer fe.Close()
	for _, tag := range []elf.DynTag{elf.DT_NEEDED, elf.DT_SONAME} {
		a, _ := fo.DynString(tag)
		b, _ := fe.DynString(tag)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%v: %q, want %q", tag, b, a)
		}
	}
	if rp, _ := fe.DynString(elf.DT_RUNPATH); len(rp) != 1 || rp[0] != runpath {
		t.Errorf("DT_RUNPATH reads %q, want %q", rp, runpath)
	}
	if rp, _ := fe.DynString(elf.DT_RPATH); len(rp) != 0 {
		t.Errorf("DT_RPATH still there: %q", rp)
	}
}

// TestRunpathLoadsSidecar runs the demo gateway directly on this machine
// (glibc 2.36 here, which has a real libz3.so.4 in /usr/lib), with no
// LD_LIBRARY_PATH: with the RUNPATH it must load T/lib's stub; the
// unedited binary in the same layout must not (so the test can fail).
func TestRunpathLoadsSidecar(t *testing.T) {
	fx := fixture{"demo/x86_64-unknown-linux-gnu/openshell-gateway", hostX86, false, true}
	testdeps.File(t, "/lib64/ld-linux-x86-64.so.2") // an x86_64 glibc host: the tests run on Debian 12 x86_64
	src := filepath.Join(fixtures, fx.path)
	for _, opt := range []options{{}, {moveDynamic: true}} {
		out := filepath.Join(t.TempDir(), "gw")
		if err := setRunpath(src, out, origin, opt); err != nil {
			t.Fatal(err)
		}
		dir, prog := layout(t, fx, out)
		got, err := exec.Command(prog, "--version").Output()
		if err != nil {
			t.Fatalf("%s --version: %v %s", prog, err, stderrOf(err))
		}
		want := "z3 4.99.1.0 from " + dir + "/lib/libz3.so.4\n"
		if !strings.HasSuffix(string(got), want) {
			t.Errorf("%+v: got %q, want it to end in %q", opt, got, want)
		}
	}
	_, prog := layout(t, fx, src)
	got, err := exec.Command(prog, "--version").CombinedOutput()
	if err == nil && strings.Contains(string(got), "4.99.1.0") {
		t.Errorf("the unedited gateway loaded the stub too: %q", got)
	}
}

// TestForcedPaths takes the paths the fixtures do not take on their own:
// relocation when the old string would fit, and moving .dynamic when it has
// a spare slot; the results must run and load T/lib's libz3.
func TestForcedPaths(t *testing.T) {
	testdeps.Tools(t, "readelf", "qemu-aarch64-static")
	cases := []struct {
		fx  fixture
		opt options
	}{
		{fixture{"x86_64/hello-2.28", bullseyeX86, false, false}, options{moveDynamic: true}},
		{fixture{"x86_64/hello-nopie", bullseyeX86, false, false}, options{moveDynamic: true}},
		{fixture{"x86_64/z3-user", bullseyeX86, false, true}, options{moveDynamic: true}},
		{fixture{"x86_64/libz3.so.4", bullseyeX86, true, false}, options{moveDynamic: true}},
		{fixture{"x86_64/runpath", bullseyeX86, false, true}, options{noInPlace: true}},
		{fixture{"x86_64/rpath", bullseyeX86, false, true}, options{noInPlace: true}},
		{fixture{"aarch64/z3-user", bullseyeA64, false, true}, options{moveDynamic: true}},
		{fixture{"demo/aarch64-unknown-linux-gnu/openshell-gateway", bullseyeA64, false, true}, options{moveDynamic: true}},
		{fixture{"aarch64/hello-bookworm", hostA64, false, false}, options{moveDynamic: true}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%+v", c.fx.path, c.opt), func(t *testing.T) {
			src := filepath.Join(fixtures, c.fx.path)
			out := filepath.Join(t.TempDir(), "out")
			if err := setRunpath(src, out, origin, c.opt); err != nil {
				t.Fatal(err)
			}
			checkReadelf(t, out, origin)
			compareDynamic(t, src, out, origin)
			f, o := mustParse(t, out), mustParse(t, src)
			_, newTab, _, _ := f.strtab()
			_, oldTab, _, _ := o.strtab()
			if newTab == oldTab {
				t.Errorf(".dynstr did not move (%#x)", newTab)
			}
			if c.opt.moveDynamic && f.progs[f.dynProg].Vaddr == o.progs[o.dynProg].Vaddr {
				t.Error("moveDynamic: PT_DYNAMIC did not move")
			}
			r := runIn(t, c.fx, out)
			if c.fx.z3 && !strings.Contains(r.trace, "trying file=T/bin/../lib/libz3.so.4\n") {
				t.Errorf("libz3 not looked up in T/lib:\n%s", r.trace)
			}
			if strings.Contains(c.fx.path, "openshell-gateway") && !strings.Contains(r.stdout, " from T/lib/libz3.so.4") {
				t.Errorf("gateway did not load T/lib's libz3: %q", r.stdout)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, path string) *file {
	t.Helper()
	b := mustRead(t, path)
	f, err := parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// TestInPlace: a RUNPATH or RPATH string at least as long as the new one is
// overwritten where it is; the file keeps its size and layout.
func TestInPlace(t *testing.T) {
	for _, name := range []string{"x86_64/runpath", "x86_64/rpath"} {
		src := filepath.Join(fixtures, name)
		out := filepath.Join(t.TempDir(), "out")
		if err := SetRunpath(src, out, "$ORIGIN/lib"); err != nil {
			t.Fatal(err)
		}
		a, b := mustRead(t, src), mustRead(t, out)
		if len(a) != len(b) {
			t.Errorf("%s: size %d -> %d, want unchanged", name, len(a), len(b))
		}
		fa, fb := mustParse(t, src), mustParse(t, out)
		_, addrA, _, _ := fa.strtab()
		_, addrB, _, _ := fb.strtab()
		if addrA != addrB || fmt.Sprint(fa.progs) != fmt.Sprint(fb.progs) {
			t.Errorf("%s: layout changed", name)
		}
		compareDynamic(t, src, out, "$ORIGIN/lib")
		// Only the string bytes and the tag differ.
		n := 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		if n > len("$ORIGIN/../lib")+1 {
			t.Errorf("%s: %d bytes changed", name, n)
		}
	}
}

// TestSharedString: when another string reference points into the
// RUNPATH's bytes (suffix sharing), the string is not overwritten in place.
func TestSharedString(t *testing.T) {
	src := filepath.Join(fixtures, "x86_64/runpath")
	data := mustRead(t, src)
	f := mustParse(t, src)
	tab, _, _, _ := f.strtab()
	// Point DT_RUNPATH at the "so.4" inside "libz3.so.4" (a DT_NEEDED string).
	i := bytes.Index(tab, []byte("libz3.so.4\x00"))
	if i < 0 {
		t.Fatal("no libz3.so.4 in .dynstr")
	}
	for k, d := range f.dyns[:f.nused] {
		if elf.DynTag(d.Tag) == elf.DT_RUNPATH {
			off := f.progs[f.dynProg].Off + uint64(k)*dynSize + 8
			le.PutUint64(data[off:], uint64(i+len("libz3.")))
		}
	}
	tmp := t.TempDir()
	shared := filepath.Join(tmp, "shared")
	if err := os.WriteFile(shared, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	if err := SetRunpath(shared, out, "x/y"); err != nil { // fits in "so.4"
		t.Fatal(err)
	}
	compareDynamic(t, shared, out, "x/y") // NEEDED libz3.so.4 intact
	g := mustParse(t, out)
	if _, addr, _, _ := g.strtab(); addr == func() uint64 { _, a, _, _ := f.strtab(); return a }() {
		t.Error(".dynstr was edited in place although the string is shared")
	}
}

// TestBothRpathAndRunpath: a file with both entries ends with one DT_RUNPATH.
func TestBothRpathAndRunpath(t *testing.T) {
	src := filepath.Join(fixtures, "x86_64/runpath")
	data := mustRead(t, src)
	f := mustParse(t, src)
	val, _ := f.dynVal(elf.DT_RUNPATH)
	// Add a DT_RPATH in the first spare slot (moving the DT_NULL down).
	off := f.progs[f.dynProg].Off + uint64(f.nused)*dynSize
	le.PutUint64(data[off:], uint64(elf.DT_RPATH))
	le.PutUint64(data[off+8:], val)
	tmp := t.TempDir()
	both := filepath.Join(tmp, "both")
	if err := os.WriteFile(both, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if fb := mustParse(t, both); fb.nused != f.nused+1 {
		t.Fatal("crafting the input failed")
	}
	for _, rp := range []string{origin, longRunpath} {
		out := filepath.Join(tmp, "out")
		if err := SetRunpath(both, out, rp); err != nil {
			t.Fatal(err)
		}
		checkReadelf(t, out, rp)
		if g := mustParse(t, out); g.nused != f.nused {
			t.Errorf("%d dynamic entries, want %d", g.nused, f.nused)
		}
	}
}

// TestBadInputs: clear errors, no output file, no temporary file left.
func TestBadInputs(t *testing.T) {
	tmp := t.TempDir()
	hello := mustRead(t, filepath.Join(fixtures, "x86_64/hello-2.28"))
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	with := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	cases := []struct {
		src, want string
	}{
		{filepath.Join(fixtures, "x86_64/hello-musl-static"), "statically linked"},
		{filepath.Join(fixtures, "aarch64/hello-musl-static"), "statically linked"},
		{filepath.Join(fixtures, "demo/x86_64-unknown-linux-musl/openshell-gateway"), "statically linked"},
		{filepath.Join(fixtures, "README.md"), "not an ELF file"},
		{write("empty", nil), "not an ELF file"},
		{write("truncated-header", hello[:40]), "truncated ELF header"},
		{write("truncated-phdrs", hello[:200]), "truncated file"},
		{write("truncated-dynamic", hello[:0x2000]), "truncated file"},
		{write("elf32", with(hello, elf.EI_CLASS, byte(elf.ELFCLASS32))), "ELFCLASS32 file: only ELF64 little-endian"},
		{write("big-endian", with(hello, elf.EI_DATA, byte(elf.ELFDATA2MSB))), "ELFDATA2MSB file: only ELF64 little-endian"},
		{write("riscv", with(hello, 18, byte(elf.EM_RISCV))), "only x86_64 and aarch64"},
		{filepath.Join(tmp, "missing"), "no such file"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.src), func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "out")
			var before [32]byte
			if _, err := os.Stat(c.src); err == nil {
				before = sha(t, c.src)
			}
			err := SetRunpath(c.src, dst, origin)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *Error", err, err)
			}
			if e.Path != c.src || !strings.Contains(e.Msg, c.want) {
				t.Errorf("got %q, want path %s and a message with %q", err, c.src, c.want)
			}
			t.Log(err)
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if _, err := os.Stat(c.src); err == nil && sha(t, c.src) != before {
				t.Error("source changed")
			}
		})
	}
	// The destination may not be the source.
	p := write("self", hello)
	if err := SetRunpath(p, p, origin); err == nil || !strings.Contains(err.Error(), "destination is the source") {
		t.Errorf("SetRunpath(p, p): %v", err)
	}
	if err := SetRunpath(p, filepath.Join(tmp, "x"), ""); err == nil {
		t.Error("empty runpath accepted")
	}
}

// TestAtomicReplace: an existing destination is replaced whole, with the
// source's permissions, and nothing else is left in its folder.
func TestAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "gw")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(fixtures, "demo/x86_64-unknown-linux-gnu/openshell-gateway")
	if err := SetRunpath(src, dst, origin); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("stat %s: %v %v", dst, st.Mode(), err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("folder holds %v", left)
	}
	compareDynamic(t, src, dst, origin)
}

// TestSystemBinaries edits some of this machine's own programs (bookworm:
// -z separate-code, PT_GNU_PROPERTY, C++, many NEEDED, the 23 MB libz3)
// and checks that they still run and print what the originals print.
func TestSystemBinaries(t *testing.T) {
	testdeps.Tools(t, "readelf")
	for _, bin := range []string{"/usr/bin/ls", "/usr/bin/readelf", "/usr/bin/patchelf", "/usr/bin/tar", "/usr/bin/apt-get", "/usr/bin/dpkg"} {
		t.Run(bin, func(t *testing.T) {
			testdeps.File(t, bin)
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, filepath.Base(bin))
			if err := SetRunpath(bin, out, longRunpath); err != nil {
				t.Fatal(err)
			}
			checkReadelf(t, out, longRunpath)
			compareDynamic(t, bin, out, longRunpath)
			want, err1 := exec.Command(bin, "--version").CombinedOutput()
			got, err2 := exec.Command(out, "--version").CombinedOutput()
			if (err1 == nil) != (err2 == nil) || !bytes.Equal(want, got) {
				t.Errorf("%s --version: %v %q\noriginal: %v %q", out, err2, got, err1, want)
			}
		})
	}
	t.Run("libz3.so.4", func(t *testing.T) {
		const lib = "/usr/lib/x86_64-linux-gnu/libz3.so.4"
		testdeps.File(t, lib)
		out := filepath.Join(t.TempDir(), "libz3.so.4")
		if err := SetRunpath(lib, out, origin); err != nil {
			t.Fatal(err)
		}
		checkReadelf(t, out, origin)
		compareDynamic(t, lib, out, origin)
		list := func(p string) string {
			b, err := exec.Command("/lib64/ld-linux-x86-64.so.2", "--list", p).CombinedOutput()
			if err != nil {
				t.Fatalf("ld.so --list %s: %v %s", p, err, b)
			}
			return loadAddr.ReplaceAllString(string(b), "")
		}
		if a, b := list(lib), list(out); a != b {
			t.Errorf("ld.so --list differs:\n%s\n%s", a, b)
		}
	})
}
