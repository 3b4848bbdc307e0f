package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestDistroCaptureReproducesCatalog captures Debian's real packages again
// (amd64 and arm64 of bullseye, bookworm and trixie, downloaded and cached by
// scripts/capture-debian.sh --download-only) through the command and
// compares every file it writes with the committed one: the catalogue's
// facts are what the command makes from the distro's packages.
func TestDistroCaptureReproducesCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Debian packages")
	}
	script := testdeps.Script(t, "scripts/capture-debian.sh")
	for suite, id := range map[string]string{"bullseye": "debian11", "bookworm": "debian12", "trixie": "debian13"} {
		out, err := exec.Command(script, "--download-only", suite).Output()
		if err != nil {
			t.Fatalf("capture-debian.sh --download-only %s: %v", suite, err)
		}
		debs := strings.Fields(string(out))
		dir := t.TempDir()
		stdout, stderr, code := cli(t, append([]string{"distro", "capture", "--id", id, "-o", dir}, debs...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", id, code, stdout, stderr)
		}
		for _, want := range []string{"libz3.so.4 (x86_64): libz3-4", "libzstd.so.1 (aarch64): libzstd1", "symbols-file entries from 4.1.1", "runtime x86_64: glibcxx", "runtime aarch64: glibcxx", "  - facts/" + id + "/libz3-4_x86_64.yaml", "  - facts/" + id + "/libstdc++6_aarch64.yaml"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: output lacks %q:\n%s", id, want, stdout)
			}
		}
		written, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if len(written) != 12 {
			t.Errorf("%s: wrote %v", id, written)
		}
		for _, w := range written {
			got, _ := os.ReadFile(w)
			committed, err := os.ReadFile(filepath.Join("..", "..", "pkg", "distro", "facts", id, filepath.Base(w)))
			if err != nil {
				t.Errorf("%s: %v", id, err)
				continue
			}
			if !bytes.Equal(got, committed) {
				t.Errorf("%s/%s differs from the committed file: capture again with scripts/capture-debian.sh", id, filepath.Base(w))
			}
		}
	}
}

func TestDistroCaptureErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.deb")
	os.WriteFile(junk, []byte("not a package"), 0o644)
	out := filepath.Join(dir, "out")
	_, stderr, code := cli(t, "distro", "capture", "-o", out, junk)
	if code != 2 || !strings.Contains(stderr, "neither a .deb") || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("junk: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the output folder was made for a failed capture")
	}
	if _, stderr, code = cli(t, "distro", "capture", junk); code == 0 || !strings.Contains(stderr, "-o DIR") {
		t.Errorf("no -o, no --id: exit %d\n%s", code, stderr)
	}
}
