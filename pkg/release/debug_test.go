package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
)

// debugFixture is a fixture built with DWARF (testdata/fixtures/debug).
func debugFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../testdata/fixtures/debug", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// debugConfig writes a packaging.yaml into dir packaging inputs (triple
// -> path) for debian12 and el9 with debug_symbols (the section's body,
// indented), and returns its path.
func debugConfig(t *testing.T, dir string, inputs map[string]string, debugSymbols string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`name: hello
summary: Hello with debug symbols
description: |
  A test build.
maintainer: Test <test@example.org>
homepage: https://example.org/hello
license: MIT
license_file: LICENSE
copyright: 2025 Test
floor:
  glibc: "2.34"
targets: [debian12, el9]
inputs:
`)
	for triple, p := range inputs {
		b.WriteString("  " + triple + ": " + p + "\n")
	}
	if debugSymbols != "" {
		b.WriteString("debug_symbols:\n" + debugSymbols)
	}
	if err := os.WriteFile(filepath.Join(dir, "LICENSE"), []byte("MIT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "packaging.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// elfBuildID reads the NT_GNU_BUILD_ID note of an ELF file, in hex.
func elfBuildID(t *testing.T, f *elf.File) string {
	t.Helper()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("reading the build-id note: %v", err)
	}
	namesz, descsz := f.ByteOrder.Uint32(b[0:]), f.ByteOrder.Uint32(b[4:])
	off := 12 + (namesz+3)&^3
	return hex.EncodeToString(b[off : off+descsz])
}

// debugLink reads a .gnu_debuglink: the file name and the CRC.
func debugLink(t *testing.T, f *elf.File) (string, uint32) {
	t.Helper()
	s := f.Section(".gnu_debuglink")
	if s == nil {
		return "", 0
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := bytes.Cut(b, []byte{0})
	if len(b) < 4 {
		t.Fatalf(".gnu_debuglink of %d bytes", len(b))
	}
	return string(name), binary.LittleEndian.Uint32(b[len(b)-4:])
}

// tarFiles reads a .tar.gz's regular files, by name.
func tarFiles(t *testing.T, p string) map[string][]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = b
		}
	}
}

// unpack extracts a deb, ddeb or rpm into a new folder with the format's
// own tools and returns it.
func unpack(t *testing.T, p string) string {
	t.Helper()
	dir := t.TempDir()
	if strings.HasSuffix(p, ".rpm") {
		testdeps.Tools(t, "rpm2cpio", "cpio")
		sh(t, dir, "sh", "-c", "rpm2cpio \"$1\" | cpio -idm --quiet", "sh", p)
	} else {
		testdeps.Tools(t, "dpkg-deb")
		sh(t, dir, "dpkg-deb", "-x", p, dir)
	}
	return dir
}

// openELF parses ELF bytes.
func openELF(t *testing.T, what string, b []byte) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return f
}

// checkStripped holds a packaged binary to its debug file: no debug
// section, a .gnu_debuglink naming link with the debug file's CRC, and
// the build-id of the input and of the debug file, whose DWARF is there.
func checkStripped(t *testing.T, what string, bin, dbg []byte, buildID, link string) {
	t.Helper()
	bf, df := openELF(t, what, bin), openELF(t, what+" debug file", dbg)
	for _, s := range bf.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("%s: packaged binary keeps %s", what, s.Name)
		}
	}
	if bf.Section(".symtab") == nil {
		t.Errorf("%s: packaged binary lost .symtab (strip --strip-debug keeps it)", what)
	}
	name, crc := debugLink(t, bf)
	if name != link || crc != crc32.ChecksumIEEE(dbg) {
		t.Errorf("%s: .gnu_debuglink %q crc %08x, want %q crc %08x", what, name, crc, link, crc32.ChecksumIEEE(dbg))
	}
	if got := elfBuildID(t, bf); got != buildID {
		t.Errorf("%s: packaged binary's build-id %s, want the input's %s", what, got, buildID)
	}
	if got := elfBuildID(t, df); got != buildID {
		t.Errorf("%s: debug file's build-id %s, want %s", what, got, buildID)
	}
	if s := df.Section(".debug_info"); s == nil || s.Type != elf.SHT_PROGBITS || s.Size == 0 {
		t.Errorf("%s: debug file has no .debug_info contents", what)
	}
}

