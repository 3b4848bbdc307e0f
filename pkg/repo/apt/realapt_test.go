package apt

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ulikunitz/xz"

	"relpack/internal/testdeps"
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
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (chroot); CI runs as root")
	}
	testdeps.Tools(t, "chroot", "cp")
	cmd := exec.Command(testdeps.Script(t, "scripts/bullseye-root.sh"), "amd64")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bullseye root: %v\n%s", err, errb.String())
	}
	root := filepath.Join(t.TempDir(), "root")
	// A copy: the cache stays pristine.
	if o, err := exec.Command("cp", "-a", strings.TrimSpace(string(out)), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, o)
	}
	if o, err := exec.Command("cp", "/etc/resolv.conf", filepath.Join(root, "etc/resolv.conf")).CombinedOutput(); err != nil {
		t.Fatalf("cp resolv.conf: %v\n%s", err, o)
	}

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
	os.MkdirAll(filepath.Join(root, "etc/apt/keyrings"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "etc/apt/keyrings/relpack-test.asc"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	const list = "/etc/apt/sources.list.d/relpack-test.list"
	line := fmt.Sprintf("deb [signed-by=/etc/apt/keyrings/relpack-test.asc] %s/ bullseye main\n", srv.URL)
	if err := os.WriteFile(filepath.Join(root, list), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}

	// apt runs in the chroot; the server is on the host's loopback, which
	// the chroot shares. Never through a proxy.
	direct := "-oAcquire::http::Proxy::127.0.0.1=DIRECT"
	chroot := func(args ...string) (string, int) {
		c := exec.Command("chroot", append([]string{root}, args...)...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
		var o bytes.Buffer
		c.Stdout, c.Stderr = &o, &o
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("chroot %v: %v", args, err)
		}
		return o.String(), code
	}
	// updateOurs updates from the test repository alone, after forgetting
	// what apt had of it, so that apt fetches and checks everything again.
	updateOurs := func() (string, int) {
		lists, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/127.0.0.1[:_]*"))
		for _, l := range lists {
			os.Remove(l)
		}
		return chroot("apt-get", direct, "-oDir::Etc::SourceList="+list, "-oDir::Etc::SourceParts=-", "update")
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
	// warnings are apt's W:/E: lines about the test repository.
	warnings := func(o string) []string {
		var w []string
		for _, l := range strings.Split(o, "\n") {
			if (strings.HasPrefix(l, "W:") || strings.HasPrefix(l, "E:")) && strings.Contains(l, "127.0.0.1") {
				w = append(w, l)
			}
		}
		return w
	}
	installed := func() string {
		o, code := chroot("dpkg-query", "-W", "-f", "${Version}", "openshell-gateway")
		if code != 0 {
			t.Fatalf("dpkg-query: %s", o)
		}
		return o
	}

	// 1. Install v1.
	publish("0.1.0")
	o, code := chroot("apt-get", direct, "update")
	if code != 0 || len(warnings(o)) > 0 {
		t.Fatalf("apt-get update (exit %d):\n%s", code, o)
	}
	reqs := takeRequests()
	if !regexp.MustCompile(`(?m)^200 /dists/bullseye/main/binary-amd64/by-hash/SHA256/[0-9a-f]{64}$`).MatchString(reqs) {
		t.Errorf("apt did not fetch the index by its SHA256 (Acquire-By-Hash):\n%s", reqs)
	}
	t.Logf("apt-get update fetched:\n%s", reqs)
	o, code = chroot("apt-get", direct, "install", "-y", "-q", "--no-install-recommends", "openshell-gateway")
	if code != 0 {
		t.Fatalf("apt-get install openshell-gateway (exit %d):\n%s", code, o)
	}
	if !strings.Contains(o, "libz3-4") {
		t.Errorf("apt did not pull libz3-4:\n%s", o)
	}
	if v := installed(); v != "0.1.0-1~deb11" {
		t.Errorf("installed %q, want 0.1.0-1~deb11", v)
	}
	o, code = chroot("env", "LD_BIND_NOW=1", "/usr/bin/openshell-gateway", "--version")
	if code != 0 || !strings.Contains(o, "libz3.so.4") {
		t.Errorf("the installed binary (exit %d) printed:\n%s", code, o)
	}
	takeRequests()

	// 2. Upgrade to v2.
	publish("0.1.0", "0.2.0")
	o, code = chroot("apt-get", direct, "update")
	if code != 0 || len(warnings(o)) > 0 {
		t.Fatalf("apt-get update after v2 (exit %d):\n%s", code, o)
	}
	o, code = chroot("apt-get", direct, "upgrade", "-y", "-q")
	if code != 0 {
		t.Fatalf("apt-get upgrade (exit %d):\n%s", code, o)
	}
	if v := installed(); v != "0.2.0-1~deb11" {
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
	if code != 0 || len(warnings(o)) > 0 || !strings.Contains(reqs, "200 /dists/bullseye/Release.gpg") {
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
	os.WriteFile(filepath.Join(root, "etc/apt/keyrings/relpack-test.asc"), otherPub, 0o644)
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
