package repo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"relpack/internal/clitest"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

const demoConfig = "../../testdata/demo/packaging.yaml"

// releases are the demo builds, made once per test binary by the real
// CLI (relpack build) into folders removed by TestMain.
var (
	relMu    sync.Mutex
	releases = map[string]string{}
	relRoot  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if relRoot != "" {
		os.RemoveAll(relRoot)
	}
	clitest.Cleanup()
	os.Exit(code)
}

// demoRelease builds the demo configuration at version (with
// SOURCE_DATE_EPOCH epoch, "" for relpack's default) once and returns the
// folder. Tests must not change it: copyRelease gives a private copy.
func demoRelease(t *testing.T, version, epoch string) string {
	t.Helper()
	relMu.Lock()
	defer relMu.Unlock()
	key := version + "@" + epoch
	if d, ok := releases[key]; ok {
		return d
	}
	if relRoot == "" {
		d, err := os.MkdirTemp("", "relpack-repo-releases-")
		if err != nil {
			t.Fatal(err)
		}
		relRoot = d
	}
	out := filepath.Join(relRoot, strings.NewReplacer("@", "-", "+", "-").Replace(key))
	cmd := exec.Command(clitest.Bin(t), "build", "-q", "-c", demoConfig, "--version", version, "--out", out)
	cmd.Env = os.Environ()
	if epoch != "" {
		cmd.Env = append(cmd.Env, "SOURCE_DATE_EPOCH="+epoch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("relpack build %s: %v\n%s", version, err, b)
	}
	releases[key] = out
	return out
}

// copyRelease copies a release folder's files into a new folder.
func copyRelease(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editManifest changes a release's manifest.json with edit and writes
// SHA256SUMS again, as a build would have: what a release made by another
// (or a hostile) tool looks like.
func editManifest(t *testing.T, dir string, edit func(m *manifest.Manifest)) {
	t.Helper()
	mp := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	nb, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, nb, 0o644); err != nil {
		t.Fatal(err)
	}
	var files []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "SHA256SUMS" {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if err := pack.WriteSHA256SUMS(filepath.Join(dir, "SHA256SUMS"), files); err != nil {
		t.Fatal(err)
	}
}

func readManifest(t *testing.T, dir string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.ReadValid(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// artifactOf returns the first artifact of kind for distro (and arch).
func artifactOf(t *testing.T, dir, kind, distro, arch string) manifest.Artifact {
	t.Helper()
	for _, a := range readManifest(t, dir).Artifacts {
		if a.Kind == kind && a.Distro == distro && a.Arch == arch {
			return a
		}
	}
	t.Fatalf("%s: no %s for %s %s", dir, kind, distro, arch)
	return manifest.Artifact{}
}

// testKey makes a throwaway key with the real gpg and loads it as
// relpack does.
func testKey(t *testing.T) *sign.Key {
	t.Helper()
	g := signtest.Generate(t, "ed25519", "")
	k, err := sign.LoadKey(g.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const testURL = "https://packages.example.org/openshell"

func opts(key *sign.Key, out string, dirs ...string) Options {
	// The demo releases of these tests are unsigned.
	return Options{Dirs: dirs, Out: out, URL: testURL, Key: key, AllowUnsignedRelease: true}
}

// snapshot reads every file of a tree (path -> bytes), the lock file
// aside.
func snapshot(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == LockFile {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree compares two snapshots file by file.
func sameTree(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	for p, ab := range a {
		bb, ok := b[p]
		switch {
		case !ok:
			t.Errorf("%s: %s only in the first tree", what, p)
		case !bytes.Equal(ab, bb):
			t.Errorf("%s: %s differs", what, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			t.Errorf("%s: %s only in the second tree", what, p)
		}
	}
}

// checkTree is the consistency oracle: every file an index lists is in
// the tree with the checksum and size the index gives. It reads each
// suite's Release (SHA256 section), every Packages file it lists (Filename,
// SHA256, Size), each repomd.xml (data locations and checksums) and each
// primary.xml.gz (package locations and checksums). It returns the
// package files listed, per index, for the callers' own checks.
func checkTree(t *testing.T, root string) map[string][]string {
	t.Helper()
	listed := map[string][]string{}
	check := func(index, p, sum string, size int64) {
		t.Helper()
		got, n, err := pack.SHA256File(p)
		if err != nil {
			t.Errorf("%s lists %s: %v", index, p, err)
			return
		}
		if got != sum || (size >= 0 && n != size) {
			t.Errorf("%s lists %s with sha256 %s size %d; the tree holds sha256 %s size %d", index, p, sum, size, got, n)
		}
	}
	releases, _ := filepath.Glob(filepath.Join(root, "deb", "dists", "*", "Release"))
	for _, rel := range releases {
		suite := filepath.Dir(rel)
		inRel := filepath.Join(suite, "InRelease")
		if _, err := os.Stat(inRel); err != nil {
			t.Errorf("%s without InRelease: %v", rel, err)
		}
		b, err := os.ReadFile(rel)
		if err != nil {
			t.Fatal(err)
		}
		inSHA := false
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, " ") {
				inSHA = line == "SHA256:"
				continue
			}
			if !inSHA {
				continue
			}
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Errorf("%s: SHA256 line %q", rel, line)
				continue
			}
			size, _ := strconv.ParseInt(f[1], 10, 64)
			p := filepath.Join(suite, f[2])
			check(rel, p, f[0], size)
			if filepath.Base(f[2]) == "Packages" {
				for _, st := range stanzas(t, p) {
					size, _ := strconv.ParseInt(st["Size"], 10, 64)
					check(p, filepath.Join(root, "deb", st["Filename"]), st["SHA256"], size)
					listed[p] = append(listed[p], st["Filename"])
				}
			}
		}
	}
	repomds, _ := filepath.Glob(filepath.Join(root, "rpm", "*", "*", "repodata", "repomd.xml"))
	debug, _ := filepath.Glob(filepath.Join(root, "rpm", "*", "*", "debug", "repodata", "repomd.xml")) // debuginfo repositories
	repomds = append(repomds, debug...)
	for _, rm := range repomds {
		dir := filepath.Dir(filepath.Dir(rm))
		var md struct {
			Data []struct {
				Type     string `xml:"type,attr"`
				Checksum string `xml:"checksum"`
				Location struct {
					Href string `xml:"href,attr"`
				} `xml:"location"`
				Size int64 `xml:"size"`
			} `xml:"data"`
		}
		b, err := os.ReadFile(rm)
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b, &md); err != nil {
			t.Fatalf("%s: %v", rm, err)
		}
		if _, err := os.Stat(rm + ".asc"); err != nil {
			t.Errorf("%s without its signature: %v", rm, err)
		}
		for _, d := range md.Data {
			p := filepath.Join(dir, d.Location.Href)
			check(rm, p, strings.TrimSpace(d.Checksum), d.Size)
			if d.Type != "primary" {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			var prim struct {
				Packages []struct {
					Checksum string `xml:"checksum"`
					Location struct {
						Href string `xml:"href,attr"`
					} `xml:"location"`
					Size struct {
						Package int64 `xml:"package,attr"`
					} `xml:"size"`
				} `xml:"package"`
			}
			pb, _ := io.ReadAll(zr)
			f.Close()
			if err := xml.Unmarshal(pb, &prim); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, pk := range prim.Packages {
				check(p, filepath.Join(dir, pk.Location.Href), strings.TrimSpace(pk.Checksum), pk.Size.Package)
				listed[rm] = append(listed[rm], pk.Location.Href)
			}
		}
	}
	return listed
}

// stanzas parses a Packages file into its stanzas' single-line fields.
func stanzas(t *testing.T, p string) []map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = map[string]string{}
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, " ") {
			cur[k] = v
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// mustRun runs o and fails the test on an error.
func mustRun(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Run(o)
	if err != nil {
		t.Fatalf("relpack repo: %v", err)
	}
	return res
}

// refused runs o and wants an error holding every want.
func refused(t *testing.T, o Options, want ...string) {
	t.Helper()
	_, err := Run(o)
	if err == nil {
		t.Fatalf("relpack repo %v: no error, want one with %q", o.Dirs, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
