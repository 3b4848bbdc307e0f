package repo

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/aptroot"
	"relpack/internal/clitest"
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
	root := aptroot.Bullseye(t)

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

	// The releases are built --sign with the same key, as a release job
	// does: relpack repo verifies each one's SHA256SUMS.asc against it.
	signedRelease := func(version string) string {
		t.Helper()
		dist := filepath.Join(t.TempDir(), "dist-"+version)
		o, err := exec.Command(clitest.Bin(t), "build", "-q", "--sign", "-c", cfg, "--version", version, "--out", dist).CombinedOutput()
		if err != nil {
			t.Fatalf("relpack build --sign %s: %v\n%s", version, err, o)
		}
		return dist
	}
	relpackRepo := func(dist string) {
		t.Helper()
		o, err := exec.Command(clitest.Bin(t), "repo", dist, "--out", tree, "--url", srv.URL, "-c", cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("relpack repo %s: %v\n%s", dist, err, o)
		}
	}
	relpackRepo(signedRelease("0.1.0"))

	// The set-up, with the tree's own files.
	pub, _ := os.ReadFile(filepath.Join(tree, "KEY.asc"))
	aptroot.WriteFile(t, root, KeyringPath("openshell-gateway"), pub)
	src, _ := os.ReadFile(filepath.Join(tree, SourcesName("openshell-gateway", "bullseye")))
	aptroot.WriteFile(t, root, "/etc/apt/sources.list.d/openshell-gateway.sources", src)

	aptroot.Update(t, root)
	aptroot.AptGet(t, root, "install", "-y", "-q", "--no-install-recommends", "openshell-gateway")
	if v := aptroot.Installed(t, root, "openshell-gateway"); v != "0.1.0-1~deb11" {
		t.Errorf("installed %q, want 0.1.0-1~deb11", v)
	}

	relpackRepo(signedRelease("0.2.0"))
	aptroot.Update(t, root)
	o := aptroot.AptGet(t, root, "upgrade", "-y", "-q")
	if v := aptroot.Installed(t, root, "openshell-gateway"); v != "0.2.0-1~deb11" {
		t.Errorf("after upgrade: installed %q, want 0.2.0-1~deb11\n%s", v, o)
	}
}
