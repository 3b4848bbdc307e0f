package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/pkg/manifest"
	"relpack/pkg/sign/signtest"
)

// demoConfigSigned writes the demo's packaging.yaml, its paths made
// absolute, with a signing: section naming keyFile.
func demoConfigSigned(t *testing.T, keyFile string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/demo/packaging.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.ReplaceAll(string(b), "../fixtures/", fixtures+"/") + "signing: {key_file: " + keyFile + "}\n"
	p := filepath.Join(t.TempDir(), "packaging.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 18, section 4: a malformed flag value is a usage error, exit 2
// (main.go: 1 is "checked, and the answer is no"), refused before
// anything is read or written.
func TestFlagValuesExit2(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	dist := demoReleaseForRepo(t)
	junk := filepath.Join(t.TempDir(), "junk.deb")
	os.WriteFile(junk, []byte("not a package"), 0o644)
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"repo", dist, "--out", out, "--url", "https://example.org/r", "-c", cfg, "--suite", "debian12=Bad"}, `--suite debian12=Bad: "Bad" is not an apt suite name`},
		{[]string{"repo", dist, "--out", out, "--url", "https://example.org/r", "-c", cfg, "--suite", "debian12=a b"}, `"a b" is not an apt suite name`},
		{[]string{"repo", dist, "--out", out, "--url", "https://example.org/r", "-c", cfg, "--suite", "Debian/12=bookworm"}, `"Debian/12" is not a distro target id`},
		{[]string{"merge", dist, "--out", ""}, "--out DIR is empty"},
		{[]string{"distro", "capture", "--id", "../../x", junk}, `--id "../../x" is not a distro target id`},
		{[]string{"distro", "capture", junk}, "give -o DIR"},
	} {
		before := stateOfTree(t, parent)
		distBefore := stateOfTree(t, dist)
		_, stderr, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, want 2 and %q\n%s", c.args, code, c.want, stderr)
		}
		sameTree(t, strings.Join(c.args, " "), parent, before)
		sameTree(t, strings.Join(c.args, " ")+": the release", dist, distBefore)
	}
}

// Issue 18, sections 3 and 4: the signing key file is read as a regular
// file of at most 1 MiB. An empty one says it is empty; a named pipe or
// a device (/dev/zero) is refused at once, naming the file, where relpack
// blocked or read without end; a huge one is refused by its size. Exit 2
// (the key cannot be loaded), nothing written.
func TestSigningKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.asc")
	os.WriteFile(empty, nil, 0o600)
	blank := filepath.Join(dir, "blank.asc")
	os.WriteFile(blank, []byte(" \n\t\n"), 0o600)
	fifo := filepath.Join(dir, "fifo.asc")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.asc")
	os.WriteFile(huge, make([]byte, 1<<20+1), 0o600)
	dist := demoReleaseForRepo(t)
	for _, c := range []struct{ file, want string }{
		{empty, "signing key file " + empty + " is empty"},
		{blank, "signing key file " + blank + " is empty"},
		{fifo, fifo + " is a named pipe, not a regular file"},
		{"/dev/zero", "/dev/zero is a device, not a regular file"},
		{huge, huge + " is 1048577 bytes, more than the 1048576 bytes"},
	} {
		parent := t.TempDir()
		before := stateOfTree(t, parent)
		start := time.Now()
		_, stderr, _, code := hostileRun(t, 20*time.Second, "repo", dist, "--out", filepath.Join(parent, "repo"), "--url", "https://example.org/r", "-c", repoConfig(t, c.file))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("key file %s: exit %d after %v, want 2 and %q\n%s", c.file, code, time.Since(start), c.want, stderr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("key file %s: took %v", c.file, d)
		}
		sameTree(t, "key file "+c.file, parent, before)
	}
}

// Issue 18, section 4: an artifact named like a file relpack writes
// itself (KEY.asc, SHA256SUMS, SHA256SUMS.asc, manifest.json) is refused
// with a message naming the manifest and the field, before anything is
// written; a signed merge failed on a rename instead, and an unsigned one
// published an attacker's KEY.asc.
func TestMergeRefusesReleaseFileNames(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := demoConfigSigned(t, key.SecretFile)
	build := func(only string, signed bool) string {
		dir := filepath.Join(t.TempDir(), only)
		args := []string{"build", "-q", "-c", cfg, "--version", "0.1.0", "--only", only, "--out", dir}
		if signed {
			args = append(args, "--sign")
		}
		if _, stderr, code := cli(t, args...); code != 0 {
			t.Fatalf("relpack %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return dir
	}
	built := map[bool][2]string{}
	for _, signed := range []bool{true, false} {
		built[signed] = [2]string{build("x86_64", signed), build("aarch64", signed)}
	}
	for _, name := range manifest.ReleaseFiles {
		for _, signed := range []bool{true, false} {
			x, a := copyTree(t, built[signed][0]), copyTree(t, built[signed][1])
			const victim = "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz"
			// The file itself takes the name unless the partial holds a
			// file of that name already (its manifest, its SHA256SUMS).
			if _, err := os.Lstat(filepath.Join(x, name)); os.IsNotExist(err) {
				if err := os.Rename(filepath.Join(x, victim), filepath.Join(x, name)); err != nil {
					t.Fatal(err)
				}
			}
			rename := func(m *manifest.Manifest) {
				for i := range m.Artifacts {
					if m.Artifacts[i].File == victim {
						m.Artifacts[i].File = name
					}
				}
				for i := range m.Planned {
					if m.Planned[i].File == victim {
						m.Planned[i].File = name
					}
				}
			}
			editRelease(t, x, rename)
			editRelease(t, a, rename)
			parent := t.TempDir()
			before := stateOfTree(t, parent)
			args := []string{"merge", x, a, "--out", filepath.Join(parent, "dist"), "-c", cfg}
			if signed {
				args = append(args, "--sign")
			}
			_, stderr, code := cli(t, args...)
			for _, w := range []string{x + "/manifest.json: artifacts[", `.file "` + name + `": a name relpack writes itself`} {
				if code != 1 || !strings.Contains(stderr, w) {
					t.Errorf("%s, signed %v: exit %d, want 1 and %q\n%s", name, signed, code, w, stderr)
				}
			}
			sameTree(t, name+": --out's parent", parent, before)
		}
	}
}

// copyTree copies the regular files of the folder src into a fresh one.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
