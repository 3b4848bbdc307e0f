package elfedit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestOtherLinkers edits binaries from the three other linkers a gateway
// build may use — LLVM's lld, GNU gold and Go's internal linker (cgo with
// -linkmode=internal) — all linked at test time against the stub
// libz3.so.4. Laid out as T/bin/BIN + T/lib/libz3.so.4 with no
// LD_LIBRARY_PATH, the edited binary must load the stub (4.99.1.0), not the
// host's libz3 (4.8.12 on Debian 12), which the unedited binary loads.
func TestOtherLinkers(t *testing.T) {
	testdeps.Tools(t, "gcc", "ld.lld", "ld.gold", "go", "readelf")
	testdeps.File(t, "/usr/include/stdio.h")                 // libc6-dev: gcc and cgo link with it
	testdeps.File(t, "/usr/lib/x86_64-linux-gnu/libz3.so.4") // the library the unedited binary loads
	src, _ := filepath.Abs("../../testdata/src")
	stub, _ := filepath.Abs("../../testdata/fixtures/x86_64/libz3.so.4")
	work := t.TempDir()

	build := map[string]func(out string) error{
		"lld": func(out string) error {
			return runQuiet("", "gcc", "-O2", "-fuse-ld=lld", "-I"+src, filepath.Join(src, "z3user.c"), stub, "-o", out)
		},
		"gold": func(out string) error {
			return runQuiet("", "gcc", "-O2", "-fuse-ld=gold", "-I"+src, filepath.Join(src, "z3user.c"), stub, "-o", out)
		},
		"go-internal": func(out string) error {
			dir := filepath.Join(work, "gomod")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module z3user\ngo 1.26\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

/*
#cgo CFLAGS: -I`+src+`
#cgo LDFLAGS: -L`+filepath.Dir(stub)+` -l:libz3.so.4
#include "z3.h"
*/
import "C"
import "fmt"

func main() {
	var a, b, c, d C.uint
	C.Z3_get_version(&a, &b, &c, &d)
	fmt.Printf("z3 %d.%d.%d.%d\n", a, b, c, d)
}
`), 0o644)
			cmd := exec.Command("go", "build", "-ldflags=-linkmode=internal", "-o", out, ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Logf("%s", b)
				return err
			}
			return nil
		},
	}
	for name, mk := range build {
		t.Run(name, func(t *testing.T) {
			orig := filepath.Join(work, name)
			if err := mk(orig); err != nil {
				t.Fatalf("linking with %s: %v", name, err)
			}
			root := filepath.Join(work, name+"-tree")
			os.MkdirAll(filepath.Join(root, "bin"), 0o755)
			os.MkdirAll(filepath.Join(root, "lib"), 0o755)
			b, _ := os.ReadFile(stub)
			os.WriteFile(filepath.Join(root, "lib", "libz3.so.4"), b, 0o644)

			// Negative control: the unedited binary in the same layout.
			plain := filepath.Join(root, "bin", "plain")
			b, _ = os.ReadFile(orig)
			os.WriteFile(plain, b, 0o755)
			if out := mustRun(t, plain); strings.Contains(out, "4.99.1.0") {
				t.Fatalf("the unedited %s binary already loads the stub: %s", name, out)
			}

			edited := filepath.Join(root, "bin", name)
			if err := SetRunpath(orig, edited, "$ORIGIN/../lib"); err != nil {
				t.Fatal(err)
			}
			// The same bytes as the in-memory algorithm (oracle_test.go).
			want, err := oldEdit(mustRead(t, orig), "$ORIGIN/../lib", options{})
			if err != nil {
				t.Fatalf("oracle: %v", err)
			}
			if got := mustRead(t, edited); !bytes.Equal(got, want) {
				t.Errorf("output differs from the oracle's at byte %d", firstDiff(got, want))
			}
			if out := mustRun(t, edited); !strings.Contains(out, "z3 4.99.1.0") {
				t.Errorf("edited %s binary did not load lib/libz3.so.4: %s", name, out)
			}
			if d := mustRun(t, "readelf", "-d", edited); !strings.Contains(d, "Library runpath: [$ORIGIN/../lib]") {
				t.Errorf("readelf -d:\n%s", d)
			}
		})
	}
}

func runQuiet(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return &exec.Error{Name: name + ": " + string(out), Err: err}
	}
	return nil
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // no LD_LIBRARY_PATH
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}
