package abi

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// threadSource is a g++ program whose std::shared_ptr copies read
// libstdc++'s single-thread test, __libc_single_threaded (glibc 2.32): a
// variable, so the executable holds a copy of it in .bss (a copy
// relocation) and .dynsym lists it as defined there, at the needed
// version GLIBC_2.32. Built with bookworm's g++ 12 against glibc 2.36.
const threadSource = `#include <cstdio>
#include <memory>
#include <thread>

int main()
{
	auto p = std::make_shared<int>(1);
	std::thread t([p] { std::printf("%d\n", *p); });
	t.join();
	return 0;
}
`

// buildThreadProgram compiles threadSource with the host's g++.
func buildThreadProgram(t *testing.T) string {
	t.Helper()
	gxx := testdeps.Tool(t, "g++")
	dir := t.TempDir()
	src := filepath.Join(dir, "thread.cpp")
	if err := os.WriteFile(src, []byte(threadSource), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "thread")
	run(t, gxx, "-O2", "-o", bin, src)
	return bin
}

// TestCopyRelocatedVariable: a symbol defined in the executable at a needed
// version is imported from that library at that version, as objdump -T
// shows it, so verify names it instead of "(no symbol; the file as a whole
// needs it)".
func TestCopyRelocatedVariable(t *testing.T) {
	bin := buildThreadProgram(t)

	// The premise, from binutils: the symbol is defined (in .bss) and
	// printed with the needed version.
	objdump := run(t, testdeps.Tool(t, "objdump"), "-T", "--wide", bin)
	var line string
	for _, l := range strings.Split(objdump, "\n") {
		if strings.HasSuffix(l, " __libc_single_threaded") {
			line = l
		}
	}
	if !strings.Contains(line, ".bss") || !strings.Contains(line, "(GLIBC_2.32)") {
		t.Fatalf("objdump -T shows no copy-relocated __libc_single_threaded@GLIBC_2.32 in .bss (the premise of this test):\n%s", objdump)
	}

	f, err := Inspect(bin)
	if err != nil {
		t.Fatal(err)
	}
	var got []ImportGroup
	for _, g := range f.Imports {
		if g.Version == "GLIBC_2.32" {
			got = append(got, g)
		}
	}
	want := []ImportGroup{{Library: "libc.so.6", Version: "GLIBC_2.32", Symbols: []string{"__libc_single_threaded"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imports at GLIBC_2.32 = %+v, want %+v", got, want)
	}
	for _, g := range f.Imports {
		for _, s := range g.Symbols {
			if s == "main" || s == "_start" || s == "_IO_stdin_used" {
				t.Errorf("imports list %s@%s, which the executable defines itself", s, g.Version)
			}
		}
	}

	// verify names the symbol under its version.
	p := manylinuxPolicy("2.28")
	v := Verify(f, p)
	var viol *Violation
	for i := range v.Violations {
		if v.Violations[i].Name == "GLIBC_2.32" {
			viol = &v.Violations[i]
		}
	}
	if viol == nil {
		t.Fatalf("no GLIBC_2.32 violation against 2.28: %+v", v.Violations)
	}
	if !reflect.DeepEqual(viol.Symbols, []string{"__libc_single_threaded"}) {
		t.Errorf("GLIBC_2.32 violation names %q, want [__libc_single_threaded]", viol.Symbols)
	}
	var out strings.Builder
	WriteVerdict(&out, v, p)
	if !strings.Contains(out.String(), "  GLIBC_2.32: __libc_single_threaded  [floor GLIBC_2.28, from libc.so.6]\n") {
		t.Errorf("verify output does not name the symbol:\n%s", out.String())
	}
	if strings.Contains(out.String(), "no symbol") {
		t.Errorf("verify output still says no symbol binds a version:\n%s", out.String())
	}

	// And the whole file agrees with binutils, the defined-at-a-needed-
	// version symbols included.
	compareWithBinutils(t, bin)
}
