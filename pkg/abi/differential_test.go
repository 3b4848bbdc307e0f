package abi

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// The differential test holds relpack's reading of the version tables to
// binutils' own: (library, version, weak) needs against `readelf -V`, and
// (symbol, version) imports against `objdump -T`, with no difference allowed.

const fixtureDir = "../../testdata/fixtures"

func TestDifferentialFixtures(t *testing.T) {
	files := elfFilesUnder(t, fixtureDir, 0)
	if len(files) < 20 {
		t.Fatalf("found %d ELF fixtures under %s, want at least 20: run testdata/build-fixtures.sh", len(files), fixtureDir)
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, fixtureDir+"/"), func(t *testing.T) { compareWithBinutils(t, f) })
	}
}

func TestDifferentialSystem(t *testing.T) {
	var files []string
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"} {
		files = append(files, elfFilesUnder(t, dir, 60)...)
	}
	// The largest libraries are where a reader's shortcuts would show.
	for _, f := range []string{"/usr/lib/x86_64-linux-gnu/libz3.so.4", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		files = append(files, testdeps.File(t, f))
	}
	if len(files) < 50 {
		t.Fatalf("found only %d ELF files on this machine, want at least 50", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) { compareWithBinutils(t, f) })
	}
}

// elfFilesUnder lists regular ELF files below dir in sorted order, at most
// limit of them (0: all). Symlinks are followed only for the limit count's
// sake of stability: they are skipped.
func elfFilesUnder(t *testing.T, dir string, limit int) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && limit > 0 {
				return filepath.SkipDir // system dirs: top level only
			}
			return nil
		}
		if !d.Type().IsRegular() || (limit > 0 && len(out) >= limit) {
			return nil
		}
		if isELF(p) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	n, _ := f.Read(m[:])
	return n == 4 && string(m[:]) == "\x7fELF"
}

func tryRun(name string, args ...string) (stdout, stderr string, err error) {
	var errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &errb
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	return string(out), errb.String(), err
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, stderr, err := tryRun(name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return out
}

func compareWithBinutils(t *testing.T, path string) {
	facts, err := Inspect(path)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	readelf := testdeps.Tool(t, "readelf")
	objdump := testdeps.Tool(t, "objdump")
	if facts.Machine == "aarch64" {
		// Debian's host objdump reads only x86 targets' dynamic symbols.
		objdump = testdeps.Tool(t, "aarch64-linux-gnu-objdump")
	}

	readelfV := run(t, readelf, "-V", "--wide", path)
	wantNeeds := parseReadelfVerneed(readelfV)
	var gotNeeds []string
	for _, vn := range facts.VersionNeeds {
		for _, v := range vn.Versions {
			gotNeeds = append(gotNeeds, fmt.Sprintf("%s %s weak=%v", vn.Library, v.Name, v.Weak))
		}
	}
	diffSets(t, "version needs (readelf -V)", gotNeeds, wantNeeds)

	var wantImports []string
	if out, stderr, err := tryRun(objdump, "-T", "--wide", path); err == nil {
		wantImports = parseObjdumpImports(out, neededOnly(readelfV))
	} else if !strings.Contains(stderr, "not a dynamic object") {
		t.Fatalf("objdump -T %s: %v\n%s", path, err, stderr)
	} // else: static executable or object file, nothing imported
	var gotImports []string
	for _, g := range facts.Imports {
		for _, s := range g.Symbols {
			gotImports = append(gotImports, s+"@"+g.Version)
		}
	}
	diffSets(t, "imports (objdump -T: undefined symbols, and defined ones at a needed version)", gotImports, wantImports)
}

// parseReadelfVerneed reads the "Version needs section" of `readelf -V`.
func parseReadelfVerneed(out string) []string {
	var res []string
	in, lib := false, ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Version needs section"):
			in = true
			continue
		case strings.HasPrefix(line, "Version ") || strings.TrimSpace(line) == "":
			in = false
			continue
		}
		if !in {
			continue
		}
		if i := strings.Index(line, "File: "); i >= 0 {
			lib = strings.Fields(line[i+len("File: "):])[0]
			continue
		}
		if i := strings.Index(line, "Name: "); i >= 0 {
			name := strings.Fields(line[i+len("Name: "):])[0]
			flags := ""
			if j := strings.Index(line, "Flags: "); j >= 0 {
				flags = line[j:]
			}
			res = append(res, fmt.Sprintf("%s %s weak=%v", lib, name, strings.Contains(flags, "WEAK")))
		}
	}
	return res
}

// neededOnly returns the version names of `readelf -V` that the file needs
// (Version needs section) and does not also define (Version definition
// section): a defined symbol that objdump prints with one of them is bound
// at a needed version, i.e. copy-relocated from the library.
func neededOnly(readelfV string) map[string]bool {
	needed := map[string]bool{}
	for _, n := range parseReadelfVerneed(readelfV) {
		needed[strings.Fields(n)[1]] = true
	}
	in := false
	for _, line := range strings.Split(readelfV, "\n") {
		switch {
		case strings.HasPrefix(line, "Version definition section"):
			in = true
			continue
		case strings.HasPrefix(line, "Version ") || strings.TrimSpace(line) == "":
			in = false
			continue
		}
		if !in {
			continue
		}
		// "  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: GLIBC_2.2.5"
		if i := strings.Index(line, "Name: "); i >= 0 {
			if f := strings.Fields(line[i+len("Name: "):]); len(f) > 0 {
				delete(needed, f[0])
			}
		}
	}
	return needed
}

// parseObjdumpImports reads the symbols `objdump -T` shows a file taking
// from other objects: every *UND* entry,
// "0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.3)  name",
// and every defined entry printed with a version in needed (a
// copy-relocated variable):
// "0000000000004060 g    DO .bss	0000000000000001 (GLIBC_2.32) __libc_single_threaded".
// A bare "Base" (the global index) and no version both mean unversioned.
func parseObjdumpImports(out string, needed map[string]bool) []string {
	var res []string
	for _, line := range strings.Split(out, "\n") {
		// "ADDRESS FLAGS SECTION<tab>SIZE [VERSION] NAME"
		left, right, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		lf := strings.Fields(left)
		if len(lf) < 2 {
			continue
		}
		undefined := lf[len(lf)-1] == "*UND*"
		fields := strings.Fields(right)
		var ver, name string
		switch len(fields) {
		case 2: // size, name
			name = fields[1]
		case 3: // size, version, name
			ver, name = fields[1], fields[2]
		default:
			continue
		}
		// A needed version is printed in parentheses and may itself be
		// named "Base" (libdevmapper does that); a bare "Base" is the
		// global index, i.e. no version.
		needs := strings.HasPrefix(ver, "(")
		if needs {
			ver = strings.Trim(ver, "()")
		} else if ver == "Base" {
			ver = ""
		}
		if !undefined && !(needs && needed[ver]) {
			continue
		}
		res = append(res, name+"@"+ver)
	}
	return res
}

func diffSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	count := func(xs []string) map[string]int {
		m := map[string]int{}
		for _, x := range xs {
			m[x]++
		}
		return m
	}
	g, w := count(got), count(want)
	var missing, extra []string
	for k := range w {
		if g[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k := range g {
		if w[k] == 0 {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s differ: binutils has but relpack lacks %v; relpack has but binutils lacks %v", what, missing, extra)
	}
}
