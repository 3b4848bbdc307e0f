package repo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/clitest"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
)

// v1 then v2: the tree holds both releases' packages and every index
// lists every package of both, at the layout docs/repositories.md gives.
func TestIncrementalV1ThenV2(t *testing.T) {
	key := testKey(t)
	v1, v2 := demoRelease(t, "0.1.0", ""), demoRelease(t, "0.2.0", "")
	out := filepath.Join(t.TempDir(), "repo")

	res := mustRun(t, opts(key, out, v1))
	if len(res.Added) != 1 || res.Added[0].Version != "0.1.0" || res.Unchanged {
		t.Errorf("first run: %+v", res)
	}
	m1 := readManifest(t, v1)
	for _, a := range m1.Artifacts {
		var p string
		switch a.Kind {
		case "deb":
			p = "deb/pool/main/o/openshell-gateway/" + a.File
		case "rpm":
			p = "rpm/" + a.Distro + "/" + a.Arch + "/Packages/" + a.File
		default:
			if _, err := os.Stat(filepath.Join(out, a.File)); err == nil {
				t.Errorf("tarball %s published", a.File)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("%s: %v", a.File, err)
		}
	}
	for _, f := range []string{"KEY.asc", "keys/" + key.Fingerprint + ".asc", StateFile,
		"deb/openshell-gateway-bookworm.sources", "deb/openshell-gateway-bullseye.list", "deb/openshell-gateway-jammy.sources", "deb/openshell-gateway-noble.list",
		"rpm/el8/openshell-gateway.repo", "rpm/el9/openshell-gateway.repo"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%v", err)
		}
	}
	repoFile, _ := os.ReadFile(filepath.Join(out, "rpm/el8/openshell-gateway.repo"))
	for _, want := range []string{"baseurl=" + testURL + "/rpm/el8/$basearch/\n", "gpgcheck=1\n", "repo_gpgcheck=1\n", "gpgkey=" + testURL + "/KEY.asc\n"} {
		if !strings.Contains(string(repoFile), want) {
			t.Errorf(".repo lacks %q:\n%s", want, repoFile)
		}
	}
	sources, _ := os.ReadFile(filepath.Join(out, "deb/openshell-gateway-bookworm.sources"))
	if want := "Types: deb\nURIs: " + testURL + "/deb\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/openshell-gateway.asc\n"; string(sources) != want {
		t.Errorf(".sources:\n%s\nwant\n%s", sources, want)
	}
	list, _ := os.ReadFile(filepath.Join(out, "deb/openshell-gateway-bookworm.list"))
	if want := "deb [signed-by=/etc/apt/keyrings/openshell-gateway.asc] " + testURL + "/deb bookworm main\n"; string(list) != want {
		t.Errorf(".list: %q, want %q", list, want)
	}
	checkTree(t, out)

	res = mustRun(t, opts(key, out, v2))
	if len(res.Added) != 1 || res.Added[0].Version != "0.2.0" || len(res.Releases) != 2 {
		t.Errorf("second run: %+v", res)
	}
	st, err := ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Releases) != 2 || st.Releases[0].Version != "0.1.0" || st.Releases[1].Version != "0.2.0" {
		t.Errorf("record: %+v", st.Releases)
	}
	listed := checkTree(t, out)
	// Each index lists both versions' packages.
	want := map[string][]string{
		filepath.Join(out, "deb/dists/bookworm/main/binary-amd64/Packages"): {"0.1.0", "0.2.0"},
		filepath.Join(out, "deb/dists/bullseye/main/binary-arm64/Packages"): {"0.1.0", "0.2.0"},
		filepath.Join(out, "rpm/el8/x86_64/repodata/repomd.xml"):            {"0.1.0", "0.2.0"},
		filepath.Join(out, "rpm/el9/aarch64/repodata/repomd.xml"):           {"0.1.0", "0.2.0"},
	}
	for idx, vers := range want {
		if len(listed[idx]) != len(vers) {
			t.Errorf("%s lists %v, want one package of each of %v", idx, listed[idx], vers)
			continue
		}
		for _, v := range vers {
			if !slices.ContainsFunc(listed[idx], func(f string) bool { return strings.Contains(f, "_"+v+"-") || strings.Contains(f, "-"+v+"-") }) {
				t.Errorf("%s lists %v: no %s", idx, listed[idx], v)
			}
		}
	}
}

