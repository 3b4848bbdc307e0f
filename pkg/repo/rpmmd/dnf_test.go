package rpmmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
)

// TestDNFInstallsAndUpgrades proves the repository with the real dnf
// (Debian 12's dnf 4.14): relpack builds v1 and v2 of the demo, signed;
// WriteRepo indexes v1; a local HTTP server serves the tree; dnf, with
// gpgcheck=1 and repo_gpgcheck=1, installs openshell-gateway into a root
// seeded like an EL8 host (internal/rpmroot: glibc 2.28, z3-libs, bash and
// systemd in its rpm database), running its scriptlets; after v2 is added
// and the indexes rewritten, dnf upgrade installs v2. Refused, with dnf's
// own messages and exit status 1: a primary.xml.gz changed under an
// unchanged repomd.xml, a repomd.xml changed without a new signature, a
// repository without repomd.xml.asc, and (gpgcheck) an unsigned v3.
//
// The scriptlets run for real (no tsflags=noscripts): the root has dash as
// /bin/sh and a systemctl that logs its calls (rpmroot.ShellRoot).
func TestDNFInstallsAndUpgrades(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (dnf runs the scriptlets chrooted into the install root); CI runs as root")
	}
	testdeps.Tools(t, "dnf", "rpm", "gpg")
	key := newKey(t)
	cfg := signedDemoConfig(t, key)
	v1 := buildRelease(t, cfg, "0.1.0", true)
	v2 := buildRelease(t, cfg, "0.2.0", true)
	v3 := buildRelease(t, cfg, "0.3.0", false) // not signed

	repo := filepath.Join(t.TempDir(), "repo")
	add := func(rpms ...string) {
		t.Helper()
		var pkgs []Package
		for _, r := range rpms {
			href := "Packages/" + filepath.Base(r)
			copyFile(t, r, filepath.Join(repo, href))
			pkgs = append(pkgs, Package{Path: filepath.Join(repo, href), Href: href})
		}
		if err := WriteRepo(repo, pkgs, Options{Time: time.Unix(1700000000, 0), Key: key.key}); err != nil {
			t.Fatal(err)
		}
	}
	add(v1)
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer srv.Close()

	// The install root: /bin/sh (dash) and a logging systemctl so rpm can
	// run the scriptlets, and the EL8-like rpm database.
	root := rpmroot.ShellRoot(t, false, true)
	rpmroot.SeedEL8(t, root)

	conf := t.TempDir()
	reposDir := filepath.Join(conf, "repos.d")
	rpmroot.WriteFile(t, filepath.Join(reposDir, "relpack.repo"), "[relpack]\n"+
		"name=relpack test repository\n"+
		"baseurl="+srv.URL+"/\n"+
		"enabled=1\n"+
		"gpgcheck=1\n"+
		"repo_gpgcheck=1\n"+
		"gpgkey=file://"+key.gen.PublicFile+"\n"+
		// dnf would otherwise keep the metadata it fetched for 48 hours
		// and not see v2.
		"metadata_expire=0\n", 0o644)
	// A dnf.conf of the test's own: the machine's /etc/dnf/dnf.conf and
	// /etc/yum.repos.d play no part.
	dnfConf := filepath.Join(conf, "dnf.conf")
	rpmroot.WriteFile(t, dnfConf, "[main]\nreposdir="+reposDir+"\nlogdir="+filepath.Join(conf, "log")+"\ninstall_weak_deps=0\n", 0o644)
	cache := filepath.Join(conf, "cache")
	dnfIn := func(cache string, args ...string) (string, string, error) {
		return run([]string{"LC_ALL=C"}, "dnf", append([]string{
			"-c", dnfConf, "--installroot=" + root, "--setopt=reposdir=" + reposDir, "--setopt=cachedir=" + cache,
			"--releasever=8", "--disablerepo=*", "--enablerepo=relpack", "-y",
		}, args...)...)
	}
	dnf := func(args ...string) (string, string, error) { return dnfIn(cache, args...) }
	installed := func(step, want string) {
		t.Helper()
		o, e, err := run(nil, "rpm", "--root", root, "-q", "--qf", "%{VERSION}-%{RELEASE}", "openshell-gateway")
		if err != nil || o != want {
			t.Fatalf("%s: rpm -q openshell-gateway: %q %v %s, want %s", step, o, err, e, want)
		}
	}

	o, e, err := dnf("install", "openshell-gateway")
	if err != nil {
		t.Fatalf("dnf install: %v\n%s%s", err, o, e)
	}
	if strings.Contains(o+e, "scriptlet failed") || strings.Contains(o+e, "Error in ") {
		t.Errorf("dnf install: a scriptlet failed:\n%s%s", o, e)
	}
	// repo_gpgcheck and gpgcheck made dnf import the key (-y accepts it).
	if !strings.Contains(o+e, "Importing GPG key 0x"+key.gen.KeyID[8:]) {
		t.Errorf("dnf install did not import the repository key:\n%s%s", o, e)
	}
	installed("install", "0.1.0-1.el8")
	if _, err := os.Stat(filepath.Join(root, "usr/bin/openshell-gateway")); err != nil {
		t.Errorf("dnf install: %v", err)
	}
	// The %post scriptlet ran (a user unit: systemctl --global preset).
	if log, _ := os.ReadFile(filepath.Join(root, "var/log/systemctl.log")); !strings.Contains(string(log), "preset --global openshell-gateway.service") {
		t.Errorf("dnf install: the scriptlets did not call systemctl; its log:\n%s", log)
	}
	if keys := sh(t, "rpm", "--root", root, "-q", "gpg-pubkey"); !strings.Contains(keys, "gpg-pubkey-"+strings.ToLower(key.gen.KeyID[8:])+"-") {
		t.Errorf("the package key is not in the root's rpm database: %s", keys)
	}

	add(v1, v2)
	// --refresh, as a user runs it after a release: with
	// metadata_expire=0 alone this step failed now and then ("Nothing to
	// do", the v1 metadata reused) when run beside other test packages.
	o, e, err = dnf("--refresh", "upgrade")
	if err != nil {
		t.Fatalf("dnf upgrade: %v\n%s%s", err, o, e)
	}
	if !strings.Contains(o, "Upgraded:") {
		t.Errorf("dnf upgrade:\n%s%s", o, e)
	}
	installed("upgrade", "0.2.0-1.el8")

	// The untouched repository from a fresh cache: the refusals below
	// come from the tampering, not from the cache.
	if o, e, err := dnfIn(t.TempDir(), "makecache"); err != nil {
		t.Fatalf("dnf makecache with a fresh cache: %v\n%s%s", err, o, e)
	}
	refused := func(what, want string) {
		t.Helper()
		o, e, err := dnfIn(t.TempDir(), "makecache")
		if code := exitCode(err); code != 1 || !strings.Contains(o+e, want) {
			t.Errorf("%s: dnf makecache: exit %d (%v), want 1 and an error with %q:\n%s%s", what, code, err, want, o, e)
		}
	}

	// A primary.xml.gz changed under the same repomd.xml.
	var primary string
	for _, d := range readRepomd(t, repo).Data {
		if d.Type == "primary" {
			primary = filepath.Join(repo, d.Location.Href)
		}
	}
	good, err := os.ReadFile(primary)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 0x01
	if err := os.WriteFile(primary, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	refused("tampered primary.xml.gz", "Downloading successful, but checksum doesn't match")
	if err := os.WriteFile(primary, good, 0o644); err != nil {
		t.Fatal(err)
	}

	// repomd.xml changed, repomd.xml.asc not: repo_gpgcheck refuses it.
	mdPath := filepath.Join(repo, "repodata/repomd.xml")
	mdGood, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	mdBad := strings.Replace(string(mdGood), "<revision>1700000000</revision>", "<revision>1700000001</revision>", 1)
	if mdBad == string(mdGood) {
		t.Fatal("no revision 1700000000 in repomd.xml")
	}
	if err := os.WriteFile(mdPath, []byte(mdBad), 0o644); err != nil {
		t.Fatal(err)
	}
	refused("repomd.xml edited without a new signature", "repomd.xml GPG signature verification error: Bad GPG signature")
	// And without any signature.
	if err := os.WriteFile(mdPath, mdGood, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(repo, "repodata/repomd.xml.asc")); err != nil {
		t.Fatal(err)
	}
	refused("repomd.xml.asc missing", "GPG verification is enabled, but GPG signature is not available")

	// A package relpack built without --sign, in a correctly signed
	// repository: gpgcheck=1 refuses to install it.
	add(v1, v2, v3)
	o, e, err = dnf("--refresh", "upgrade")
	if code := exitCode(err); code != 1 || !strings.Contains(o+e, "is not signed") || !strings.Contains(o+e, "GPG check FAILED") {
		t.Errorf("dnf upgrade to an unsigned package: exit %d (%v), want 1, \"is not signed\" and \"GPG check FAILED\":\n%s%s", code, err, o, e)
	}
	installed("after the refused upgrade", "0.2.0-1.el8")
}

// exitCode is the exit status of a finished command (0 for none, -1 when
// it did not run or was killed).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
