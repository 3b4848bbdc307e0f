package rpmmd

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(filepath.Dir(demoDir))
	}
	clitest.Cleanup()
	os.Exit(code)
}

// run runs a program and returns its stdout, stderr and error.
func run(env []string, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), err
}

// sh runs a program and fails the test if it fails.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	o, e, err := run(nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, o, e)
	}
	return o
}

// testKey is a throwaway signing key made by the real gpg, loaded as
// relpack loads one.
type testKey struct {
	gen signtest.GeneratedKey
	key *sign.Key
}

func newKey(t *testing.T) testKey {
	t.Helper()
	g := signtest.Generate(t, "rsa3072", "")
	k, err := sign.LoadKey(g.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{g, k}
}

// signedDemoConfig is the demo's packaging.yaml with a signing section
// naming key's file (the demo itself has no key), written to a folder of
// its own with the fixture paths made absolute.
func signedDemoConfig(t *testing.T, key testKey) string {
	t.Helper()
	root, err := testdeps.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "testdata/demo/packaging.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(string(data), "../fixtures/", filepath.Join(root, "testdata/fixtures")+"/")
	if strings.Contains(cfg, "signing:") {
		t.Fatal("the demo config has a signing section already")
	}
	cfg += "signing:\n  key_file: " + key.gen.SecretFile + "\n"
	p := filepath.Join(t.TempDir(), "packaging.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildRelease runs `relpack build [--sign]` on the config for version
// and returns the el8 x86_64 rpm.
func buildRelease(t *testing.T, cfg, version string, signed bool) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	args := []string{"build", "-q", "-c", cfg, "--version", version, "--out", out}
	if signed {
		args = append(args, "--sign")
	}
	o, e, err := run([]string{"SOURCE_DATE_EPOCH=1700000000"}, clitest.Bin(t), args...)
	if err != nil {
		t.Fatalf("relpack build %s: %v\n%s%s", version, err, o, e)
	}
	// the package, not its -debuginfo rpm (the demo splits debug symbols)
	all, _ := filepath.Glob(filepath.Join(out, "*.el8.x86_64.rpm"))
	var m []string
	for _, p := range all {
		if !strings.Contains(filepath.Base(p), "-debuginfo-") {
			m = append(m, p)
		}
	}
	if len(m) != 1 {
		t.Fatalf("el8 x86_64 rpms of %s: %v", version, m)
	}
	return m[0]
}

var (
	demoOnce sync.Once
	demoDir  string
	demoErr  string
)

// demoRPMs builds the unsigned demo release once per test binary (every
// rpm of it: el8/el9, x86_64/aarch64) and returns its folder.
func demoRPMs(t *testing.T) string {
	t.Helper()
	bin := clitest.Bin(t)
	demoOnce.Do(func() {
		root, err := testdeps.ModuleRoot()
		if err != nil {
			demoErr = err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "rpmmd-demo-")
		if err != nil {
			demoErr = err.Error()
			return
		}
		demoDir = filepath.Join(dir, "dist")
		o, e, err := run([]string{"SOURCE_DATE_EPOCH=1700000000"}, bin, "build", "-q", "-c", filepath.Join(root, "testdata/demo/packaging.yaml"), "--version", "0.1.0", "--out", demoDir)
		if err != nil {
			demoErr = "relpack build: " + err.Error() + "\n" + o + e
		}
	})
	if demoErr != "" {
		t.Fatal(demoErr)
	}
	return demoDir
}

// primaryDoc is primary.xml as a client parses it.
type primaryDoc struct {
	Packages string       `xml:"packages,attr"`
	Package  []primaryPkg `xml:"package"`
}

type primaryPkg struct {
	Type    string `xml:"type,attr"`
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	} `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		PkgID string `xml:"pkgid,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Summary     string `xml:"summary"`
	Description string `xml:"description"`
	Packager    string `xml:"packager"`
	URL         string `xml:"url"`
	Time        struct {
		File  string `xml:"file,attr"`
		Build string `xml:"build,attr"`
	} `xml:"time"`
	Size struct {
		Package   string `xml:"package,attr"`
		Installed string `xml:"installed,attr"`
		Archive   string `xml:"archive,attr"`
	} `xml:"size"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Format struct {
		License     string `xml:"license"`
		Vendor      string `xml:"vendor"`
		Group       string `xml:"group"`
		BuildHost   string `xml:"buildhost"`
		SourceRPM   string `xml:"sourcerpm"`
		HeaderRange struct {
			Start string `xml:"start,attr"`
			End   string `xml:"end,attr"`
		} `xml:"header-range"`
		Provides    []entry `xml:"provides>entry"`
		Requires    []entry `xml:"requires>entry"`
		Conflicts   []entry `xml:"conflicts>entry"`
		Obsoletes   []entry `xml:"obsoletes>entry"`
		Suggests    []entry `xml:"suggests>entry"`
		Enhances    []entry `xml:"enhances>entry"`
		Recommends  []entry `xml:"recommends>entry"`
		Supplements []entry `xml:"supplements>entry"`
		Files       []file  `xml:"file"`
	} `xml:"format"`
}

type entry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

type file struct {
	Type string `xml:"type,attr"`
	Name string `xml:",chardata"`
}

type filelistsDoc struct {
	Packages string `xml:"packages,attr"`
	Package  []struct {
		PkgID   string `xml:"pkgid,attr"`
		Name    string `xml:"name,attr"`
		Arch    string `xml:"arch,attr"`
		Version struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Files []file `xml:"file"`
	} `xml:"package"`
}

type otherDoc struct {
	Packages string `xml:"packages,attr"`
	Package  []struct {
		PkgID     string `xml:"pkgid,attr"`
		Name      string `xml:"name,attr"`
		Arch      string `xml:"arch,attr"`
		Changelog []struct {
			Author string `xml:"author,attr"`
			Date   string `xml:"date,attr"`
			Text   string `xml:",chardata"`
		} `xml:"changelog"`
	} `xml:"package"`
}

type repomdDoc struct {
	Revision string `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		OpenChecksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"open-checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Timestamp string `xml:"timestamp"`
		Size      int64  `xml:"size"`
		OpenSize  int64  `xml:"open-size"`
	} `xml:"data"`
}

// readRepomd parses repo/repodata/repomd.xml.
func readRepomd(t *testing.T, repo string) repomdDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "repodata/repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var d repomdDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("repomd.xml: %v", err)
	}
	return d
}

// readData parses the data file of typ that repo's repomd.xml lists.
func readData(t *testing.T, repo, typ string, v any) {
	t.Helper()
	for _, d := range readRepomd(t, repo).Data {
		if d.Type != typ {
			continue
		}
		f, err := os.Open(filepath.Join(repo, d.Location.Href))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", d.Location.Href, err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", d.Location.Href, err)
		}
		if err := xml.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", d.Location.Href, err)
		}
		return
	}
	t.Fatalf("%s: repomd.xml lists no %s", repo, typ)
}

// copyFile copies src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