// The same releases give the same tree, byte for byte: two trees made
// the same way are identical, the order of the folders on the command
// line does not matter, and a tree made in two runs holds every file of
// the one made in one run (plus the indexes the first run wrote, which
// the writers keep for clients holding the older InRelease/repomd.xml).
func TestReproducible(t *testing.T) {
	key := testKey(t)
	v1, v2 := demoRelease(t, "0.1.0", ""), demoRelease(t, "0.2.0", "")
	tree := func(runs ...[]string) map[string][]byte {
		out := filepath.Join(t.TempDir(), "repo")
		for _, dirs := range runs {
			mustRun(t, opts(key, out, dirs...))
		}
		return snapshot(t, out)
	}
	a := tree([]string{v1}, []string{v2})
	b := tree([]string{v1}, []string{v2})
	sameTree(t, "two trees, v1 then v2", a, b)
	c := tree([]string{v1, v2})
	d := tree([]string{v2, v1})
	sameTree(t, "v1 v2 against v2 v1", c, d)
	for p, cb := range c {
		if string(a[p]) != string(cb) {
			t.Errorf("%s of the one-run tree is not in the two-run tree with the same bytes", p)
		}
	}
}

// A release added again is a no-op when identical (nothing written) and
// refused, naming the file, when its bytes differ.
func TestReAdd(t *testing.T) {
	key := testKey(t)
	v1 := demoRelease(t, "0.1.0", "")
	out := filepath.Join(t.TempDir(), "repo")
	mustRun(t, opts(key, out, v1))
	before := snapshot(t, out)
	res := mustRun(t, opts(key, out, v1))
	if !res.Unchanged || len(res.Added) != 0 || len(res.Present) != 1 || len(res.Files) != 0 {
		t.Errorf("identical re-add: %+v", res)
	}
	sameTree(t, "identical re-add", before, snapshot(t, out))

	// A new --url rewrites the set-up files and the record, nothing else
	// of substance; then back again gives the first tree.
	moved := opts(key, out, v1)
	moved.URL = "https://mirror.example.net/openshell/"
	res = mustRun(t, moved)
	if res.Unchanged || len(res.Added) != 0 {
		t.Errorf("new --url: %+v", res)
	}
	repoFile, _ := os.ReadFile(filepath.Join(out, "rpm/el8/openshell-gateway.repo"))
	if !strings.Contains(string(repoFile), "baseurl=https://mirror.example.net/openshell/rpm/el8/$basearch/\n") {
		t.Errorf(".repo after a new --url:\n%s", repoFile)
	}
	mustRun(t, opts(key, out, v1))
	sameTree(t, "moved and back", before, snapshot(t, out))

	// 0.1.0 built again at another time: same names, other bytes.
	other := demoRelease(t, "0.1.0", "1600000000")
	_, err := Run(opts(key, out, other))
	if err == nil {
		t.Fatal("a different 0.1.0 was accepted")
	}
	if !strings.Contains(err.Error(), "openshell-gateway 0.1.0 is already in") || !strings.Contains(err.Error(), "never replaced") {
		t.Errorf("refusal: %v", err)
	}
	if !strings.Contains(err.Error(), other+"/openshell-gateway") || !strings.Contains(err.Error(), "differs from the published file") {
		t.Errorf("refusal does not name the differing file: %v", err)
	}
	sameTree(t, "refused re-add", before, snapshot(t, out))
}

// An artifact changed after its manifest was written is refused before
// anything is written: the tree is not even created.
func TestTamperedArtifactRefused(t *testing.T) {
	key := testKey(t)
	rel := copyRelease(t, demoRelease(t, "0.1.0", ""))
	a := artifactOf(t, rel, "rpm", "el8", "aarch64")
	p := filepath.Join(rel, a.File)
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	out := filepath.Join(t.TempDir(), "repo")
	refused(t, opts(key, out, demoRelease(t, "0.2.0", ""), rel), p, "has sha256", "changed after the build")
	if ents, _ := os.ReadDir(out); len(ents) > 1 {
		t.Errorf("the refused run wrote into %s: %v", out, ents)
	}

	// Same size check, then a symbolic link in place of a package.
	rel2 := copyRelease(t, demoRelease(t, "0.1.0", ""))
	d := artifactOf(t, rel2, "deb", "debian12", "x86_64")
	os.WriteFile(filepath.Join(rel2, d.File), []byte("short"), 0o644)
	refused(t, opts(key, out, rel2), d.File, "is 5 bytes")
	rel3 := copyRelease(t, demoRelease(t, "0.1.0", ""))
	outside := filepath.Join(t.TempDir(), d.File)
	os.Rename(filepath.Join(rel3, d.File), outside)
	os.Symlink(outside, filepath.Join(rel3, d.File))
	refused(t, opts(key, out, rel3), d.File, "symbolic link")
	if _, err := os.Stat(filepath.Join(out, "deb")); err == nil {
		t.Errorf("refused runs created %s/deb", out)
	}
}

