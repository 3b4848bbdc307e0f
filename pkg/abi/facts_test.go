package abi

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestFixtureFacts checks each fact Inspect reports against what the
// fixture was built to be (testdata/fixtures/README.md).
func TestFixtureFacts(t *testing.T) {
	cases := []struct {
		file           string
		machine        string
		typ            FileType
		linkage        Linkage
		libc           Libc
		interp, soname string
		needed         []string
		runpath, rpath []string
		highest        map[string]string
	}{
		{file: "x86_64/hello-2.28", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", needed: []string{"libc.so.6"}, highest: map[string]string{"GLIBC": "2.2.5"}},
		{file: "x86_64/hello-nopie", machine: "x86_64", typ: TypeExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", needed: []string{"libc.so.6"}, highest: map[string]string{"GLIBC": "2.2.5"}},
		{file: "x86_64/math-2.29", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", highest: map[string]string{"GLIBC": "2.29"}},
		{file: "x86_64/gettid-2.30", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", highest: map[string]string{"GLIBC": "2.30"}},
		{file: "x86_64/hello-bookworm", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", needed: []string{"libc.so.6"}, highest: map[string]string{"GLIBC": "2.34"}},
		{file: "x86_64/libz3.so.4", machine: "x86_64", typ: TypeSharedLibrary, linkage: LinkageDynamic, libc: LibcGlibc,
			soname: "libz3.so.4", needed: []string{"libc.so.6"}, highest: map[string]string{}},
		{file: "x86_64/libdemo.so", machine: "x86_64", typ: TypeSharedLibrary, linkage: LinkageDynamic, libc: LibcGlibc,
			soname: "libdemo.so.1", needed: []string{"libc.so.6"}, highest: map[string]string{"GLIBC": "2.17"}},
		{file: "x86_64/z3-user", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", needed: []string{"libz3.so.4", "libc.so.6"}},
		{file: "x86_64/runpath", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", runpath: []string{"$ORIGIN/../lib"}, rpath: []string{}},
		{file: "x86_64/rpath", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib64/ld-linux-x86-64.so.2", runpath: []string{}, rpath: []string{"$ORIGIN/../lib"}},
		{file: "x86_64/cxx-hello", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			needed:  []string{"libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"},
			highest: map[string]string{"GLIBC": "2.34", "GLIBCXX": "3.4.29", "CXXABI": "1.3", "GCC": "3.0"}},
		{file: "x86_64/cxx-hello-bullseye", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			highest: map[string]string{"GLIBC": "2.2.5", "GLIBCXX": "3.4.21", "CXXABI": "1.3", "GCC": "3.0"}},
		{file: "x86_64/hello-musl-static", machine: "x86_64", typ: TypeExecutable, linkage: LinkageStatic, needed: []string{}},
		{file: "aarch64/hello-2.28", machine: "aarch64", typ: TypePIEExecutable, linkage: LinkageDynamic, libc: LibcGlibc,
			interp: "/lib/ld-linux-aarch64.so.1", needed: []string{"libc.so.6"}, highest: map[string]string{"GLIBC": "2.17"}},
		{file: "aarch64/hello-musl-static", machine: "aarch64", typ: TypeExecutable, linkage: LinkageStatic, needed: []string{}},
		{file: "demo/x86_64-unknown-linux-gnu/openshell-gateway", machine: "x86_64", typ: TypePIEExecutable, linkage: LinkageDynamic,
			libc: LibcGlibc, needed: []string{"libz3.so.4", "libdl.so.2", "libc.so.6"}, highest: map[string]string{"GLIBC": "2.3"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := Inspect(filepath.Join(fixtureDir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != c.machine || f.Type != c.typ || f.Linkage != c.linkage || f.Class != "ELF64" || f.Endian != "little" {
				t.Errorf("machine %s type %s linkage %s class %s endian %s", f.Machine, f.Type, f.Linkage, f.Class, f.Endian)
			}
			if c.libc != "" && f.Libc != c.libc {
				t.Errorf("libc %s, want %s", f.Libc, c.libc)
			}
			if f.Interpreter != c.interp && c.interp != "" || c.interp == "" && c.typ == TypeSharedLibrary && f.Interpreter != "" {
				t.Errorf("interpreter %q, want %q", f.Interpreter, c.interp)
			}
			if f.Soname != c.soname {
				t.Errorf("soname %q, want %q", f.Soname, c.soname)
			}
			if c.needed != nil && !reflect.DeepEqual(f.Needed, c.needed) {
				t.Errorf("needed %q, want %q", f.Needed, c.needed)
			}
			if c.runpath != nil && !reflect.DeepEqual(f.Runpath, c.runpath) {
				t.Errorf("runpath %q, want %q", f.Runpath, c.runpath)
			}
			if c.rpath != nil && !reflect.DeepEqual(f.Rpath, c.rpath) {
				t.Errorf("rpath %q, want %q", f.Rpath, c.rpath)
			}
			if c.highest != nil {
				got := map[string]string{}
				for _, h := range f.Highest {
					got[h.Family] = h.Version
				}
				if !reflect.DeepEqual(got, c.highest) {
					t.Errorf("highest %v, want %v", got, c.highest)
				}
			}
		})
	}
}

func TestGNUHashAndDefines(t *testing.T) {
	f, err := Inspect(filepath.Join(fixtureDir, "x86_64/hello-2.28"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Hash, []string{"gnu"}) {
		t.Errorf("hash tables %v, want [gnu] (GNU ld's default hash style)", f.Hash)
	}
	// glibc's own libc defines every GLIBC_* version and needs
	// GLIBC_PRIVATE from ld.so: a real file with a numberless need.
	libc, err := Inspect("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(libc.Defines, " "), "GLIBC_2.28") || libc.Soname != "libc.so.6" {
		t.Errorf("libc.so.6 defines %v", libc.Defines)
	}
	if !reflect.DeepEqual(libc.Special, []string{GLIBCPrivate}) {
		t.Errorf("libc.so.6 special needs %v, want [GLIBC_PRIVATE]", libc.Special)
	}
	p := manylinuxPolicy("2.34")
	if v := Verify(libc, p); v.OK || v.Violations[len(v.Violations)-1].Name != GLIBCPrivate {
		t.Errorf("GLIBC_PRIVATE must always fail: %+v", v)
	}
}

// TestDTRelr links a program with -z pack-relative-relocs (binutils 2.38+,
// glibc 2.36+): it needs GLIBC_ABI_DT_RELR, which no floor below 2.36 meets.
func TestDTRelr(t *testing.T) {
	testdeps.Tools(t, "gcc")
	testdeps.File(t, "/usr/include/stdio.h") // libc6-dev: gcc cannot link without it
	dir := t.TempDir()
	src := filepath.Join(dir, "relr.c")
	os.WriteFile(src, []byte("#include <stdio.h>\nstatic const char *p[] = {\"a\", \"b\"};\nint main(void) { puts(p[1]); return 0; }\n"), 0o644)
	bin := filepath.Join(dir, "relr")
	if out, err := exec.Command("gcc", "-O2", "-fPIE", "-pie", "-Wl,-z,pack-relative-relocs", src, "-o", bin).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	f, err := Inspect(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Special, []string{GLIBCABIDTRelr}) {
		t.Fatalf("special %v, want [GLIBC_ABI_DT_RELR]", f.Special)
	}
	p34 := manylinuxPolicy("2.34")
	v := Verify(f, p34)
	found := false
	for _, viol := range v.Violations {
		if viol.Name == GLIBCABIDTRelr && len(viol.Symbols) == 0 && strings.Contains(viol.Reason, "pack-relative-relocs") {
			found = true
		}
	}
	if !found {
		t.Errorf("GLIBC_ABI_DT_RELR not reported under 2.34: %+v", v)
	}
}
