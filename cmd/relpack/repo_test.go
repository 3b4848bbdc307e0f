package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/sign/signtest"
)

// repoConfig writes a packaging.yaml whose signing: names keyFile ("" for
// none): relpack repo reads only its signing: and targets:.
func repoConfig(t *testing.T, keyFile string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bin"), []byte("x"), 0o755)
	y := `name: openshell-gateway
summary: s
maintainer: A <a@example.org>
license: MIT
license_file: bin
homepage: https://example.org
copyright: 2025 A
floor: {glibc: "2.28"}
inputs:
  x86_64-unknown-linux-gnu: bin
binary: /usr/bin/openshell-gateway
targets: [debian12, el8]
`
	if keyFile != "" {
		y += "signing: {key_file: " + keyFile + "}\n"
	}
	p := filepath.Join(dir, "packaging.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// demoReleaseForRepo builds the demo release with the CLI.
func demoReleaseForRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dist")
	if _, stderr, code := cli(t, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0", "--out", dir); code != 0 {
		t.Fatalf("relpack build: exit %d\n%s", code, stderr)
	}
	return dir
}

func TestRepoCLI(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	dist := demoReleaseForRepo(t)
	out := filepath.Join(t.TempDir(), "repo")
	url := "https://packages.example.org/openshell"

	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"repo", "--out", out, "--url", url, "-c", cfg}, 2, []string{"no release folder given"}},
		{[]string{"repo", dist, "--url", url, "-c", cfg}, 2, []string{"--out REPO is required"}},
		{[]string{"repo", dist, "--out", out, "-c", cfg}, 2, []string{"no --url"}},
		{[]string{"repo", dist, "--out", out, "--url", "https://x.org/'a", "-c", cfg}, 2, []string{"--url", "without quotes"}},
		{[]string{"repo", dist, "--out", out, "--url", url, "-c", cfg, "--suite", "debian12"}, 2, []string{"--suite \"debian12\": write ID=NAME"}},
		{[]string{"repo", dist, "--out", out, "--url", url, "-c", repoConfig(t, "")}, 2, []string{"has no signing: section", "always signed"}},
		{[]string{"repo", dist, "--out", out, "--url", url, "-c", filepath.Join(t.TempDir(), "nosuch.yaml")}, 2, []string{"nosuch.yaml"}},
		{[]string{"repo", t.TempDir(), "--out", out, "--url", url, "-c", cfg}, 1, []string{"holds no manifest.json"}},
	} {
		stdout, stderr, code := cli(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "deb")); err == nil {
		t.Fatal("a refused run wrote the tree")
	}

	// The demo release is unsigned: a signed tree refuses it unless told,
	// and creates nothing.
	_, stderr, code := cli(t, "repo", dist, "--out", out, "--url", url, "-c", cfg)
	if code != 1 || !strings.Contains(stderr, filepath.Join(dist, "SHA256SUMS.asc")+": is missing: the release is unsigned") || !strings.Contains(stderr, "--allow-unsigned-release") {
		t.Errorf("unsigned release without --allow-unsigned-release: exit %d\n%s", code, stderr)
	}
	if _, err := os.Lstat(out); err == nil {
		t.Fatalf("a refused run created %s", out)
	}

	// Success: a short summary, then --json of a no-op run.
	stdout, stderr, code := cli(t, "repo", dist, "--out", out, "--url", url, "-c", cfg, "--allow-unsigned-release")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "UNSIGNED, not verified (--allow-unsigned-release): 0.1.0") || !strings.Contains(stderr, "accepted with --allow-unsigned-release") {
		t.Errorf("the summary does not say the release is unsigned:\n%s%s", stdout, stderr)
	}
	if rec, _ := os.ReadFile(filepath.Join(out, "relpack-repo.json")); !strings.Contains(string(rec), `"unsigned_accepted": true`) {
		t.Errorf("the record does not say the release was accepted unsigned:\n%s", rec)
	}
	for _, w := range []string{"openshell-gateway: added 0.1.0 to " + out, "signed by " + key.Fingerprint, "apt bookworm", "dnf el8", "deb/openshell-gateway-bookworm.sources", "rpm/el8/openshell-gateway.repo", "relpack docs --repo " + out} {
		if !strings.Contains(stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, stdout)
		}
	}
	// The demo release is unsigned: dnf's gpgcheck would refuse its rpms.
	if !strings.Contains(stderr, "warning: openshell-gateway 0.1.0 is unsigned") {
		t.Errorf("no warning about the unsigned rpms:\n%s", stderr)
	}
	stdout, _, code = cli(t, "repo", dist, "--out", out, "--url", url, "-c", cfg, "--json", "--allow-unsigned-release")
	if code != 0 {
		t.Fatalf("--json: exit %d", code)
	}
	var res struct {
		Repo, URL, Product string
		Unchanged          bool
		Present, Releases  []struct{ Product, Version string }
		Suites             []struct {
			Suite, Target, Index, Sources, List string
			Arches                              []string
			Packages                            int
		}
		Repos []struct {
			Target   string
			RepoFile string `json:"repo_file"`
			BaseURL  string `json:"baseurl"`
			Dirs     []string
		}
		Files    []string
		Unsigned []struct{ Product, Version string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if !res.Unchanged || len(res.Present) != 1 || len(res.Unsigned) != 1 || len(res.Files) != 0 || res.URL != url || len(res.Suites) != 5 || len(res.Repos) != 3 {
		t.Errorf("--json of an identical re-add: %+v", res)
	}
	if r := res.Repos[1]; r.Target != "el8" || r.RepoFile != "rpm/el8/openshell-gateway.repo" || r.BaseURL != url+"/rpm/el8/$basearch/" || strings.Join(r.Dirs, " ") != "rpm/el8/aarch64 rpm/el8/x86_64" {
		t.Errorf("repo: %+v", r)
	}
	if s := res.Suites[0]; s.Suite != "bookworm" || s.Target != "debian12" || s.Index != "deb/dists/bookworm" || s.Packages != 2 || strings.Join(s.Arches, ",") != "amd64,arm64" {
		t.Errorf("suite: %+v", s)
	}

	// relpack docs --repo renders the set-up from the record; --check
	// compares like the install docs do.
	setup := filepath.Join(t.TempDir(), "REPOSITORIES.md")
	if _, stderr, code := cli(t, "docs", "--repo", out, "-o", setup); code != 0 {
		t.Fatalf("docs --repo: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(setup)
	if !strings.Contains(string(b), "sudo curl -fsSL -o /etc/yum.repos.d/openshell-gateway.repo "+url+"/rpm/el8/openshell-gateway.repo\n") {
		t.Errorf("set-up docs:\n%s", b)
	}
	if _, stderr, code := cli(t, "docs", "--repo", out, "--check", setup); code != 0 {
		t.Errorf("docs --repo --check of fresh docs: exit %d\n%s", code, stderr)
	}
	os.WriteFile(setup, append(b, "edited\n"...), 0o644)
	stdout, stderr, code = cli(t, "docs", "--repo", out, "--check", setup)
	if code != 1 || !strings.Contains(stdout, "-edited") || !strings.Contains(stderr, "regenerate it: relpack docs --repo "+out) {
		t.Errorf("docs --repo --check of edited docs: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := cli(t, "docs", "--repo", t.TempDir()); code != 2 || !strings.Contains(stderr, "holds no relpack-repo.json") {
		t.Errorf("docs --repo of a folder without a record: exit %d\n%s", code, stderr)
	}

	// Another key is refused (exit 1), naming --rotate-key.
	other := signtest.Generate(t, "ed25519", "")
	_, stderr, code = cli(t, "repo", dist, "--out", out, "--url", url, "-c", repoConfig(t, other.SecretFile), "--allow-unsigned-release")
	if code != 1 || !strings.Contains(stderr, "--rotate-key") || !strings.Contains(stderr, key.Fingerprint) {
		t.Errorf("another key: exit %d\n%s", code, stderr)
	}
}