// Each refusal says what is wrong and what to do.
func TestRefusals(t *testing.T) {
	key := testKey(t)
	v1 := demoRelease(t, "0.1.0", "")
	out := filepath.Join(t.TempDir(), "repo")

	t.Run("no key", func(t *testing.T) {
		refused(t, Options{Dirs: []string{v1}, Out: out, URL: testURL, Config: &config.Config{File: "x/packaging.yaml"}}, "x/packaging.yaml has no signing: section", "always signed")
	})
	t.Run("url", func(t *testing.T) {
		for _, u := range []string{"", "ftp://x.org", "https://x.org/a b", "https://x.org/\"x", "https://x.org/$basearch", "https://x.org/a\nb", "https://x.org/?q", "https://", "https://u:p@x.org/"} {
			o := opts(key, out, v1)
			o.URL = u
			refused(t, o, "--url")
		}
	})
	t.Run("partial", func(t *testing.T) {
		rel := copyRelease(t, v1)
		editManifest(t, rel, func(m *manifest.Manifest) {
			m.Partial, m.Selectors = true, []string{"x86_64"}
			for _, a := range m.Artifacts {
				m.Planned = append(m.Planned, manifest.Planned{File: a.File})
			}
		})
		refused(t, opts(key, out, rel), "partial release", "relpack merge")
	})
	t.Run("invalid manifest", func(t *testing.T) {
		rel := copyRelease(t, v1)
		editManifest(t, rel, func(m *manifest.Manifest) { m.Artifacts[0].File = "../x" })
		refused(t, opts(key, out, rel), "manifest.json", "artifacts[0].file")
	})
	t.Run("manifest edited after the build", func(t *testing.T) {
		rel := copyRelease(t, v1)
		b, _ := os.ReadFile(filepath.Join(rel, "manifest.json"))
		os.WriteFile(filepath.Join(rel, "manifest.json"), append(b, ' '), 0o644)
		refused(t, opts(key, out, rel), "SHA256SUMS", "edited after the build")
	})
	t.Run("deb target without a suite", func(t *testing.T) {
		rel := copyRelease(t, v1)
		editManifest(t, rel, func(m *manifest.Manifest) {
			for i := range m.Distros {
				if m.Distros[i].ID == "debian12" {
					m.Distros[i].ID = "mydeb"
				}
			}
			for i := range m.Artifacts {
				if m.Artifacts[i].Distro == "debian12" {
					m.Artifacts[i].Distro = "mydeb"
				}
			}
		})
		refused(t, opts(key, out, rel), "deb target mydeb has no apt suite", "--suite mydeb=NAME")
		o := opts(key, filepath.Join(t.TempDir(), "r"), rel)
		o.Suites = map[string]string{"mydeb": "bullseye"}
		refused(t, o, "deb targets debian11 and mydeb would both be published as suite bullseye")
		o.Suites = map[string]string{"nosuch": "x"}
		refused(t, o, "--suite nosuch=x", "no release given or published has deb packages for target nosuch")
		o.Suites = map[string]string{"mydeb": "Bad"}
		refused(t, o, "--suite mydeb=Bad", "not an apt suite name")
	})
	t.Run("two products", func(t *testing.T) {
		// A genuine release of another product (an edited manifest is
		// refused before: its packages name openshell-gateway).
		y, err := os.ReadFile(demoConfig)
		if err != nil {
			t.Fatal(err)
		}
		fixtures, _ := filepath.Abs("../../testdata/fixtures")
		cfg := filepath.Join(t.TempDir(), "packaging.yaml")
		os.WriteFile(cfg, []byte(strings.ReplaceAll(strings.Replace(string(y), "name: openshell-gateway", "name: other-product", 1), "../fixtures", fixtures)), 0o644)
		rel := filepath.Join(t.TempDir(), "dist")
		if b, err := exec.Command(clitest.Bin(t), "build", "-q", "-c", cfg, "--version", "0.2.0", "--out", rel).CombinedOutput(); err != nil {
			t.Fatalf("relpack build: %v\n%s", err, b)
		}
		refused(t, opts(key, filepath.Join(t.TempDir(), "r"), v1, rel), "is a release of other-product", "one repository holds one product")
	})
	t.Run("not a release", func(t *testing.T) {
		refused(t, opts(key, out, t.TempDir()), "holds no manifest.json")
	})
	t.Run("not a repository", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "index.html"), nil, 0o644)
		refused(t, opts(key, dir, v1), "holds index.html but no relpack-repo.json", "not a relpack repository")
	})
	t.Run("edited record", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "r")
		mustRun(t, opts(key, dir, v1))
		p := filepath.Join(dir, StateFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), testURL, "https://x.org/\\\"", 1)), 0o644)
		refused(t, opts(key, dir, v1), StateFile, "url", "do not edit it")
	})
	t.Run("pool file changed outside relpack", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "r")
		mustRun(t, opts(key, dir, v1))
		a := artifactOf(t, v1, "deb", "ubuntu2404", "aarch64")
		p := filepath.Join(dir, "deb/pool/main/o/openshell-gateway", a.File)
		os.WriteFile(p, []byte("x"), 0o644)
		refused(t, opts(key, dir, demoRelease(t, "0.2.0", "")), p, "changed outside relpack", "restore it")
	})
}