// fixtureBuildID is the build-id of a fixture, read by debug/elf.
func fixtureBuildID(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return elfBuildID(t, openELF(t, p, b))
}

// TestDebugSymbolsSplit builds the DWARF fixtures with debug_symbols.split
// through the CLI: a debug tarball per tarball, a ddeb per deb and a
// debuginfo rpm per rpm, each holding the debug file of its package's
// binary (same build-id, found by the .gnu_debuglink the stripped binary
// carries); the manifest names them both ways and validates; a second
// build is byte-identical.
func TestDebugSymbolsSplit(t *testing.T) {
	dir := t.TempDir()
	inputs := map[string]string{
		"x86_64-unknown-linux-gnu":  debugFixture(t, "x86_64/hello-g"),
		"aarch64-unknown-linux-gnu": debugFixture(t, "aarch64/cxx-g"),
	}
	cfg := debugConfig(t, dir, inputs, "  split: true\n")
	out := filepath.Join(dir, "dist")
	if o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, o, e)
	}
	m, err := manifest.Read(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	byFile := map[string]manifest.Artifact{}
	kinds := map[string]int{}
	for _, a := range m.Artifacts {
		byFile[a.File] = a
		kinds[a.Kind]++
	}
	for _, k := range []string{"tarball", "deb", "rpm", manifest.KindDebugTarball, manifest.KindDdeb, manifest.KindDebuginfo} {
		if kinds[k] != 2 {
			t.Errorf("%d artifacts of kind %s, want 2 (one per arch): %v", kinds[k], k, kinds)
		}
	}
	for _, in := range m.Inputs {
		if want := fixtureBuildID(t, inputs[in.Triple]); in.BuildID != want {
			t.Errorf("input %s: build_id %q, want %s", in.Triple, in.BuildID, want)
		}
	}
	for _, a := range m.Artifacts {
		if manifest.IsDebug(a.Kind) {
			continue
		}
		checkDebugPair(t, out, a, byFile, fixtureBuildID(t, inputs[a.Triple]), "hello")
	}
	for _, a := range m.Artifacts {
		if len(a.SBOMs) == 0 {
			t.Errorf("%s has no SBOM", a.File)
		}
	}
	// Reproducible: a second build writes the same bytes.
	out2 := filepath.Join(dir, "dist2")
	if o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out2); code != 0 {
		t.Fatalf("second build: exit %d:\n%s%s", code, o, e)
	}
	a, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	b, _ := os.ReadFile(filepath.Join(out2, "SHA256SUMS"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("two builds differ:\n%s\n---\n%s", a, b)
	}
}

// checkDebugPair holds main artifact a and its debug artifact to each
// other: kinds, fields, and the packaged binary (the product name) against
// the debug file; a binary with a RUNPATH (a sidecar tarball's, a package
// with private libraries) keeps it.
func checkDebugPair(t *testing.T, out string, a manifest.Artifact, byFile map[string]manifest.Artifact, buildID, name string) {
	t.Helper()
	d, ok := byFile[a.Debug]
	if !ok || a.BuildID != buildID {
		t.Fatalf("%s: debug %q (listed: %v), build_id %q want %s", a.File, a.Debug, ok, a.BuildID, buildID)
	}
	want := map[string]string{"tarball": manifest.KindDebugTarball, "deb": manifest.KindDdeb, "rpm": manifest.KindDebuginfo}[a.Kind]
	if d.Kind != want || d.BuildID != buildID || d.Triple != a.Triple || d.Arch != a.Arch ||
		d.Libc != a.Libc || d.Distro != a.Distro || d.PackageVersion != a.PackageVersion || d.Debug != "" {
		t.Errorf("%s: debug artifact %+v does not match its main artifact", a.File, d)
	}
	if d.DebugFor != a.File && !(a.Runpath != "" && a.Kind == "tarball") { // a sidecar tarball shares its tarball's
		t.Errorf("%s: debug_for %s, want %s", d.File, d.DebugFor, a.File)
	}
	rel := ".build-id/" + buildID[:2] + "/" + buildID[2:] + ".debug"
	var bin, dbg []byte
	link := buildID[2:] + ".debug"
	if a.Kind == "tarball" {
		if d.DebugFile != rel {
			t.Errorf("%s: debug_file %s, want %s", d.File, d.DebugFile, rel)
		}
		entry := name
		if a.Runpath != "" {
			entry = "bin/" + name
		}
		bin, dbg = tarFiles(t, filepath.Join(out, a.File))[entry], tarFiles(t, filepath.Join(out, d.File))[rel]
	} else {
		bin, dbg, link = packagedPair(t, out, a, d, buildID, name)
	}
	checkStripped(t, a.File, bin, dbg, buildID, link)
	if a.Runpath != "" {
		if rp, err := openELF(t, a.File, bin).DynString(elf.DT_RUNPATH); err != nil || len(rp) != 1 || rp[0] != a.Runpath {
			t.Errorf("%s: the stripped binary's RUNPATH %q (%v), want %s", a.File, rp, err, a.Runpath)
		}
	}
}

