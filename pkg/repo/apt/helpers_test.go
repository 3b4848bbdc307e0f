package apt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"relpack/internal/clitest"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

const demoConfig = "../../../testdata/demo/packaging.yaml"

// The two demo releases the tests publish: v1 is installed, v2 upgrades it.
var demoReleases = map[string]int64{"0.1.0": 1700000000, "0.2.0": 1700100000}

var (
	demoMu   sync.Mutex
	demoDirs = map[string]string{}
	tmpRoot  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	clitest.Cleanup()
	os.Exit(code)
}

// demoDist builds the demo release ver with relpack itself (once per test
// binary) and returns its --out folder.
func demoDist(t *testing.T, ver string) string {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if d, ok := demoDirs[ver]; ok {
		return d
	}
	epoch, ok := demoReleases[ver]
	if !ok {
		t.Fatalf("no demo release %s", ver)
	}
	if tmpRoot == "" {
		var err error
		if tmpRoot, err = os.MkdirTemp("", "relpack-apt-test-"); err != nil {
			t.Fatal(err)
		}
	}
	bin := clitest.Bin(t)
	out := filepath.Join(tmpRoot, "dist-"+ver)
	cfg, _ := filepath.Abs(demoConfig)
	cmd := exec.Command(bin, "build", "-q", "-c", cfg, "--version", ver, "--out", out)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch))
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("relpack build %s: %v\n%s", ver, err, o)
	}
	demoDirs[ver] = out
	return out
}

// demoDeb returns the debian11 (bullseye) deb of release ver for arch.
func demoDeb(t *testing.T, ver, arch string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(demoDist(t, ver), "*~deb11_"+arch+".deb"))
	if err != nil || len(m) != 1 {
		t.Fatalf("debian11 %s deb of %s: %v %v", arch, ver, m, err)
	}
	return m[0]
}

// releaseDate is the Release date a release's repository gets: its
// SOURCE_DATE_EPOCH.
func releaseDate(ver string) time.Time { return time.Unix(demoReleases[ver], 0).UTC() }

// testKey makes a throwaway signing key with gpg and loads it as relpack
// does.
func testKey(t *testing.T) (*sign.Key, signtest.GeneratedKey) {
	t.Helper()
	g := signtest.Generate(t, "rsa3072", "")
	t.Setenv(sign.PassphraseEnv, "")
	k, err := sign.LoadKey(g.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	return k, g
}

// addToPool copies debs into root's pool the way pkg/repo lays it out
// (pool/COMPONENT/FIRST-LETTER/NAME/) and returns them as Packages.
func addToPool(t *testing.T, root string, debs ...string) []Package {
	t.Helper()
	var ps []Package
	for _, d := range debs {
		rel := "pool/main/o/openshell-gateway/" + filepath.Base(d)
		dst := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, Package{Path: dst, Filename: rel})
	}
	return ps
}

// bullseyeSuite is the suite the tests publish the debian11 debs in.
func bullseyeSuite(pkgs []Package) Suite {
	return Suite{
		Suite: "bullseye", Codename: "bullseye", Component: "main",
		Arches: []string{"amd64", "arm64"}, Packages: pkgs,
		Origin: "relpack test", Label: "relpack test", Description: "relpack test repository",
	}
}

// handDeb writes a deb whose control file is exactly control, built by
// hand (dpkg-deb refuses to build a malformed one, which is the point):
// debian-binary, control.tar.gz holding ./control, an empty data.tar.gz.
func handDeb(t *testing.T, dir, name string, control []byte) string {
	t.Helper()
	tgz := func(files map[string][]byte) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		for n, data := range files {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
			tw.Write(data)
		}
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	member := func(n string, data []byte) {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", n, 0, 0, 0, "100644", len(data))
		ar.Write(data)
		if len(data)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	member("debian-binary", []byte("2.0\n"))
	member("control.tar.gz", tgz(map[string][]byte{"./control": control}))
	member("data.tar.gz", tgz(nil))
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ar.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