// A key other than the one that signed the tree is refused; --rotate-key
// re-signs every index with it and keeps the old public key published.
func TestKeyRotation(t *testing.T) {
	k1, k2 := testKey(t), testKey(t)
	v1, v2 := demoRelease(t, "0.1.0", ""), demoRelease(t, "0.2.0", "")
	out := filepath.Join(t.TempDir(), "repo")
	mustRun(t, opts(k1, out, v1))
	before := snapshot(t, out)
	refused(t, opts(k2, out, v2), "signed with key "+k1.Fingerprint, k2.Fingerprint, "--rotate-key")
	sameTree(t, "refused key", before, snapshot(t, out))
	o := opts(k2, out, v2)
	o.RotateKey = true
	res := mustRun(t, o)
	if !res.Rotated {
		t.Errorf("not reported as rotated: %+v", res)
	}
	st, err := ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Key.Fingerprint != k2.Fingerprint || !slices.Equal(st.RetiredKeys, []string{k1.Fingerprint}) {
		t.Errorf("record after rotation: key %s, retired %v", st.Key.Fingerprint, st.RetiredKeys)
	}
	for _, f := range []string{"keys/" + k1.Fingerprint + ".asc", "keys/" + k2.Fingerprint + ".asc"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%v", err)
		}
	}
	// The new key is KEY.asc, byte for byte the keys/ copy.
	a, _ := os.ReadFile(filepath.Join(out, "KEY.asc"))
	b, _ := os.ReadFile(filepath.Join(out, "keys", k2.Fingerprint+".asc"))
	if string(a) != string(b) {
		t.Error("KEY.asc is not the new key")
	}
	checkTree(t, out)
	// dnf checks the earlier releases' rpms against the key that signed
	// them: the .repo files list the retired key too.
	repoFile, _ := os.ReadFile(filepath.Join(out, "rpm/el9/openshell-gateway.repo"))
	if want := "gpgkey=" + testURL + "/KEY.asc " + testURL + "/keys/" + k1.Fingerprint + ".asc\n"; !strings.Contains(string(repoFile), want) {
		t.Errorf(".repo after rotation lacks %q:\n%s", want, repoFile)
	}
	// From now on the new key is the repository's.
	mustRun(t, opts(k2, out, v1, v2))
}

