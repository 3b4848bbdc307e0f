package repo

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/aptroot"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

// TestAptInstallsDbgsymFromDebugSuite follows the debug-symbol set-up the
// docs give in a debootstrapped Debian 11 root: the tree (a demo release
// with a ddeb beside each deb) served on loopback, KEY.asc in the keyring,
// the bullseye suite's .sources file and its debug suite's
// (bullseye-debug) in sources.list.d: apt-get update accepts both signed
// suites, and apt-get install openshell-gateway-dbgsym installs the debug
// package with the package it depends on at its very version; the debug
// file is where gdb looks it up by build-id. Without the debug suite's
// source, apt does not know the -dbgsym package.
func TestAptInstallsDbgsymFromDebugSuite(t *testing.T) {
	root := aptroot.Bullseye(t)
	tree := filepath.Join(t.TempDir(), "repo")
	os.MkdirAll(tree, 0o755)
	srv := httptest.NewServer(http.FileServer(http.Dir(tree)))
	defer srv.Close()

	g := signtest.Generate(t, "rsa3072", "")
	key, err := sign.LoadKey(g.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := debugRelease(t, "0.1.0")
	id := debugOf(t, dir, "ddeb", "debian11", "x86_64").BuildID
	o := opts(key, tree, dir)
	o.URL = srv.URL
	mustRun(t, o)

	const product = "openshell-gateway"
	pub, _ := os.ReadFile(filepath.Join(tree, "KEY.asc"))
	aptroot.WriteFile(t, root, KeyringPath(product), pub)
	src, _ := os.ReadFile(filepath.Join(tree, SourcesName(product, "bullseye")))
	aptroot.WriteFile(t, root, "/etc/apt/sources.list.d/"+product+".sources", src)
	aptroot.Update(t, root)
	if out, code := aptroot.Output(t, root, "apt-cache", "policy", product+"-dbgsym"); code != 0 || strings.Contains(out, "Candidate: 0.1.0") {
		t.Errorf("without the debug suite's source, apt knows %s-dbgsym:\n%s", product, out)
	}

	dbg, err := os.ReadFile(filepath.Join(tree, SourcesName(product, DebugSuite("bullseye"))))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dbg), "Suites: bullseye-debug\n") {
		t.Fatalf("the debug suite's .sources file:\n%s", dbg)
	}
	aptroot.WriteFile(t, root, "/etc/apt/sources.list.d/"+product+"-debug.sources", dbg)
	if out := aptroot.Update(t, root); len(aptroot.Warnings(out)) > 0 {
		t.Errorf("apt-get update warns:\n%s", out)
	}
	aptroot.AptGet(t, root, "install", "-y", "-q", "--no-install-recommends", product+"-dbgsym")
	for _, p := range []string{product, product + "-dbgsym"} {
		if v := aptroot.Installed(t, root, p); v != "0.1.0-1~deb11" {
			t.Errorf("%s: installed %q, want 0.1.0-1~deb11", p, v)
		}
	}
	if got := fileBuildID(t, filepath.Join(root, "usr/lib/debug/.build-id", id[:2], id[2:]+".debug")); got != id {
		t.Errorf("the file at the build-id path of %s in the root has build-id %q", id, got)
	}
}
