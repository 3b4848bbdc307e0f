package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/manifest"
	"relpack/pkg/repo"
)

// repoState is a repository record as relpack repo writes it: two
// releases, an apt suite per deb target, an rpm target, a retired key.
func repoState() *repo.State {
	return &repo.State{
		Schema:      repo.StateSchema,
		Product:     "openshell-gateway",
		URL:         "https://packages.example.com/openshell",
		Key:         repo.Key{Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", KeyID: "0123456789ABCDEF", UserID: "OpenShell Release <release@example.com>"},
		RetiredKeys: []string{"89ABCDEF0123456789ABCDEF0123456789ABCDEF"},
		Suites: []repo.Suite{
			{Suite: "bookworm", Target: "debian12", Name: "Debian 12 (bookworm)", Arches: []string{"amd64", "arm64"}},
			{Suite: "jammy", Target: "ubuntu2204", Name: "Ubuntu 22.04 LTS (jammy)", Arches: []string{"amd64"}},
		},
		RPMRepos: []repo.RPMRepo{{Target: "el8", Name: "RHEL/Rocky/Alma/Oracle Linux 8", Arches: []string{"aarch64", "x86_64"}}},
		Releases: []repo.Release{
			{Product: "openshell-gateway", Version: "0.1.0", ManifestSHA256: strings.Repeat("a", 64)},
			{Product: "openshell-gateway", Version: "0.2.0", ManifestSHA256: strings.Repeat("b", 64), SignedBy: "0123456789ABCDEF0123456789ABCDEF01234567",
				Artifacts: []repo.Artifact{
					withSBOMs(repo.Artifact{File: "openshell-gateway_0.2.0-1~deb12_amd64.deb", Kind: "deb", Distro: "debian12", Arch: "x86_64", SHA256: strings.Repeat("c", 64)}),
					withSBOMs(repo.Artifact{File: "openshell-gateway-0.2.0-1.el8.x86_64.rpm", Kind: "rpm", Distro: "el8", Arch: "x86_64", SHA256: strings.Repeat("d", 64)}),
				},
				Provenance: []repo.PoolFile{{File: "provenance.intoto.json", SHA256: strings.Repeat("e", 64)}, {File: "provenance.intoto.json.asc", SHA256: strings.Repeat("f", 64)}}},
		},
	}
}

// withSBOMs places a in the pool with an SPDX and a CycloneDX SBOM, as
// relpack repo records them.
func withSBOMs(a repo.Artifact) repo.Artifact {
	a.Path = repo.Layout("openshell-gateway", a)
	a.SBOMs = []repo.PoolFile{{File: a.File + ".spdx.json", SHA256: strings.Repeat("1", 64)}, {File: a.File + ".cdx.json", SHA256: strings.Repeat("2", 64)}}
	return a
}

// The set-up docs are byte-stable (golden), and the files they show are
// byte for byte the ones relpack repo writes into the tree.
func TestRepoMarkdown(t *testing.T) {
	st := repoState()
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := RepoMarkdown(st, "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/golden/REPOSITORIES.md", got)
	doc := string(got)
	for _, s := range st.Suites {
		block := "```\n" + repo.SourcesFile(st, s.Suite) + "```\n"
		if !strings.Contains(doc, block) {
			t.Errorf("the docs do not show %s as written:\n%s", repo.SourcesName(st.Product, s.Suite), block)
		}
		if !strings.Contains(doc, "```\n"+repo.ListFile(st, s.Suite)+"```\n") {
			t.Errorf("the docs do not show %s as written", repo.ListName(st.Product, s.Suite))
		}
		if !strings.Contains(doc, "sudo curl -fsSL -o /etc/apt/sources.list.d/openshell-gateway.sources "+st.URL+"/"+repo.SourcesName(st.Product, s.Suite)+"\n") {
			t.Errorf("no set-up command for %s", s.Suite)
		}
	}
	if !strings.Contains(doc, "```ini\n"+repo.RepoFile(st, "el8")+"```\n") {
		t.Errorf("the docs do not show the .repo file as written:\n%s", repo.RepoFile(st, "el8"))
	}
	for _, want := range []string{
		"sudo curl -fsSL -o /etc/apt/keyrings/openshell-gateway.asc https://packages.example.com/openshell/KEY.asc\n",
		"sudo apt-get update\nsudo apt-get install openshell-gateway\n",
		"sudo curl -fsSL -o /etc/yum.repos.d/openshell-gateway.repo https://packages.example.com/openshell/rpm/el8/openshell-gateway.repo\nsudo dnf install openshell-gateway\n",
		"versions 0.1.0, 0.2.0",
		"`89ABCDEF0123456789ABCDEF0123456789ABCDEF`",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the docs lack %q", want)
		}
	}
}

