package capture

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/distro"
)

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// readelfExports is the oracle for Exports: `readelf --dyn-syms -W`, keeping
// the same rows (defined; GLOBAL, WEAK or UNIQUE; FUNC, OBJECT, TLS or
// IFUNC; not hidden) and writing NAME@@VER and NAME@VER as NAME@VER.
func readelfExports(t *testing.T, file string) []string {
	t.Helper()
	nodes := map[string]bool{}
	for _, d := range readelfVerdefs(t, file) {
		nodes[d] = true
	}
	out := run(t, "", testdeps.Tool(t, "readelf"), "--dyn-syms", "-W", file)
	seen := map[string]bool{}
	var exports []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// aarch64: "DEFAULT [VARIANT_PCS] 13 name": drop st_other flags.
		if len(f) > 6 && strings.HasPrefix(f[6], "[") {
			f = append(f[:6:6], f[7:]...)
		}
		// Num: Value Size Type Bind Vis Ndx Name
		if len(f) < 8 || !strings.HasSuffix(f[0], ":") || f[0] == "Num:" {
			continue
		}
		typ, bind, vis, ndx, name := f[3], f[4], f[5], f[6], f[7]
		if ndx == "UND" {
			continue
		}
		switch bind {
		case "GLOBAL", "WEAK", "UNIQUE":
		default:
			continue
		}
		switch typ {
		case "FUNC", "OBJECT", "TLS", "IFUNC":
		default:
			continue
		}
		if vis == "HIDDEN" || vis == "INTERNAL" {
			continue
		}
		name = strings.Replace(name, "@@", "@", 1)
		if n, _, _ := strings.Cut(name, "@"); nodes[n] && ndx == "ABS" {
			continue // the version node's own symbol (readelf prints it bare)
		}
		if !seen[name] {
			seen[name] = true
			exports = append(exports, name)
		}
	}
	sort.Strings(exports)
	return exports
}

// readelfVerdefs is the oracle for VersionDefs: the names of
// `readelf -V`'s version definition section, without the base entry.
func readelfVerdefs(t *testing.T, file string) []string {
	t.Helper()
	out := run(t, "", testdeps.Tool(t, "readelf"), "-V", "-W", file)
	var defs []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Version definition section") {
			in = true
			continue
		}
		if in && (strings.HasPrefix(line, "Version needs section") || strings.HasPrefix(line, "Version symbols section")) {
			break
		}
		// "  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: GLIBCXX_3.4"
		if in && strings.Contains(line, "Rev:") && !strings.Contains(line, "Flags: BASE") {
			if i := strings.Index(line, "Name: "); i >= 0 {
				defs = append(defs, strings.TrimSpace(line[i+6:]))
			}
		}
	}
	distro.SortVersionNames(defs)
	return defs
}

// sonameOf is readelf's DT_SONAME.
func sonameOf(t *testing.T, file string) string {
	t.Helper()
	out := run(t, "", testdeps.Tool(t, "readelf"), "-d", "-W", file)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "(SONAME)") {
			if i, j := strings.Index(line, "["), strings.LastIndex(line, "]"); i >= 0 && j > i {
				return line[i+1 : j]
			}
		}
	}
	return ""
}

// elfLibraries lists the ELF shared objects with a SONAME under root
// (regular files only), by soname.
func elfLibraries(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		b := make([]byte, 4)
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		f.Read(b)
		f.Close()
		if string(b) != "\x7fELF" {
			return nil
		}
		if so := sonameOf(t, p); so != "" {
			out[so] = p
		}
		return nil
	})
	return out
}

func compareSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var extra, missing []string
	for _, s := range got {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	for _, s := range want {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	t.Errorf("%s: %d captured, %d from the oracle; not in the oracle %.10q; missing %.10q", what, len(got), len(want), extra, missing)
}

// TestRealDebs captures Debian's real libz3-4, libstdc++6 and libgcc-s1
// (bullseye, bookworm and trixie, amd64 and arm64; downloaded and cached by
// scripts/capture-debian.sh --download-only) and holds every fact to the
// tools: dpkg-deb -f for the package and version, dpkg-deb -I for shlibs,
// readelf for the soname, version definitions and exports of every
// library dpkg-deb -x unpacks.
func TestRealDebs(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Debian packages")
	}
	script := testdeps.Script(t, "scripts/capture-debian.sh")
	dpkgDeb := testdeps.Tool(t, "dpkg-deb")
	out := run(t, "", script, "--download-only", "bullseye", "bookworm", "trixie")
	debs := strings.Fields(out)
	if len(debs) != 36 {
		t.Fatalf("capture-debian.sh --download-only gave %d files, want 36: %q", len(debs), debs)
	}
	for _, deb := range debs {
		wantArch := "x86_64"
		if strings.HasSuffix(deb, "_arm64.deb") {
			wantArch = "aarch64"
		}
		t.Run(filepath.Base(deb), func(t *testing.T) {
			t.Parallel()
			pkg, err := File(deb)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSpace(run(t, "", dpkgDeb, "-f", deb, "Package"))
			version := strings.TrimSpace(run(t, "", dpkgDeb, "-f", deb, "Version"))
			if pkg.Name != name || pkg.Version != version {
				t.Errorf("captured %s %s, dpkg-deb -f says %s %s", pkg.Name, pkg.Version, name, version)
			}
			// dpkg-deb -I DEB shlibs fails when the package has none.
			var shlibs string
			if b, err := exec.Command(dpkgDeb, "-I", deb, "shlibs").Output(); err == nil {
				shlibs = string(b)
			}
			// and DEB symbols when it has no symbols file.
			var symbols string
			if b, err := exec.Command(dpkgDeb, "-I", deb, "symbols").Output(); err == nil {
				symbols = string(b)
			}
			dir := t.TempDir()
			run(t, "", dpkgDeb, "-x", deb, dir)
			files := elfLibraries(t, dir)
			if len(files) != len(pkg.Libraries) {
				t.Errorf("captured %d libraries, dpkg-deb -x unpacks %d: %v", len(pkg.Libraries), len(files), files)
			}
			for _, l := range pkg.Libraries {
				file, ok := files[l.Soname]
				if !ok {
					t.Errorf("captured %s, which no unpacked file has as SONAME", l.Soname)
					continue
				}
				if l.Arch != wantArch || l.Package != name || l.PackageVersion != version || !strings.HasPrefix(version[strings.Index(version, ":")+1:], l.Version) {
					t.Errorf("%s: %+v", l.Soname, l)
				}
				if want := filepath.Base(deb) + " sha256:"; !strings.HasPrefix(l.Source, want) {
					t.Errorf("source %q, want %s...", l.Source, want)
				}
				sum := strings.Fields(run(t, "", testdeps.Tool(t, "sha256sum"), deb))[0]
				if !strings.HasSuffix(l.Source, sum) {
					t.Errorf("source %q, sha256sum says %s", l.Source, sum)
				}
				// shlibs: "libz3 4 libz3-4 (>= 4.8.10)"
				wantShlibs := ""
				for _, line := range strings.Split(shlibs, "\n") {
					f := strings.Fields(line)
					if len(f) >= 3 && f[0]+".so."+f[1] == l.Soname {
						wantShlibs = strings.Join(f[2:], " ")
					}
				}
				if l.Shlibs != wantShlibs {
					t.Errorf("%s: shlibs %q, dpkg-deb -I says %q", l.Soname, l.Shlibs, wantShlibs)
				}
				// symbols: the soname's " NAME@VERSION MINVER" lines, and
				// the smallest MINVER as dpkg --compare-versions orders them.
				var wantSyms []string
				smallest, in, seen := "", false, map[string]bool{}
				for _, line := range strings.Split(symbols, "\n") {
					f := strings.Fields(line)
					switch {
					case line != "" && line[0] != ' ' && len(f) >= 2:
						in = f[0] == l.Soname
					case in && len(f) == 2 && line[0] == ' ':
						wantSyms = append(wantSyms, f[0]+" "+f[1])
						if !seen[f[1]] && (smallest == "" || exec.Command("dpkg", "--compare-versions", f[1], "lt", smallest).Run() == nil) {
							smallest = f[1]
						}
						seen[f[1]] = true
					}
				}
				compareSets(t, l.Soname+" symbols", l.Symbols, wantSyms)
				if l.SymbolsSmallest != smallest {
					t.Errorf("%s: symbols_smallest_version %q, dpkg --compare-versions says %q", l.Soname, l.SymbolsSmallest, smallest)
				}
				compareSets(t, l.Soname+" exports", l.Exports, readelfExports(t, file))
				compareSets(t, l.Soname+" version_defs", l.VersionDefs, readelfVerdefs(t, file))
				if len(l.Exports) < 10 {
					t.Errorf("%s exports only %d symbols", l.Soname, len(l.Exports))
				}
			}
		})
	}
}

