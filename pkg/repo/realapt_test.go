package repo

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/sign/signtest"
)

// TestRelpackRepoToAptGet is the end-to-end path a user takes: the relpack
// CLI builds the demo release, relpack repo makes the tree, which is served
// over HTTP on loopback; in a debootstrapped Debian 11 root the set-up the
// docs give is followed with the tree's own files (KEY.asc into
// /etc/apt/keyrings/, the deb822 .sources file of the bullseye suite into
// sources.list.d/): apt-get update accepts the signature, apt-get install
// installs v1 (libz3-4 from the Debian mirror), and after relpack repo adds
// v2, apt-get update && apt-get upgrade installs v2.
func TestRelpackRepoToAptGet(t *testing.T) {
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
	// A copy: the cached root stays pristine.
	if o, err := exec.Command("cp", "-a", strings.TrimSpace(string(out)), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, o)
	}
	if o, err := exec.Command("cp", "/etc/resolv.conf", filepath.Join(root, "etc/resolv.conf")).CombinedOutput(); err != nil {
		t.Fatalf("cp resolv.conf: %v\n%s", err, o)
	}

	tree := filepath.Join(t.TempDir(), "repo")
	os.MkdirAll(tree, 0o755)
	srv := httptest.NewServer(http.FileServer(http.Dir(tree)))
	defer srv.Close()

	// The repository configuration: the demo's, signed with a throwaway key.
	key := signtest.Generate(t, "rsa3072", "")
	cfgDir := t.TempDir()
	secret, err := os.ReadFile(key.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfgDir, "key.asc"), secret, 0o600)
	cfg := filepath.Join(cfgDir, "packaging.yaml")
	demo, err := os.ReadFile(signedDemoConfig)
	if err != nil {
		t.Fatal(err)
	}
	// Relative paths of the demo configuration start at its folder: made
	// absolute, the copy loads from anywhere.
	abs, _ := filepath.Abs(filepath.Dir(signedDemoConfig))
	y := strings.ReplaceAll(string(demo), "../fixtures/", filepath.Dir(abs)+"/fixtures/")
	y = strings.ReplaceAll(y, "key_file: demo-signing-key.asc", "key_file: key.asc")
	os.WriteFile(cfg, []byte(y), 0o644)

	relpackRepo := func(dist string) {
		t.Helper()
		o, err := exec.Command(clitest.Bin(t), "repo", dist, "--out", tree, "--url", srv.URL, "-c", cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("relpack repo %s: %v\n%s", dist, err, o)
		}
	}
	relpackRepo(demoRelease(t, "0.1.0", ""))

	// The set-up, with the tree's own files.
	os.MkdirAll(filepath.Join(root, "etc/apt/keyrings"), 0o755)
	pub, _ := os.ReadFile(filepath.Join(tree, "KEY.asc"))
	os.WriteFile(filepath.Join(root, KeyringPath("openshell-gateway")), pub, 0o644)
	src, _ := os.ReadFile(filepath.Join(tree, SourcesName("openshell-gateway", "bullseye")))
	const sources = "/etc/apt/sources.list.d/openshell-gateway.sources"
	os.WriteFile(filepath.Join(root, sources), src, 0o644)

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
	ours := func(o string) []string {
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

	o, code := chroot("apt-get", direct, "update")
	if code != 0 || len(ours(o)) > 0 {
		t.Fatalf("apt-get update (exit %d):\n%s", code, o)
	}
	o, code = chroot("apt-get", direct, "install", "-y", "-q", "--no-install-recommends", "openshell-gateway")
	if code != 0 {
		t.Fatalf("apt-get install openshell-gateway (exit %d):\n%s", code, o)
	}
	if v := installed(); v != "0.1.0-1~deb11" {
		t.Errorf("installed %q, want 0.1.0-1~deb11", v)
	}

	relpackRepo(demoRelease(t, "0.2.0", ""))
	o, code = chroot("apt-get", direct, "update")
	if code != 0 || len(ours(o)) > 0 {
		t.Fatalf("apt-get update after v2 (exit %d):\n%s", code, o)
	}
	o, code = chroot("apt-get", direct, "upgrade", "-y", "-q")
	if code != 0 {
		t.Fatalf("apt-get upgrade (exit %d):\n%s", code, o)
	}
	if v := installed(); v != "0.2.0-1~deb11" {
		t.Errorf("after upgrade: installed %q, want 0.2.0-1~deb11\n%s", v, o)
	}
}