// A URL that passes the record's grammar but holds characters sh reads is
// quoted in the commands.
func TestRepoMarkdownQuotesURL(t *testing.T) {
	st := repoState()
	st.URL = "https://packages.example.com/a;b&c(d)"
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := RepoMarkdown(st, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "sudo curl -fsSL -o /etc/yum.repos.d/openshell-gateway.repo 'https://packages.example.com/a;b&c(d)/rpm/el8/openshell-gateway.repo'\n") {
		t.Errorf("URL not quoted:\n%s", got)
	}
}

// The record is read like a manifest: a hostile value is refused, naming
// the file, before anything is rendered.
func TestRepoRecordRefusesHostileValues(t *testing.T) {
	for name, edit := range map[string]func(*repo.State){
		"url with a quote":     func(s *repo.State) { s.URL = `https://x.org/"a` },
		"url with a newline":   func(s *repo.State) { s.URL = "https://x.org/a\nb" },
		"url with a backtick":  func(s *repo.State) { s.URL = "https://x.org/`id`" },
		"url with $":           func(s *repo.State) { s.URL = "https://x.org/$releasever" },
		"product with a space": func(s *repo.State) { s.Product = "a b" },
		"suite with a slash":   func(s *repo.State) { s.Suites[0].Suite = "../x" },
		"name with a newline":  func(s *repo.State) { s.Suites[0].Name = "Debian\n# x" },
		"user id with a CR":    func(s *repo.State) { s.Key.UserID = "a\rb" },
		"enable with a ;": func(s *repo.State) {
			s.Releases[0].Artifacts = []repo.Artifact{jammyDeb(s, manifest.Repository{Name: "universe", Enable: "sudo add-apt-repository universe; id", Packages: []string{"libz3-4"}})}
		},
		"repository name with a newline": func(s *repo.State) {
			s.Releases[0].Artifacts = []repo.Artifact{jammyDeb(s, manifest.Repository{Name: "universe\n# x", Enable: "true", Packages: []string{"libz3-4"}})}
		},
	} {
		st := repoState()
		edit(st)
		b, err := st.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, repo.StateFile), b, 0o644)
		if _, err := repo.ReadState(dir); err == nil || !strings.Contains(err.Error(), repo.StateFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A package that needs a library from an add-on repository (universe for
// Ubuntu's libz3-4, EPEL 9 for EL9's z3-libs) gets the repository named
// and its enable command before the install, for its own distro only.
func TestRepoMarkdownAddOns(t *testing.T) {
	st := repoState()
	st.RPMRepos = append(st.RPMRepos, repo.RPMRepo{Target: "el9", Name: "RHEL/Rocky/Alma/Oracle Linux 9", Arches: []string{"x86_64"}})
	add := func(a repo.Artifact) {
		a.Path = repo.Layout(st.Product, a)
		st.Releases[1].Artifacts = append(st.Releases[1].Artifacts, a)
	}
	add(repo.Artifact{File: "openshell-gateway_0.2.0-1~ubuntu22.04_amd64.deb", Kind: "deb", Distro: "ubuntu2204", Arch: "x86_64", SHA256: strings.Repeat("c", 64),
		Repositories: []manifest.Repository{{Name: "universe", Enable: "sudo add-apt-repository universe", Packages: []string{"libz3-4"}}}})
	add(repo.Artifact{File: "openshell-gateway-0.2.0-1.el9.x86_64.rpm", Kind: "rpm", Distro: "el9", Arch: "x86_64", SHA256: strings.Repeat("d", 64),
		Repositories: []manifest.Repository{{Name: "EPEL 9", Enable: "sudo dnf install epel-release", Packages: []string{"z3-libs"}}}})
	add(repo.Artifact{File: "openshell-gateway_0.2.0-1~deb12_amd64.deb", Kind: "deb", Distro: "debian12", Arch: "x86_64", SHA256: strings.Repeat("e", 64)})
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := RepoMarkdown(st, "")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(got)
	for _, want := range []string{
		"The packages need `libz3-4` from the universe repository",
		"sudo apt-get update\nsudo add-apt-repository universe\nsudo apt-get install openshell-gateway\n",
		"The packages need `z3-libs` from the EPEL 9 repository",
		"openshell-gateway.repo\nsudo dnf install epel-release\nsudo dnf install openshell-gateway\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the docs lack %q:\n%s", want, doc)
		}
	}
	if n := strings.Count(doc, "add-apt-repository universe\n"); n != 1 {
		t.Errorf("universe is enabled in %d set-ups, want 1 (jammy's only)", n)
	}
	if n := strings.Count(doc, "sudo dnf install epel-release\n"); n != 1 {
		t.Errorf("EPEL is enabled in %d set-ups, want 1 (el9's only)", n)
	}
}

// jammyDeb is a deb of the record's jammy suite whose relations need r.
func jammyDeb(s *repo.State, r manifest.Repository) repo.Artifact {
	a := repo.Artifact{File: "openshell-gateway_0.1.0-1~ubuntu22.04_amd64.deb", Kind: "deb", Distro: "ubuntu2204", Arch: "x86_64",
		SHA256: strings.Repeat("f", 64), Repositories: []manifest.Repository{r}}
	a.Path = repo.Layout(s.Product, a)
	return a
}
