package apt

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ulikunitz/xz"

	"relpack/internal/aptroot"
	"relpack/pkg/sign"
)

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

// TestAptInBullseye publishes the demo's debian11 debs with WriteSuite and
// points the real apt of a debootstrapped Debian 11 root at them, served
// over HTTP on loopback:
//
//  1. apt-get update accepts the InRelease signature (signed-by an
//     armoured .asc key file), apt-get install pulls v1 and libz3-4 from
//     the Debian mirror, and the binary starts;
//  2. with v2 added and the suite rewritten, apt-get update && apt-get
//     upgrade installs v2;
//  3. without InRelease, apt falls back to Release + the armoured
//     Release.gpg and accepts it;
//  4. a Packages index whose SHA256 of a pool file was edited (InRelease
//     kept) is refused; an InRelease that is the plain Release text, with
//     no Release.gpg, is refused as unsigned; a repository signed by
//     another key than the signed-by file holds is refused.
//
// The apt it met (the Debian 11 root made by scripts/bullseye-root.sh):
// apt 2.2.4 (amd64), gpgv 2.2.27; the test logs apt's version line.
func TestAptInBullseye(t *testing.T) {
	root := aptroot.Bullseye(t)

	repo := t.TempDir()
	var (
		mu       sync.Mutex
		requests []string
	)
	files := http.FileServer(http.Dir(repo))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: 200}
		files.ServeHTTP(sw, r)
		mu.Lock()
		requests = append(requests, fmt.Sprintf("%d %s", sw.code, r.URL.Path))
		mu.Unlock()
	}))
	defer srv.Close()
	takeRequests := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(requests, "\n")
		requests = nil
		return s
	}

	key, _ := testKey(t)
	pub, err := sign.PublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	const keyring = "/etc/apt/keyrings/relpack-test.asc"
	aptroot.WriteFile(t, root, keyring, pub)
	const list = "/etc/apt/sources.list.d/relpack-test.list"
	aptroot.WriteFile(t, root, list, []byte(fmt.Sprintf("deb [signed-by=%s] %s/ bullseye main\n", keyring, srv.URL)))

	// apt runs in the chroot; the server is on the host's loopback, which
	// the chroot shares. Never through a proxy (aptroot.Direct).
	chroot := func(args ...string) (string, int) {
		t.Helper()
		return aptroot.Output(t, root, args...)
	}
	// updateOurs updates from the test repository alone, after forgetting
	// what apt had of it, so that apt fetches and checks everything again.
	updateOurs := func() (string, int) {
		lists, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/127.0.0.1[:_]*"))
		for _, l := range lists {
			os.Remove(l)
		}
		return chroot("apt-get", aptroot.Direct, "-oDir::Etc::SourceList="+list, "-oDir::Etc::SourceParts=-", "update")
	}
	ver, _ := chroot("apt-get", "--version")
	t.Logf("bullseye root: %s", strings.SplitN(ver, "\n", 2)[0])

	publish := func(vers ...string) {
		t.Helper()
		var debs []string
		for _, v := range vers {
			debs = append(debs, demoDeb(t, v, "amd64"))
		}
		s := bullseyeSuite(addToPool(t, repo, debs...))
		if err := WriteSuite(repo, s, Options{Date: releaseDate(vers[len(vers)-1]), Key: key}); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Install v1.
	publish("0.1.0")
	aptroot.Update(t, root)
	reqs := takeRequests()
	if !regexp.MustCompile(`(?m)^200 /dists/bullseye/main/binary-amd64/by-hash/SHA256/[0-9a-f]{64}$`).MatchString(reqs) {
		t.Errorf("apt did not fetch the index by its SHA256 (Acquire-By-Hash):\n%s", reqs)
	}
	t.Logf("apt-get update fetched:\n%s", reqs)
	o := aptroot.AptGet(t, root, "install", "-y", "-q", "--no-install-recommends", "openshell-gateway")
	if !strings.Contains(o, "libz3-4") {
		t.Errorf("apt did not pull libz3-4:\n%s", o)
	}
	if v := aptroot.Installed(t, root, "openshell-gateway"); v != "0.1.0-1~deb11" {
		t.Errorf("installed %q, want 0.1.0-1~deb11", v)
	}
	o, code := chroot("env", "LD_BIND_NOW=1", "/usr/bin/openshell-gateway", "--version")
	if code != 0 || !strings.Contains(o, "libz3.so.4") {
		t.Errorf("the installed binary (exit %d) printed:\n%s", code, o)
	}
	takeRequests()

	// 2. Upgrade to v2.
	publish("0.1.0", "0.2.0")
	aptroot.Update(t, root)
	o = aptroot.AptGet(t, root, "upgrade", "-y", "-q")
	if v := aptroot.Installed(t, root, "openshell-gateway"); v != "0.2.0-1~deb11" {
		t.Errorf("after apt-get upgrade: %q installed, want 0.2.0-1~deb11\n%s", v, o)
	}
	takeRequests()

	dist := filepath.Join(repo, "dists/bullseye")
	// 3. Release + Release.gpg (armoured) without InRelease.
	inRelease, err := os.ReadFile(filepath.Join(dist, "InRelease"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dist, "InRelease"))
	o, code = updateOurs()
	reqs = takeRequests()
	if code != 0 || len(aptroot.Warnings(o)) > 0 || !strings.Contains(reqs, "200 /dists/bullseye/Release.gpg") {
		t.Errorf("apt-get update from Release + armoured Release.gpg (exit %d):\n%s\nrequests:\n%s", code, o, reqs)
	}
	os.WriteFile(filepath.Join(dist, "InRelease"), inRelease, 0o644)

	// 4a. A tampered Packages: the SHA256 of the v2 deb edited in every
	// form and copy of the amd64 index, InRelease kept.
	amd64 := filepath.Join(dist, "main/binary-amd64")
	plain, err := os.ReadFile(filepath.Join(amd64, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(plain, []byte("\nSHA256: ")) + len("\nSHA256: ")
	bad := append([]byte(nil), plain...)
	bad[i] ^= 1 // '0'..'9' ↔ another hex digit or letter: same length
	if bad[i] > 'f' || (bad[i] > '9' && bad[i] < 'a') {
		bad[i] = '0'
		if plain[i] == '0' {
			bad[i] = '1'
		}
	}
	gz, xzd := recompress(t, bad)
	tamper := map[string][]byte{"Packages": bad, "Packages.gz": gz, "Packages.xz": xzd}
	rel, _ := os.ReadFile(filepath.Join(dist, "Release"))
	for sec, entries := range releaseEntries(t, rel) {
		for p, hs := range entries {
			name := filepath.Base(p)
			if !strings.HasPrefix(p, "main/binary-amd64/") {
				continue
			}
			os.WriteFile(filepath.Join(dist, p), tamper[name], 0o644)
			os.WriteFile(filepath.Join(amd64, "by-hash", sec, strings.Fields(hs)[0]), tamper[name], 0o644)
		}
	}
	o, code = updateOurs()
	if code == 0 || !(strings.Contains(o, "Hash Sum mismatch") || strings.Contains(o, "File has unexpected size")) {
		t.Errorf("apt-get update accepted a tampered Packages (exit %d):\n%s", code, o)
	}
	t.Logf("tampered Packages: apt-get update exit %d:\n%s", code, o)

	// 4b. An unsigned InRelease: the plain Release text, no Release.gpg.
	publish("0.1.0", "0.2.0") // a good tree again
	os.WriteFile(filepath.Join(dist, "InRelease"), rel, 0o644)
	os.Remove(filepath.Join(dist, "Release.gpg"))
	o, code = updateOurs()
	if code == 0 || !strings.Contains(o, "is not signed") {
		t.Errorf("apt-get update accepted an unsigned InRelease (exit %d):\n%s", code, o)
	}
	t.Logf("unsigned InRelease: apt-get update exit %d:\n%s", code, o)

	// 4c. Signed, but by a key the source does not name: signed-by is
	// what apt trusts, so the armoured .asc file was really read.
	publish("0.1.0", "0.2.0")
	other, _ := testKey(t)
	otherPub, err := sign.PublicKey(other)
	if err != nil {
		t.Fatal(err)
	}
	aptroot.WriteFile(t, root, keyring, otherPub)
	o, code = updateOurs()
	if code == 0 || !strings.Contains(o, "NO_PUBKEY "+key.KeyID) {
		t.Errorf("apt-get update accepted a repository signed by a key signed-by does not name (exit %d):\n%s", code, o)
	}
}

// recompress gives data as WriteSuite compresses it.
func recompress(t *testing.T, data []byte) (gz, x []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	var c bytes.Buffer
	xw, err := xz.NewWriter(&c)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(data)
	xw.Close()
	return b.Bytes(), c.Bytes()
}