// TestRPMs builds rpms with rpmbuild (a small versioned shared library,
// payloads gzip, xz and zstd) and holds the capture to rpm -qp and to
// readelf on the file rpm2cpio | cpio unpacks.
func TestRPMs(t *testing.T) {
	gcc := testdeps.Tool(t, "gcc")
	rpmbuild := testdeps.Tool(t, "rpmbuild")
	rpm := testdeps.Tool(t, "rpm")
	testdeps.Tools(t, "rpm2cpio", "cpio", "sh")
	dir := t.TempDir()
	src := filepath.Join(dir, "demo.c")
	os.WriteFile(src, []byte(`
int demo_one(void) { return 1; }
int demo_two(void) { return 2; }
int demo_counter = 3;
static int hidden(void) { return 4; }
int demo_three(void) { return hidden(); }
`), 0o644)
	os.WriteFile(filepath.Join(dir, "demo.map"), []byte("DEMO_1.0 { global: demo_one; demo_counter; local: *; };\nDEMO_2.0 { global: demo_two; } DEMO_1.0;\n"), 0o644)
	lib := filepath.Join(dir, "libdemo.so.1.2.3")
	run(t, dir, gcc, "-shared", "-fPIC", "-O2", "-Wl,-soname,libdemo.so.1", "-Wl,--version-script="+filepath.Join(dir, "demo.map"), "-o", lib, src)
	spec := fmt.Sprintf(`Name: demo-libs
Epoch: 2
Version: 1.2.3
Release: 4.fc41
Summary: capture test library
License: MIT
%%description
A small shared library for relpack's capture tests.
%%install
mkdir -p %%{buildroot}/usr/lib64
cp %s %%{buildroot}/usr/lib64/libdemo.so.1.2.3
ln -s libdemo.so.1.2.3 %%{buildroot}/usr/lib64/libdemo.so.1
%%files
/usr/lib64/libdemo.so.1.2.3
/usr/lib64/libdemo.so.1
`, lib)
	os.WriteFile(filepath.Join(dir, "demo.spec"), []byte(spec), 0o644)
	for _, payload := range []string{"w9.gzdio", "w6.xzdio", "w19.zstdio", "w9.bzdio", "w.ufdio"} {
		t.Run(payload, func(t *testing.T) {
			top := filepath.Join(dir, payload)
			run(t, dir, rpmbuild, "-bb", "--nodeps", "--quiet",
				"--define", "_topdir "+top,
				"--define", "_binary_payload "+payload,
				"--define", "debug_package %{nil}",
				"--define", "__os_install_post %{nil}",
				"--define", "_build_id_links none",
				"--target", "x86_64-linux",
				filepath.Join(dir, "demo.spec"))
			rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
			if len(rpms) != 1 {
				t.Fatalf("rpmbuild made %v", rpms)
			}
			pkg, err := File(rpms[0])
			if err != nil {
				t.Fatal(err)
			}
			q := strings.Fields(run(t, "", rpm, "-qp", "--qf", "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{VERSION}", rpms[0]))
			if pkg.Format != "rpm" || pkg.Name != q[0] || pkg.Version != q[1] || pkg.Upstream != q[2] {
				t.Errorf("captured %s %s %s %s, rpm -qp says %q", pkg.Format, pkg.Name, pkg.Version, pkg.Upstream, q)
			}
			unpacked := filepath.Join(top, "unpacked")
			os.MkdirAll(unpacked, 0o755)
			run(t, unpacked, "sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", rpms[0])
			file := filepath.Join(unpacked, "usr", "lib64", "libdemo.so.1.2.3")
			if len(pkg.Libraries) != 1 {
				t.Fatalf("libraries %+v", pkg.Libraries)
			}
			l := pkg.Libraries[0]
			if l.Soname != "libdemo.so.1" || l.Soname != sonameOf(t, file) || l.Arch != "x86_64" || l.Package != "demo-libs" ||
				l.Version != "1.2.3" || l.PackageVersion != "2:1.2.3-4.fc41" || l.Shlibs != "" {
				t.Errorf("%+v", l)
			}
			compareSets(t, "exports", l.Exports, readelfExports(t, file))
			compareSets(t, "version_defs", l.VersionDefs, readelfVerdefs(t, file))
			want := []string{"demo_counter@DEMO_1.0", "demo_one@DEMO_1.0", "demo_two@DEMO_2.0"}
			if !reflect.DeepEqual(l.Exports, want) {
				t.Errorf("exports %q, want %q", l.Exports, want)
			}
			if !reflect.DeepEqual(l.VersionDefs, []string{"DEMO_1.0", "DEMO_2.0"}) {
				t.Errorf("version_defs %q", l.VersionDefs)
			}
			// What Write writes, ParseFacts loads back unchanged.
			w, err := Write(filepath.Join(top, "facts"), []*Package{pkg})
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != 1 || w[0].Name != "demo-libs_x86_64.yaml" {
				t.Fatalf("wrote %+v", w)
			}
			data, _ := os.ReadFile(w[0].Path)
			back, err := distro.ParseFacts(w[0].Name, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, pkg.Libraries) {
				t.Errorf("round trip:\n%+v\n%+v", back, pkg.Libraries)
			}
			whole, _ := os.ReadFile(rpms[0])
			for cut := 0; cut < len(whole); cut += 1 + len(whole)/89 {
				if _, err := Read("cut.rpm", bytes.NewReader(whole[:cut]), int64(cut)); err == nil {
					t.Errorf("cut at %d of %d was captured", cut, len(whole))
				}
			}
		})
	}
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{
		"4.8.12-3.1":        "4.8.12",
		"1:4.8.12-3.1":      "4.8.12",
		"12.2.0-14+deb12u1": "12.2.0",
		"4.8.10+dfsg-1":     "4.8.10",
		"4.13.3-1":          "4.13.3",
		"1.0":               "1.0",
		"2.0~rc1-1":         "2.0",
	} {
		if got := UpstreamVersion(in); got != want {
			t.Errorf("UpstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseShlibsAndSymbols(t *testing.T) {
	sh := parseShlibs([]byte("libz3 4 libz3-4 (>= 4.8.10)\nudeb: libz3 4 libz3-4-udeb\n# comment\nlibfoo 1.2 libfoo1.2\n"))
	if sh["libz3.so.4"] != "libz3-4 (>= 4.8.10)" || sh["libfoo-1.2.so"] != "libfoo1.2" {
		t.Errorf("%v", sh)
	}
	sy := parseSymbols([]byte("libstdc++.so.6 libstdc++6 #MINVER#\n| libalt #MINVER#\n* Build-Depends-Package: x\n GLIBCXX_3.4.30@GLIBCXX_3.4.30 12\n _ZNSt3foo@GLIBCXX_3.4 4.1.1\n _ZNSt3bar@GLIBCXX_3.4 4.9\n _ZNSt3baz@GLIBCXX_3.4 4.3.0~rc2\n _ZNSt3alt@GLIBCXX_3.4 1.0 1\n#MISSING: 5# _ZNSt3old@GLIBCXX_3.4 4.0\n plain@Base 4.3\nlibgcc_s.so.1 libgcc-s1 #MINVER#\n GCC_3.0@GCC_3.0 3.0\nlibempty.so.1 libempty1 #MINVER#\n"))
	want := map[string]debSymbols{
		// 4.0 from the #MISSING# symbol: smallest, never looked up; the
		// DEP_ID 1 symbol belongs to the alternative template.
		"libstdc++.so.6": {[]string{"GLIBCXX_3.4.30@GLIBCXX_3.4.30 12", "_ZNSt3bar@GLIBCXX_3.4 4.9", "_ZNSt3baz@GLIBCXX_3.4 4.3.0~rc2", "_ZNSt3foo@GLIBCXX_3.4 4.1.1", "plain@Base 4.3"}, "4.0"},
		"libgcc_s.so.1":  {[]string{"GCC_3.0@GCC_3.0 3.0"}, "3.0"},
	}
	if !reflect.DeepEqual(sy, want) {
		t.Errorf("%v", sy)
	}
	// 4.3~rc2 sorts before 4.3 (dpkg's tilde), 4.3 before 4.3.0~rc2.
	sy = parseSymbols([]byte("liba.so.1 liba1 #MINVER#\n c@Base 4.3.0~rc2\n a@Base 4.3\n b@Base 4.3~rc2\n"))
	if sy["liba.so.1"].smallest != "4.3~rc2" {
		t.Errorf("smallest %q", sy["liba.so.1"].smallest)
	}
}

func TestNotAPackage(t *testing.T) {
	if _, err := Read("x", strings.NewReader("hello"), 5); err == nil || !strings.Contains(err.Error(), "neither a .deb") {
		t.Errorf("err = %v", err)
	}
	deb := "!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"
	if _, err := Read("x.deb", strings.NewReader(deb), int64(len(deb))); err == nil {
		t.Error("a deb without control and data was accepted")
	}
}

// TestTruncated cuts real package files short at many places: each cut
// is an error, never a panic or a capture of part of the package.
func TestTruncated(t *testing.T) {
	gcc := testdeps.Tool(t, "gcc")
	dpkgDeb := testdeps.Tool(t, "dpkg-deb")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.c"), []byte("int a_one(void) { return 1; }\n"), 0o644)
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr", "lib"), 0o755)
	run(t, dir, gcc, "-shared", "-fPIC", "-Wl,-soname,liba.so.1", "-o", filepath.Join(root, "usr", "lib", "liba.so.1"), "a.c")
	os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte("Package: liba1\nVersion: 1:1.0-2\nArchitecture: amd64\nMaintainer: x <x@example.org>\nDescription: test\n"), 0o644)
	os.WriteFile(filepath.Join(root, "DEBIAN", "shlibs"), []byte("liba 1 liba1 (>= 1:1.0)\n"), 0o644)
	// A 32-bit library is refused by name (dnf download can fetch i686).
	os.MkdirAll(filepath.Join(dir, "root32", "DEBIAN"), 0o755)
	os.MkdirAll(filepath.Join(dir, "root32", "usr", "lib"), 0o755)
	run(t, dir, gcc, "-m32", "-nostdlib", "-shared", "-fPIC", "-Wl,-soname,liba.so.1", "-o", filepath.Join(dir, "root32", "usr", "lib", "liba.so.1"), "a.c")
	os.WriteFile(filepath.Join(dir, "root32", "DEBIAN", "control"), []byte("Package: liba1\nVersion: 1.0-2\nArchitecture: i386\nMaintainer: x <x@example.org>\nDescription: test\n"), 0o644)
	run(t, dir, dpkgDeb, "--root-owner-group", "-b", filepath.Join(dir, "root32"), filepath.Join(dir, "liba1_i386.deb"))
	if _, err := File(filepath.Join(dir, "liba1_i386.deb")); err == nil || !strings.Contains(err.Error(), "x86_64 and aarch64") {
		t.Errorf("i386 library: %v", err)
	}
	for _, comp := range []string{"gzip", "xz", "zstd", "none"} {
		deb := filepath.Join(dir, "liba1_"+comp+".deb")
		run(t, dir, dpkgDeb, "--root-owner-group", "-Z"+comp, "-b", root, deb)
		data, _ := os.ReadFile(deb)
		pkg, err := Read("liba1.deb", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", comp, err)
		}
		l := pkg.Libraries[0]
		if pkg.Name != "liba1" || l.Version != "1.0" || l.PackageVersion != "1:1.0-2" || l.Shlibs != "liba1 (>= 1:1.0)" || !reflect.DeepEqual(l.Exports, []string{"a_one"}) {
			t.Errorf("%s: %+v", comp, l)
		}
		for cut := 0; cut < len(data); cut += 1 + len(data)/97 {
			if _, err := Read("cut.deb", bytes.NewReader(data[:cut]), int64(cut)); err == nil {
				t.Errorf("%s: cut at %d of %d was captured", comp, cut, len(data))
			}
		}
	}
}