// packagedPair unpacks package a and its debug package d: the binary,
// the debug file at its build-id path, and the .gnu_debuglink name the
// format gives (an rpm's names the debuginfo's /usr/lib/debug/usr/bin
// file). A ddeb depends on its package at its version, as dh_strip's do;
// a debuginfo rpm requires nothing, as find-debuginfo's.
func packagedPair(t *testing.T, out string, a, d manifest.Artifact, buildID, name string) (bin, dbg []byte, link string) {
	t.Helper()
	rel := ".build-id/" + buildID[:2] + "/" + buildID[2:] + ".debug"
	if d.DebugFile != "/usr/lib/debug/"+rel {
		t.Errorf("%s: debug_file %s, want /usr/lib/debug/%s", d.File, d.DebugFile, rel)
	}
	if want := name + " (= " + a.PackageVersion + ")"; a.Kind == "deb" && (len(d.Relations) != 1 || d.Relations[0] != want) {
		t.Errorf("%s: relations %v, want [%s]", d.File, d.Relations, want)
	}
	mainDir, dbgDir := unpack(t, filepath.Join(out, a.File)), unpack(t, filepath.Join(out, d.File))
	bin, err := os.ReadFile(filepath.Join(mainDir, "usr/bin", name))
	if err != nil {
		t.Fatal(err)
	}
	dbg, err = os.ReadFile(filepath.Join(dbgDir, "usr/lib/debug", rel)) // a link to the named file in an rpm
	if err != nil {
		t.Fatal(err)
	}
	link = buildID[2:] + ".debug"
	if a.Kind == "rpm" {
		named, _ := filepath.Glob(filepath.Join(dbgDir, "usr/lib/debug/usr/bin", name+"-*.debug"))
		if len(named) != 1 {
			t.Fatalf("%s: /usr/lib/debug/usr/bin holds %v, want one %s-V-R.ARCH.debug", d.File, named, name)
		}
		link = filepath.Base(named[0])
		if target, err := os.Readlink(filepath.Join(mainDir, "usr/lib/.build-id", buildID[:2], buildID[2:])); err != nil || !strings.HasSuffix(target, "/usr/bin/"+name) {
			t.Errorf("%s: build-id link -> %q (%v), want the binary", a.File, target, err)
		}
	}
	return bin, dbg, link
}

