package repo

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/pkg/manifest"
	"relpack/pkg/sign/signtest"
)

// signedDemo builds the demo release at version, signed with
// packaging-signed.yaml's key (make demo's path), with the real CLI.
func signedDemo(t *testing.T, version string) string {
	t.Helper()
	dist := filepath.Join(t.TempDir(), "dist-"+version)
	if b, err := exec.Command(clitest.Bin(t), "build", "-q", "--sign", "-c", signedDemoConfig, "--version", version, "--out", dist).CombinedOutput(); err != nil {
		t.Fatalf("relpack build --sign %s: %v\n%s", version, err, b)
	}
	return dist
}

// repoCLI runs relpack repo with packaging-signed.yaml's key.
func repoCLI(t *testing.T, out string, dirs ...string) (stdout, stderr string, code int) {
	t.Helper()
	args := append([]string{"repo"}, dirs...)
	return clitest.Run(t, append(args, "--out", out, "--url", testURL, "-c", signedDemoConfig)...)
}

// checkPublished holds the tree to release dist: every deb's and rpm's
// SBOMs are beside it in the pool with the release's bytes and listed in
// the record with their sha256; the provenance and its signature are
// under releases/VERSION/ with the release's bytes and the signature
// verifies with gpg against the tree's KEY.asc. Neither apt's Packages nor
// rpm-md's primary lists an SBOM.
func checkPublished(t *testing.T, out, dist string) {
	t.Helper()
	m := readManifest(t, dist)
	same := func(treePath, releaseFile string) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(out, treePath))
		if err != nil {
			t.Errorf("the tree lacks %s: %v", treePath, err)
			return
		}
		want, _ := os.ReadFile(filepath.Join(dist, releaseFile))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the release's %s", treePath, releaseFile)
		}
	}
	st, err := ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			for _, s := range a.SBOMs {
				recorded[SBOMPath(a, s)] = s.SHA256
			}
		}
	}
	n := 0
	for _, a := range m.Artifacts {
		if a.Kind != "deb" && a.Kind != "rpm" {
			continue
		}
		if len(a.SBOMs) == 0 {
			t.Fatalf("%s has no SBOMs: the test needs a release with them", a.File)
		}
		pkgPath := Layout(m.Product, Artifact{File: a.File, Kind: a.Kind, Distro: a.Distro, Arch: a.Arch})
		same(pkgPath, a.File)
		for _, s := range a.SBOMs {
			p := path.Dir(pkgPath) + "/" + s.File
			same(p, s.File)
			if recorded[p] != s.SHA256 {
				t.Errorf("%s records %s with sha256 %q, the release %s", StateFile, p, recorded[p], s.SHA256)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no SBOM checked")
	}
	prov := "releases/" + m.Version + "/" + manifest.ProvenanceFile
	same(prov, manifest.ProvenanceFile)
	same(prov+".asc", manifest.ProvenanceFile+".asc")
	home := signtest.Home(t)
	if _, e, err := signtest.GPG(home, nil, "--import", filepath.Join(out, "KEY.asc")); err != nil {
		t.Fatalf("gpg --import KEY.asc: %v\n%s", err, e)
	}
	status, e, err := signtest.GPG(home, nil, "--status-fd", "1", "--verify", filepath.Join(out, prov+".asc"), filepath.Join(out, prov))
	if err != nil || !strings.Contains(status, "GOODSIG") || !strings.Contains(status, "VALIDSIG "+st.Key.Fingerprint) {
		t.Errorf("gpg --verify %s.asc with the tree's KEY.asc: %v\n%s%s", prov, err, status, e)
	}
	indexes, _ := filepath.Glob(filepath.Join(out, "deb", "dists", "*", "main", "binary-*", "Packages"))
	prim, _ := filepath.Glob(filepath.Join(out, "rpm", "*", "*", "repodata", "*primary.xml*"))
	if len(indexes) == 0 || len(prim) == 0 {
		t.Fatalf("no Packages (%d) or primary (%d) index found", len(indexes), len(prim))
	}
	for _, p := range indexes {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(".spdx.json")) || bytes.Contains(b, []byte(".cdx.json")) {
			t.Errorf("%s lists an SBOM: the indexes list packages only", p)
		}
	}
}

