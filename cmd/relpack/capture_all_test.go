package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarGz is a gzip-compressed tar of the given files.
func tarGz(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// captureDeb writes a minimal .deb of package name and version shipping
// the x86_64 fixture libz3.so.4, as capture reads it: debian-binary,
// control.tar.gz, data.tar.gz in an ar archive.
func captureDeb(t *testing.T, dir, file, name, version string) string {
	t.Helper()
	lib := fixture(t, "x86_64/libz3.so.4")
	members := []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", tarGz(t, map[string][]byte{"./control": []byte("Package: " + name + "\nVersion: " + version + "\nArchitecture: amd64\n")})},
		{"data.tar.gz", tarGz(t, map[string][]byte{"./usr/lib/x86_64-linux-gnu/libz3.so.4": lib})},
	}
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 18, section 4: distro capture of several packages is all or
// nothing. A second package whose facts would not load (a version with a
// space), or that gives the first one's fact file again, refuses the run
// before any fact file is written, and the message names the input
// package file, not the fact file it would have made.
func TestDistroCaptureAllOrNothing(t *testing.T) {
	in := t.TempDir()
	good := captureDeb(t, in, "libz3-4_4.8.12-3_amd64.deb", "libz3-4", "4.8.12-3")
	bad := captureDeb(t, in, "libfoo_1_amd64.deb", "libfoo", "1.0 beta-1")
	again := captureDeb(t, in, "libz3-4_4.8.12-4_amd64.deb", "libz3-4", "4.8.12-4")

	// The good package alone is captured: the inputs themselves are fine.
	okOut := filepath.Join(t.TempDir(), "facts")
	if _, stderr, code := cli(t, "distro", "capture", "-o", okOut, good); code != 0 {
		t.Fatalf("good package alone: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(okOut, "libz3-4_x86_64.yaml")); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		second string
		want   []string
	}{
		{bad, []string{bad + ": ", "would not load", `"1.0 beta-1"`, "nothing was written"}},
		{again, []string{"libz3-4_4.8.12-3_amd64.deb and libz3-4_4.8.12-4_amd64.deb both give libz3-4_x86_64.yaml", "nothing was written"}},
	} {
		parent := t.TempDir()
		out := filepath.Join(parent, "facts")
		os.Mkdir(out, 0o755)
		os.WriteFile(filepath.Join(out, "keep.yaml"), []byte("kept\n"), 0o644)
		before := stateOfTree(t, parent)
		inBefore := stateOfTree(t, in)
		_, stderr, code := cli(t, "distro", "capture", "-o", out, good, c.second)
		if code != 2 {
			t.Errorf("%s second: exit %d, want 2\n%s", c.second, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s second: stderr lacks %q:\n%s", c.second, w, stderr)
			}
		}
		if strings.Contains(stderr, "relpack: libfoo_x86_64.yaml") {
			t.Errorf("the refusal names the fact file, not the input:\n%s", stderr)
		}
		sameTree(t, filepath.Base(c.second)+" second", parent, before)
		sameTree(t, filepath.Base(c.second)+" second: the inputs", in, inBefore)
	}
}
