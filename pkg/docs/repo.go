package docs

import (
	"strings"

	"relpack/pkg/manifest"
	"relpack/pkg/repo"
	"relpack/templates"
)

// RepoTemplate is the embedded template of the repository set-up docs.
const RepoTemplate = "repo.md.tmpl"

// RepoMarkdown renders the set-up instructions of a repository tree from
// its record (repo.ReadState, which validated every field): per apt suite
// and rpm target, the commands that fetch KEY.asc and the set-up file and
// install the product, and the file's contents, byte for byte what
// relpack repo wrote into the tree. tmpl "" uses the embedded template.
func RepoMarkdown(st *repo.State, tmpl string) ([]byte, error) {
	return render(RepoTemplate, tmpl, RepoData(st))
}

// RepoData is the template data of RepoMarkdown. The record's URL is
// already held to repo.CheckURL's grammar; it is still quoted as a sh word
// in commands (it may hold ; & ( ) which sh would read).
func RepoData(st *repo.State) templates.RepoDoc {
	d := templates.RepoDoc{
		Product:     st.Product,
		URL:         st.URL + "/",
		KeyURL:      st.URL + "/KEY.asc",
		Fingerprint: st.Key.Fingerprint,
		UserID:      st.Key.UserID,
		RetiredKeys: st.RetiredKeys,
		Keyring:     repo.KeyringPath(st.Product),
	}
	for _, r := range st.Releases {
		d.Versions = append(d.Versions, r.Version)
	}
	p := st.Product
	addOns := map[string][]templates.DocAddOn{} // target -> add-on repositories its packages need
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			addOns[a.Distro] = addAddOns(addOns[a.Distro], a.Repositories)
		}
	}
	install := func(target, cmd string) []string {
		var out []string
		for _, a := range addOns[target] {
			out = append(out, a.Enable)
		}
		return append(out, cmd)
	}
	for _, s := range st.Suites {
		src := st.URL + "/" + repo.SourcesName(p, s.Suite)
		d.Apt = append(d.Apt, templates.RepoSuite{
			Name: s.Name, Target: s.Target, Suite: s.Suite, Arches: s.Arches,
			SourcesURL: src, ListURL: st.URL + "/" + repo.ListName(p, s.Suite),
			Sources: lines(repo.SourcesFile(st, s.Suite)),
			List:    strings.TrimSuffix(repo.ListFile(st, s.Suite), "\n"),
			Commands: []string{
				"sudo install -d -m 0755 /etc/apt/keyrings",
				"sudo curl -fsSL -o " + repo.KeyringPath(p) + " " + templates.ShellQuote(st.URL+"/KEY.asc"),
				"sudo curl -fsSL -o /etc/apt/sources.list.d/" + p + ".sources " + templates.ShellQuote(src),
				"sudo apt-get update",
			},
			AddOns:  addOns[s.Target],
			SBOMURL: sbomURL(st, "deb", s.Target),
		})
		d.Apt[len(d.Apt)-1].Commands = append(d.Apt[len(d.Apt)-1].Commands, install(s.Target, "sudo apt-get install "+p)...)
		d.Apt[len(d.Apt)-1].Debug = debugSuite(st, s)
	}
	for _, r := range st.RPMRepos {
		u := st.URL + "/" + repo.RepoFileName(p, r.Target)
		d.Dnf = append(d.Dnf, templates.RepoRPM{
			Name: r.Name, Target: r.Target, Arches: r.Arches, RepoURL: u,
			Repo: lines(repo.RepoFile(st, r.Target)),
			Commands: []string{
				"sudo curl -fsSL -o /etc/yum.repos.d/" + p + ".repo " + templates.ShellQuote(u),
			},
			AddOns:  addOns[r.Target],
			SBOMURL: sbomURL(st, "rpm", r.Target),
		})
		d.Dnf[len(d.Dnf)-1].Commands = append(d.Dnf[len(d.Dnf)-1].Commands, install(r.Target, "sudo dnf install "+p)...)
		if hasKind(st, r.Target, manifest.KindDebuginfo) {
			d.Dnf[len(d.Dnf)-1].DebugRepo = repo.DebugRepoID(p)
			d.Dnf[len(d.Dnf)-1].DebugCommand = "sudo dnf --enablerepo=" + repo.DebugRepoID(p) + " install " + p + "-debuginfo"
		}
	}
	d.ProvenanceURL, d.ProvenanceSignedBy = provenanceURL(st)
	return d
}

// debugSuite is the set-up of suite s's debug suite, nil when the tree
// holds no debug packages for its target: its .sources file, added beside
// the suite's, and the -dbgsym package installed from it.
func debugSuite(st *repo.State, s repo.Suite) *templates.RepoDebugSuite {
	if !hasKind(st, s.Target, manifest.KindDdeb) {
		return nil
	}
	p, name := st.Product, repo.DebugSuite(s.Suite)
	src := st.URL + "/" + repo.SourcesName(p, name)
	return &templates.RepoDebugSuite{
		Suite: name, SourcesURL: src, Sources: lines(repo.SourcesFile(st, name)),
		Commands: []string{
			"sudo curl -fsSL -o /etc/apt/sources.list.d/" + p + "-debug.sources " + templates.ShellQuote(src),
			"sudo apt-get update",
			"sudo apt-get install " + p + "-dbgsym",
		},
	}
}

// hasKind reports whether the tree holds a package of kind for target.
func hasKind(st *repo.State, target, kind string) bool {
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			if a.Kind == kind && a.Distro == target {
				return true
			}
		}
	}
	return false
}

// sbomURL is an example for the docs: the first SBOM of the newest
// release's first package of kind for target ("" when none has one).
func sbomURL(st *repo.State, kind, target string) string {
	for i := len(st.Releases) - 1; i >= 0; i-- {
		for _, a := range st.Releases[i].Artifacts {
			if a.Kind == kind && a.Distro == target && len(a.SBOMs) > 0 {
				return st.URL + "/" + repo.SBOMPath(a, a.SBOMs[0])
			}
		}
	}
	return ""
}

// provenanceURL is the newest release's provenance statement in the tree,
// and the key that signed it ("" when unsigned); "", "" when no release
// has one.
func provenanceURL(st *repo.State) (url, signedBy string) {
	for i := len(st.Releases) - 1; i >= 0; i-- {
		r := st.Releases[i]
		if len(r.Provenance) == 0 {
			continue
		}
		if len(r.Provenance) > 1 {
			signedBy = r.SignedBy
		}
		return st.URL + "/" + repo.ReleaseDir(r.Version) + "/" + r.Provenance[0].File, signedBy
	}
	return "", ""
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