// A run that holds the lock refuses a second one.
func TestConcurrentRunRefused(t *testing.T) {
	key := testKey(t)
	out := t.TempDir()
	f, err := os.OpenFile(filepath.Join(out, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	refused(t, opts(key, out, demoRelease(t, "0.1.0", "")), "in use by another relpack repo", LockFile)
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	mustRun(t, opts(key, out, demoRelease(t, "0.1.0", "")))

	// A run killed mid-way leaves temporary files; the next run (holding
	// the lock, so no other run owns them) removes them before they are
	// ever published.
	stale := filepath.Join(out, "deb/pool/main/o/openshell-gateway/.relpack-tmp-123")
	os.WriteFile(stale, []byte("half a deb"), 0o644)
	mustRun(t, opts(key, out, demoRelease(t, "0.2.0", "")))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", stale, err)
	}
	checkTree(t, out)
}

// A writer that fails mid-way (a deb it cannot read, after the other
// pool files were copied and three suites rewritten) leaves the previous
// tree: the same record, no pool file of the failed release, every index
// listing what it listed before and consistent with what the tree holds.
// Dated like the tree (same SOURCE_DATE_EPOCH), the indexes are the
// previous ones byte for byte; with a newer release the rewritten ones
// carry its date (apt ignores a Release dated before the one it holds).
// Only unreferenced by-hash and repodata files may stay.
func TestFailureMidwayLeavesPreviousTree(t *testing.T) {
	for _, epoch := range []string{"", "1600000000"} {
		t.Run("epoch="+epoch, func(t *testing.T) {
			key := testKey(t)
			out := filepath.Join(t.TempDir(), "repo")
			mustRun(t, opts(key, out, demoRelease(t, "0.1.0", "")))
			before := snapshot(t, out)
			listedBefore := checkTree(t, out)

			v2 := copyRelease(t, demoRelease(t, "0.2.0", epoch))
			// ubuntu2404 sorts last among the suites: bookworm, bullseye and
			// jammy are rewritten with v2's packages before the writer
			// reaches noble.
			failAt(t, "deb/dists/noble")
			_, err := Run(opts(key, out, v2))
			if err == nil {
				t.Fatal("a release with an unreadable deb was added")
			}
			if !strings.Contains(err.Error(), "noble") || !strings.Contains(err.Error(), "lists what it listed before") {
				t.Errorf("the error does not name the suite being written and the state left: %v", err)
			}
			after := snapshot(t, out)
			for p, b := range before {
				a, ok := after[p]
				switch {
				case !ok:
					t.Errorf("%s went missing", p)
				case string(a) != string(b) && (epoch == "" || !strings.HasPrefix(p, "deb/dists/")):
					t.Errorf("%s changed", p)
				}
			}
			for p := range after {
				if _, ok := before[p]; !ok && !strings.Contains(p, "/by-hash/") && !strings.Contains(p, "/repodata/") {
					t.Errorf("the failed run left %s", p)
				}
			}
			listedAfter := checkTree(t, out)
			for idx, files := range listedBefore {
				if !slices.Equal(files, listedAfter[idx]) {
					t.Errorf("%s lists %v, before %v", idx, listedAfter[idx], files)
				}
			}
			if len(listedAfter) != len(listedBefore) {
				t.Errorf("%d indexes, before %d", len(listedAfter), len(listedBefore))
			}
			// Fixed, the release goes in.
			failIndexForTest = nil
			mustRun(t, opts(key, out, demoRelease(t, "0.2.0", epoch)))
			checkTree(t, out)
		})
	}
}

// A first run that fails mid-way removes everything it wrote: a --out it
// created is gone, an empty --out it was given stays empty (no lock file
// either), and the next run starts the tree afresh.
func TestFirstRunFailureLeavesNoIndex(t *testing.T) {
	key := testKey(t)
	v1 := copyRelease(t, demoRelease(t, "0.1.0", ""))
	for _, given := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "repo")
		if given {
			os.Mkdir(out, 0o755)
		}
		failAt(t, "rpm/el9/x86_64")
		if _, err := Run(opts(key, out, v1)); err == nil || !strings.Contains(err.Error(), "rpm/el9/x86_64") {
			t.Fatalf("want the el9 x86_64 writer's failure, got %v", err)
		}
		failIndexForTest = nil
		ents, err := os.ReadDir(out)
		switch {
		case !given && !os.IsNotExist(err):
			t.Errorf("the failed first run left %s (%v)", out, err)
		case given && (err != nil || len(ents) != 0):
			t.Errorf("the failed first run left %v in the folder it was given (%v)", ents, err)
		}
		mustRun(t, opts(key, out, demoRelease(t, "0.1.0", "")))
		checkTree(t, out)
	}
}

// failAt makes the run fail right after the index writer of the folder
// suffix (deb/dists/SUITE, rpm/TARGET/ARCH) has written it.
func failAt(t *testing.T, suffix string) {
	t.Helper()
	failIndexForTest = func(dir string) error {
		if strings.HasSuffix(filepath.ToSlash(dir), suffix) {
			return fmt.Errorf("%s: the writer failed (test)", dir)
		}
		return nil
	}
	t.Cleanup(func() { failIndexForTest = nil })
}