// The signed demo release into a tree, through the CLI: its SBOMs beside
// its packages, its provenance under releases/0.1.0/ (gpg verifies it with
// the tree's KEY.asc: the tree's key signed the release), the same release
// again changes nothing, a second release is added beside it, a release
// with a tampered SBOM is refused before the tree is touched, and a
// published SBOM changed in the tree is refused by "check the pool".
func TestRepoPublishesSBOMsAndProvenance(t *testing.T) {
	d1, d2 := signedDemo(t, "0.1.0"), signedDemo(t, "0.2.0")
	out := filepath.Join(t.TempDir(), "repo")
	if _, stderr, code := repoCLI(t, out, d1); code != 0 {
		t.Fatalf("relpack repo: exit %d\n%s", code, stderr)
	}
	checkPublished(t, out, d1)
	checkTree(t, out)

	before := snapshot(t, out)
	stdout, stderr, code := repoCLI(t, out, d1)
	if code != 0 {
		t.Fatalf("the same release again: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "already holds 0.1.0; nothing written") {
		t.Errorf("the same release again is not reported unchanged:\n%s", stdout)
	}
	sameTree(t, "the same release again", before, snapshot(t, out))

	// A tampered SBOM: verify-release refuses the release, the tree is
	// as it was.
	bad := copyRelease(t, d2)
	sb := readManifest(t, bad).Artifacts[0].SBOMs[0].File
	b, _ := os.ReadFile(filepath.Join(bad, sb))
	os.WriteFile(filepath.Join(bad, sb), bytes.Replace(b, []byte("{"), []byte("{ "), 1), 0o644)
	_, stderr, code = repoCLI(t, out, bad)
	if code != 1 || !strings.Contains(stderr, sb) {
		t.Errorf("a tampered SBOM: exit %d, want 1 naming %s\n%s", code, sb, stderr)
	}
	sameTree(t, "a refused release", before, snapshot(t, out))

	if _, stderr, code := repoCLI(t, out, d2); code != 0 {
		t.Fatalf("a second release: exit %d\n%s", code, stderr)
	}
	checkPublished(t, out, d1)
	checkPublished(t, out, d2)
	checkTree(t, out)

	// A published SBOM changed in the tree: the next run refuses it,
	// writing nothing.
	st, _ := ReadState(out)
	a := st.Releases[0].Artifacts[0]
	p := filepath.Join(out, SBOMPath(a, a.SBOMs[0]))
	os.WriteFile(p, []byte("{}\n"), 0o644)
	before = snapshot(t, out)
	_, stderr, code = repoCLI(t, out, d2)
	if code != 1 || !strings.Contains(stderr, p+" has sha256") || !strings.Contains(stderr, "changed outside relpack") {
		t.Errorf("a changed SBOM in the pool: exit %d\n%s", code, stderr)
	}
	sameTree(t, "a changed SBOM in the pool", before, snapshot(t, out))
}

// A hostile record: an SBOM or provenance entry whose name leaves its
// folder is refused as the record is read, and nothing is written, inside
// the tree or beside it.
func TestRepoRecordRefusesHostileSBOMNames(t *testing.T) {
	d1 := signedDemo(t, "0.1.0")
	parent := t.TempDir()
	out := filepath.Join(parent, "repo")
	if _, stderr, code := repoCLI(t, out, d1); code != 0 {
		t.Fatalf("relpack repo: exit %d\n%s", code, stderr)
	}
	good, err := os.ReadFile(filepath.Join(out, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(st *State)
		want string
	}{
		{"an sboms name with ../", func(st *State) {
			st.Releases[0].Artifacts[0].SBOMs[0].File = "../../../../../x.deb.spdx.json"
		}, "is not a file name relpack publishes there"},
		{"an SBOM of another package", func(st *State) {
			st.Releases[0].Artifacts[0].SBOMs[0].File = st.Releases[0].Artifacts[1].File + ".spdx.json"
		}, "is not a file name relpack publishes there"},
		{"an SBOM listed twice", func(st *State) {
			a := &st.Releases[0].Artifacts[0]
			a.SBOMs = append(a.SBOMs, a.SBOMs[0])
		}, "listed twice or out of order"},
		{"an SBOM sha256 not hex", func(st *State) { st.Releases[0].Artifacts[0].SBOMs[0].SHA256 = strings.Repeat("Z", 64) }, "bad sha256 or size"},
		{"a provenance name with ../", func(st *State) { st.Releases[0].Provenance[0].File = "../../KEY.asc" }, "provenance: \"../../KEY.asc\""},
	} {
		var st State
		if err := json.Unmarshal(good, &st); err != nil {
			t.Fatal(err)
		}
		c.edit(&st)
		b, err := st.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(out, StateFile), b, 0o644)
		before := snapshot(t, parent)
		_, stderr, code := repoCLI(t, out, d1)
		if code != 1 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "do not edit it") {
			t.Errorf("%s: exit %d, want 1 and %q\n%s", c.name, code, c.want, stderr)
		}
		sameTree(t, c.name, before, snapshot(t, parent))
	}
}

