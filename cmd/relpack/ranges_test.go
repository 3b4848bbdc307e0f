package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/manifest"
	"relpack/pkg/sign/signtest"
)

// editRelease rewrites dir/manifest.json with edit applied and records
// its new sha256 in dir/SHA256SUMS, as someone who can write the release
// folder would: the two agree, so only the values themselves can be
// refused.
func editRelease(t *testing.T, dir string, edit func(*manifest.Manifest)) {
	t.Helper()
	mp := filepath.Join(dir, "manifest.json")
	m, err := manifest.Read(mp)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	sp := filepath.Join(dir, "SHA256SUMS")
	sums, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.SplitAfter(string(sums), "\n") {
		if strings.HasSuffix(l, "  manifest.json\n") {
			l = hex.EncodeToString(sum[:]) + "  manifest.json\n"
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(sp, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// demoPartial builds the demo release's partial for one --only selector.
func demoPartial(t *testing.T, only string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), only)
	if _, stderr, code := cli(t, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0", "--only", only, "--out", dir); code != 0 {
		t.Fatalf("relpack build --only %s: exit %d\n%s", only, code, stderr)
	}
	return dir
}

// Issue 18, section 4: a source_date_epoch past 2^32-1 (or negative),
// which build refuses in SOURCE_DATE_EPOCH, is refused by every command
// that reads a manifest: merge and repo would otherwise sign with a time
// gpgv rejects and date a Release file in the year 36812, after which no
// release could be added. The message names manifest.json and the field;
// nothing is written.
func TestEpochRangeEveryCommand(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	for _, epoch := range []int64{manifest.MaxEpoch + 1, 1 << 40, -1} {
		t.Run(fmt.Sprint(epoch), func(t *testing.T) {
			setEpoch := func(m *manifest.Manifest) { m.SourceDateEpoch = epoch }
			want := []string{"manifest.json: source_date_epoch", fmt.Sprint(epoch), "outside 0..4294967295"}

			// repo
			dist := demoReleaseForRepo(t)
			editRelease(t, dist, setEpoch)
			out := filepath.Join(t.TempDir(), "repo")
			distBefore := stateOfTree(t, dist)
			_, stderr, code := cli(t, "repo", dist, "--out", out, "--url", "https://packages.example.org/x", "-c", cfg)
			if code != 1 {
				t.Errorf("repo: exit %d, want 1\n%s", code, stderr)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("repo: stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "deb")); err == nil {
				t.Error("repo: wrote the tree")
			}
			sameTree(t, "repo: the release", dist, distBefore)

			// merge
			x, a := demoPartial(t, "x86_64"), demoPartial(t, "aarch64")
			editRelease(t, x, setEpoch)
			editRelease(t, a, setEpoch)
			mparent := t.TempDir()
			mbefore := stateOfTree(t, mparent)
			_, stderr, code = cli(t, "merge", x, a, "--out", filepath.Join(mparent, "dist"))
			if code != 1 {
				t.Errorf("merge: exit %d, want 1\n%s", code, stderr)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("merge: stderr lacks %q:\n%s", w, stderr)
				}
			}
			sameTree(t, "merge: --out's parent", mparent, mbefore)

			// docs
			docsRefuses(t, "docs", filepath.Join(dist, "manifest.json"), want...)
		})
	}
}

// Issue 18, section 4: libdnf splits baseurl= and gpgkey= at spaces,
// commas and line breaks, so a --url holding one would put a second
// source of packages and keys (another host) into every .repo file. Such
// a URL is refused (exit 2, usage), and nothing is written.
func TestRepoURLOneURL(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	dist := demoReleaseForRepo(t)
	for _, u := range []string{
		"https://packages.example.org/x,https://evil.example.net/y",
		"https://packages.example.org/x,",
		"https://packages.example.org/x https://evil.example.net/y",
		"https://packages.example.org/x\thttps://evil.example.net/y",
		"https://packages.example.org/x\nhttps://evil.example.net/y",
		"https://packages.example.org/x\"y",
		"https://packages.example.org/x'y",
	} {
		parent := t.TempDir()
		before := stateOfTree(t, parent)
		distBefore := stateOfTree(t, dist)
		_, stderr, code := cli(t, "repo", dist, "--out", filepath.Join(parent, "repo"), "--url", u, "-c", cfg)
		if code != 2 || !strings.Contains(stderr, "--url") || !strings.Contains(stderr, "want one http:// or https:// URL without quotes, spaces, commas") {
			t.Errorf("--url %q: exit %d, want 2 and the URL refused\n%s", u, code, stderr)
		}
		sameTree(t, "--url "+u, parent, before)
		sameTree(t, "--url "+u+": the release", dist, distBefore)
	}
}
