package repo

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/release"
	"relpack/pkg/sign/signtest"
)

const signedDemoConfig = "../../testdata/demo/packaging-signed.yaml"

// packaging-signed.yaml (make demo's configuration) is the demo
// configuration plus a signing: section, nothing else.
func TestSignedDemoConfig(t *testing.T) {
	canon := func(p string) []byte {
		c, err := config.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		c.File, c.Dir, c.Signing = "", "", nil
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(canon(demoConfig), canon(signedDemoConfig)) {
		t.Errorf("%s is no longer %s plus signing:; copy the change over", signedDemoConfig, demoConfig)
	}
}

// make demo's path: a release signed with packaging.yaml's key, the tree
// signed with the same configuration's key. No warning (every rpm is
// signed by the repository's key), KEY.asc is the release's, and gpgv
// accepts every InRelease and repomd.xml.asc with it.
func TestSignedDemoRepository(t *testing.T) {
	testdeps.Tools(t, "gpgv")
	dist := filepath.Join(t.TempDir(), "dist")
	if b, err := exec.Command(clitest.Bin(t), "build", "-q", "--sign", "-c", signedDemoConfig, "--version", "0.1.0", "--out", dist).CombinedOutput(); err != nil {
		t.Fatalf("relpack build --sign: %v\n%s", err, b)
	}
	cfg, err := config.Load(signedDemoConfig)
	if err != nil {
		t.Fatal(err)
	}
	key, err := release.SigningKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "repo")
	res := mustRun(t, Options{Dirs: []string{dist}, Out: out, URL: "http://127.0.0.1:8000", Config: cfg, Key: key})
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %q", res.Warnings)
	}
	a, _ := os.ReadFile(filepath.Join(dist, "KEY.asc"))
	b, _ := os.ReadFile(filepath.Join(out, "KEY.asc"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the tree's KEY.asc is not the release's")
	}
	// gpgv reads a binary keyring: KEY.asc through gpg, in a home of its own.
	home := signtest.VerifierHome(t, filepath.Join(out, "KEY.asc"))
	bin, errOut, err := signtest.GPG(home, nil, "--export", key.Fingerprint)
	if err != nil || bin == "" {
		t.Fatalf("gpg --export: %v\n%s", err, errOut)
	}
	keyring := filepath.Join(t.TempDir(), "key.gpg")
	os.WriteFile(keyring, []byte(bin), 0o644)
	signed, _ := filepath.Glob(filepath.Join(out, "deb/dists/*/InRelease"))
	sigs, _ := filepath.Glob(filepath.Join(out, "rpm/*/*/repodata/repomd.xml.asc"))
	// One InRelease per suite, one repomd.xml.asc per rpm target and arch,
	// of what the record says the tree publishes.
	st, err := ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	rpmDirs, suites := 0, len(st.Suites)
	for _, r := range st.RPMRepos {
		rpmDirs += len(r.Arches)
	}
	for _, s := range st.Suites { // the demo splits debug symbols: each suite has its SUITE-debug
		if _, err := os.Stat(filepath.Join(out, "deb/dists", DebugSuite(s.Suite), "InRelease")); err != nil {
			t.Errorf("suite %s has no debug suite %s: %v", s.Suite, DebugSuite(s.Suite), err)
		}
		suites++
	}
	if len(signed) != suites || len(sigs) != rpmDirs || len(st.Suites) < 5 || rpmDirs < 4 {
		t.Fatalf("%d InRelease for %d suites (debug suites too), %d repomd.xml.asc for %d rpm folders", len(signed), suites, len(sigs), rpmDirs)
	}
	for _, p := range signed {
		if o, err := exec.Command("gpgv", "--keyring", keyring, p).CombinedOutput(); err != nil {
			t.Errorf("gpgv %s: %v\n%s", p, err, o)
		}
	}
	for _, p := range sigs {
		if o, err := exec.Command("gpgv", "--keyring", keyring, p, p[:len(p)-len(".asc")]).CombinedOutput(); err != nil {
			t.Errorf("gpgv %s: %v\n%s", p, err, o)
		}
	}
	checkTree(t, out)
}