// A release without SBOMs or provenance (built before relpack wrote them)
// publishes as before: no SBOM in the pool, no releases/ folder, no sboms
// or provenance in the record.
func TestRepoReleaseWithoutSBOMs(t *testing.T) {
	dist := copyRelease(t, demoRelease(t, "0.1.0", ""))
	m := readManifest(t, dist)
	for _, a := range m.Artifacts {
		for _, s := range a.SBOMs {
			os.Remove(filepath.Join(dist, s.File))
		}
	}
	os.Remove(filepath.Join(dist, manifest.ProvenanceFile))
	editManifest(t, dist, func(m *manifest.Manifest) {
		for i := range m.Artifacts {
			m.Artifacts[i].SBOMs = nil
		}
		m.Provenance = nil
	})
	out := filepath.Join(t.TempDir(), "repo")
	mustRun(t, opts(testKey(t), out, dist))
	checkTree(t, out)
	for p := range snapshot(t, out) {
		if strings.HasSuffix(p, ".spdx.json") || strings.HasSuffix(p, ".cdx.json") || strings.HasPrefix(p, "releases/") {
			t.Errorf("the tree holds %s, for a release without SBOMs or provenance", p)
		}
	}
	rec, _ := os.ReadFile(filepath.Join(out, StateFile))
	if bytes.Contains(rec, []byte(`"sboms"`)) || bytes.Contains(rec, []byte(`"provenance"`)) {
		t.Errorf("the record lists SBOMs or provenance of a release without them:\n%s", rec)
	}
}

// A release given again whose SBOM differs from the published one is
// refused naming that SBOM, like a package whose bytes differ.
func TestSameReleaseNamesDifferingSBOM(t *testing.T) {
	sum := func(c string) string { return strings.Repeat(c, 64) }
	art := func(sbomSum string) Artifact {
		a := Artifact{File: "p_1_amd64.deb", Kind: "deb", Distro: "debian12", Arch: "x86_64", SHA256: sum("a")}
		a.Path = Layout("p", a)
		a.SBOMs = []PoolFile{{File: a.File + ".spdx.json", SHA256: sbomSum}}
		return a
	}
	have := Release{Product: "p", Version: "1.0.0", ManifestSHA256: sum("1"), Artifacts: []Artifact{art(sum("b"))}}
	in := &input{dir: "/rel", rel: Release{Product: "p", Version: "1.0.0", ManifestSHA256: sum("2"), Artifacts: []Artifact{art(sum("c"))}}}
	err := sameRelease("/tree", have, in)
	if err == nil || !strings.Contains(err.Error(), "/rel/p_1_amd64.deb.spdx.json differs from the published file") {
		t.Errorf("got %v", err)
	}
}
