package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
)

// TestMakeRelease runs `make release` (relpack releasing itself, issue 23)
// twice, signed with the committed demo key, into two folders, the
// binaries built afresh each time: the releases are equal
// byte for byte, verify-release (run by make, and here again) accepts
// them, and each tarball's relpack runs `relpack version` and prints the
// version it was stamped with: natively on x86_64, under qemu on aarch64.
// make writes nothing into the repository.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds relpack twice for two arches")
	}
	testdeps.Tools(t, "make", "git", "go", "tar", "sha256sum")
	qemu := testdeps.Tool(t, "qemu-aarch64-static")
	root, err := testdeps.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	before := gitStatus(t, root)
	const version = "0.0.0-test"
	tmp := t.TempDir()
	var outs []string
	for _, run := range []string{"1", "2"} {
		out := filepath.Join(tmp, "dist"+run)
		// The same scratch folder both times (the provenance names the
		// inputs by path), emptied: the second run builds afresh.
		bin := filepath.Join(tmp, "bin")
		if err := os.RemoveAll(bin); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "-C", root, "release", "VERSION="+version,
			"RELEASE_OUT="+out, "RELEASE_BIN="+bin,
			"RELEASE_KEY=testdata/demo/demo-signing-key.asc",
			"RELEASE_PUBKEY=testdata/demo/demo-signing-key.pub.asc")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make release (run %s): %v\n%s", run, err, b)
		}
		if !strings.Contains(string(b), "relpack "+version+" verified: SHA256SUMS.asc signed by") {
			t.Fatalf("make release (run %s) did not verify the release:\n%s", run, b)
		}
		outs = append(outs, out)
	}
	if after := gitStatus(t, root); after != before {
		t.Errorf("make release changed the repository:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Byte for byte the same release.
	names := dirFiles(t, outs[0])
	if got := dirFiles(t, outs[1]); !slices.Equal(got, names) {
		t.Fatalf("the two releases hold different files:\n%v\n%v", names, got)
	}
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(outs[0], n))
		b, _ := os.ReadFile(filepath.Join(outs[1], n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two runs of make release", n)
		}
	}
	for _, want := range []string{
		"relpack-x86_64-unknown-linux-musl.tar.gz", "relpack-aarch64-unknown-linux-musl.tar.gz",
		"relpack-x86_64-unknown-linux-musl-debug.tar.gz", "relpack-aarch64-unknown-linux-musl-debug.tar.gz",
		"manifest.json", "SHA256SUMS", "SHA256SUMS.asc", "KEY.asc",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("the release lacks %s; it holds %v", want, names)
		}
	}

	// The manifest says what was released: relpack, this version, static
	// inputs with a build-id.
	var m struct {
		Product, Version string
		Inputs           []struct {
			Triple, Linkage string
			BuildID         string `json:"build_id"`
		}
	}
	mj, err := os.ReadFile(filepath.Join(outs[0], "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mj, &m); err != nil {
		t.Fatal(err)
	}
	if m.Product != "relpack" || m.Version != version || len(m.Inputs) != 2 {
		t.Fatalf("manifest: product %q version %q, %d inputs; want relpack %s, 2 inputs", m.Product, m.Version, len(m.Inputs), version)
	}
	for _, in := range m.Inputs {
		if in.Linkage != "static" || in.BuildID == "" {
			t.Errorf("manifest input %s: linkage %q, build-id %q; want a static binary with a build-id (-B gobuildid)", in.Triple, in.Linkage, in.BuildID)
		}
	}

	// verify-release through the CLI, as a user with the publisher's key.
	stdout, stderr, code := clitest.Run(t, "verify-release", outs[1], "--key", filepath.Join(root, "testdata/demo/demo-signing-key.pub.asc"))
	if code != 0 {
		t.Fatalf("verify-release: exit %d\n%s%s", code, stdout, stderr)
	}

	// The tarballs' binaries run and print the stamped version.
	for _, c := range []struct {
		triple string
		run    []string
	}{
		{"x86_64-unknown-linux-musl", nil},
		{"aarch64-unknown-linux-musl", []string{qemu}},
	} {
		dir := filepath.Join(tmp, c.triple)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("tar", "-xzf", filepath.Join(outs[0], "relpack-"+c.triple+".tar.gz"), "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, b)
		}
		bin := filepath.Join(dir, "relpack")
		if _, err := os.Stat(filepath.Join(dir, "LICENSE-STATUS")); err != nil {
			t.Errorf("%s: the tarball lacks the license file: %v", c.triple, err)
		}
		argv := append(append([]string{}, c.run...), bin, "version")
		b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(b)) != "relpack "+version {
			t.Errorf("%s: %v printed %q (%v); want %q", c.triple, argv, b, err, "relpack "+version)
		}
	}
}

// gitStatus is the repository's `git status --porcelain --ignored`.
func gitStatus(t *testing.T, root string) string {
	t.Helper()
	b, err := exec.Command("git", "-C", root, "status", "--porcelain", "--ignored").CombinedOutput()
	if err != nil {
		t.Fatalf("git status: %v\n%s", err, b)
	}
	return string(b)
}

// dirFiles lists dir's file names, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}