// TestDebugSymbolsRefused: an input without a build-id (with the link
// flag that adds one), one without debug sections, a debug file of
// another build and a missing one are refused through the CLI, naming the
// input and the configuration's line, and --out is left empty.
func TestDebugSymbolsRefused(t *testing.T) {
	testdeps.Tools(t, "objcopy")
	src := t.TempDir()
	stripped, otherDebug := filepath.Join(src, "hello-stripped"), filepath.Join(src, "cxx.debug")
	sh(t, src, "objcopy", "--strip-debug", debugFixture(t, "x86_64/hello-g"), stripped)
	sh(t, src, "objcopy", "--only-keep-debug", debugFixture(t, "x86_64/cxx-g"), otherDebug)
	const gnu = "x86_64-unknown-linux-gnu"
	for _, tc := range []struct {
		name, input, section string
		want                 []string
	}{
		{"no build-id", debugFixture(t, "x86_64/hello-g-nobuildid"), "  split: true\n",
			[]string{"packaging.yaml:", "input " + gnu, "hello-g-nobuildid", "-Wl,--build-id", "without_build_id: unstripped"}},
		{"no debug sections", "../../testdata/fixtures/x86_64/hello-bookworm", "  split: true\n",
			[]string{"packaging.yaml:", "hello-bookworm) has no debug sections: build it with -g (Rust: debug = 1 or 2 in the release profile) or give its debug file under debug_symbols.files, or turn debug_symbols.split off"}},
		{"debug file of another build", stripped, "  split: true\n  files:\n    " + stripped + ": " + otherDebug + "\n",
			[]string{"packaging.yaml:", "debug file " + otherDebug + " has build-id " + fixtureBuildID(t, debugFixture(t, "x86_64/cxx-g")),
				"but input " + gnu, "has " + fixtureBuildID(t, debugFixture(t, "x86_64/hello-g"))}},
		{"missing debug file", stripped, "  split: true\n  files:\n    " + stripped + ": " + src + "/nope.debug\n",
			[]string{"packaging.yaml:", "the debug file " + src + "/nope.debug of input " + gnu + " does not exist"}},
		{"debug file a FIFO", stripped, "  split: true\n  files:\n    " + stripped + ": " + src + "/fifo\n",
			[]string{"packaging.yaml:", "is a named pipe, not a regular file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if strings.Contains(tc.section, "/fifo") {
				if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(filepath.Join(src, "fifo"))
			}
			input := tc.input
			if !filepath.IsAbs(input) {
				input, _ = filepath.Abs(input)
			}
			cfg := debugConfig(t, dir, map[string]string{gnu: input}, tc.section)
			before := hostState(src)
			out := filepath.Join(dir, "dist")
			o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out)
			if code == 0 {
				t.Fatalf("exit 0:\n%s", o)
			}
			for _, w := range tc.want {
				if !strings.Contains(e, w) {
					t.Errorf("stderr lacks %q:\n%s", w, e)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("--out holds %d entries after a refused build", len(entries))
			}
			if after := hostState(src); after != before {
				t.Errorf("the inputs' folder changed:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// TestDebugSymbolsUnstripped: without_build_id: unstripped ships an input
// without a build-id as given (its bytes), warns, and plans no debug
// artifact for it; the other input is split.
func TestDebugSymbolsUnstripped(t *testing.T) {
	dir := t.TempDir()
	nobuild := debugFixture(t, "x86_64/hello-g-nobuildid")
	cfg := debugConfig(t, dir, map[string]string{
		"x86_64-unknown-linux-gnu":  nobuild,
		"aarch64-unknown-linux-gnu": debugFixture(t, "aarch64/hello-g"),
	}, "  split: true\n  without_build_id: unstripped\n")
	out := filepath.Join(dir, "dist")
	o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, o, e)
	}
	if !strings.Contains(e, "warning: input x86_64-unknown-linux-gnu") || !strings.Contains(e, "has no GNU build-id: it is shipped unstripped") {
		t.Errorf("no warning about the unstripped input:\n%s", e)
	}
	m, err := manifest.Read(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	debugs := 0
	for _, a := range m.Artifacts {
		if a.Triple == "x86_64-unknown-linux-gnu" && (manifest.IsDebug(a.Kind) || a.Debug != "" || a.BuildID != "") {
			t.Errorf("%s: the unstripped input got debug fields or a debug artifact: %+v", a.File, a)
		}
		if manifest.IsDebug(a.Kind) {
			debugs++
		}
	}
	if debugs != 3 { // aarch64: the debug tarball, ddeb and debuginfo rpm
		t.Errorf("%d debug artifacts, want 3 (aarch64's)", debugs)
	}
	want, _ := os.ReadFile(nobuild)
	if got := tarFiles(t, filepath.Join(out, "hello-x86_64-unknown-linux-gnu.tar.gz"))["hello"]; !bytes.Equal(got, want) {
		t.Errorf("the unstripped input's tarball binary is not the input (%d bytes, want %d)", len(got), len(want))
	}
}

// TestDebugSymbolsGivenFile: a stripped input and its separate debug
// file (debug_symbols.files) ship that debug file, byte for byte, and the
// binary gets relpack's .gnu_debuglink.
func TestDebugSymbolsGivenFile(t *testing.T) {
	testdeps.Tools(t, "objcopy")
	dir := t.TempDir()
	stripped, dbg := filepath.Join(dir, "hello-stripped"), filepath.Join(dir, "hello.debug")
	sh(t, dir, "objcopy", "--only-keep-debug", debugFixture(t, "x86_64/hello-g"), dbg)
	sh(t, dir, "objcopy", "--strip-debug", "--add-gnu-debuglink="+dbg, debugFixture(t, "x86_64/hello-g"), stripped)
	cfg := debugConfig(t, dir, map[string]string{"x86_64-unknown-linux-gnu": "hello-stripped"}, "  split: true\n  files:\n    hello-stripped: hello.debug\n")
	out := filepath.Join(dir, "dist")
	if o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out, "--only", "tarball"); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, o, e)
	}
	id := fixtureBuildID(t, debugFixture(t, "x86_64/hello-g"))
	rel := ".build-id/" + id[:2] + "/" + id[2:] + ".debug"
	want, _ := os.ReadFile(dbg)
	got := tarFiles(t, filepath.Join(out, "hello-x86_64-unknown-linux-gnu-debug.tar.gz"))[rel]
	if !bytes.Equal(got, want) {
		t.Errorf("the debug tarball's %s is not the given debug file (%d bytes, want %d)", rel, len(got), len(want))
	}
	bin := tarFiles(t, filepath.Join(out, "hello-x86_64-unknown-linux-gnu.tar.gz"))["hello"]
	checkStripped(t, "tarball", bin, got, id, id[2:]+".debug")
}

// TestDebugSymbolsSelected: --only deb selects the debs and their ddebs,
// --only ddeb the ddebs alone; planned[] names every debug artifact.
func TestDebugSymbolsSelected(t *testing.T) {
	dir := t.TempDir()
	cfg := debugConfig(t, dir, map[string]string{"x86_64-unknown-linux-gnu": debugFixture(t, "x86_64/hello-g")}, "  split: true\n")
	for _, tc := range []struct {
		only  string
		kinds []string
	}{
		{"deb", []string{"deb", manifest.KindDdeb}},
		{"ddeb", []string{manifest.KindDdeb}},
		{"debug-tarball", []string{manifest.KindDebugTarball}},
		{"el9", []string{"rpm", manifest.KindDebuginfo}},
	} {
		out := filepath.Join(dir, "dist-"+tc.only)
		if o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.2.3", "--out", out, "--only", tc.only); code != 0 {
			t.Fatalf("--only %s: exit %d:\n%s%s", tc.only, code, o, e)
		}
		m, err := manifest.Read(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range m.Artifacts {
			got = append(got, a.Kind)
		}
		if strings.Join(got, " ") != strings.Join(tc.kinds, " ") && !(len(got) == 2 && got[0] == tc.kinds[1] && got[1] == tc.kinds[0]) {
			t.Errorf("--only %s built %v, want %v", tc.only, got, tc.kinds)
		}
		if len(m.Planned) != 6 {
			t.Errorf("--only %s: planned %d artifacts, want 6 (tarball, deb, rpm and their debug artifacts): %v", tc.only, len(m.Planned), m.Planned)
		}
	}
}

// TestDemoDebugSymbols: the demo (debug_symbols: {split: true}) ships
// every binary stripped against its debug artifact: the tarballs, the
// sidecar tarballs and the packages with private libraries (both RUNPATH
// edits made on the stripped binary), each input's build-id recorded.
func TestDemoDebugSymbols(t *testing.T) {
	out := demoDist(t)
	m, err := manifest.Read(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, in := range m.Inputs {
		if in.BuildID == "" {
			t.Errorf("input %s %s: no build_id", in.Triple, in.File)
		}
		ids[in.Triple+" "+in.BuildID] = true
	}
	byFile := map[string]manifest.Artifact{}
	for _, a := range m.Artifacts {
		byFile[a.File] = a
	}
	n, debugs, sidecars := 0, 0, 0
	for _, a := range m.Artifacts {
		if manifest.IsDebug(a.Kind) {
			debugs++
			continue
		}
		if a.Kind == "tarball" && a.Runpath != "" {
			sidecars++
		}
		if !ids[a.Triple+" "+a.BuildID] {
			t.Errorf("%s: build_id %q is no %s input's", a.File, a.BuildID, a.Triple)
		}
		checkDebugPair(t, out, a, byFile, a.BuildID, "openshell-gateway")
		n++
	}
	if n != debugs+sidecars || sidecars == 0 { // a sidecar tarball shares its tarball's debug tarball
		t.Errorf("%d main artifacts (%d sidecar tarballs), %d debug artifacts", n, sidecars, debugs)
	}
}
