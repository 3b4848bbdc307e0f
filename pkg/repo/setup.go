package repo

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"relpack/pkg/manifest"
)

// urlRE is the base URL the tree is served from: http(s), RFC 3986
// characters minus quotes, '$' (dnf expands $variables in baseurl), '?'
// and '#' (paths are appended to it), whitespace, control characters and
// ',' (libdnf splits baseurl= and gpgkey= into several URLs at spaces,
// commas and line breaks, so "https://a/x,https://b/y" would add a second
// source of packages and keys). It reaches .repo files, deb822 .sources
// files, one-line .list files and Markdown, so nothing in it may end a
// value or start a new one.
var urlRE = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/@!&()*+;=%\[\]-]+$`)

// CheckURL validates the tree's base URL and returns it without trailing
// slashes.
func CheckURL(u string) (string, error) {
	if u == "" {
		return "", fmt.Errorf("no --url: give the URL the tree will be served from, e.g. --url https://packages.example.org/openshell")
	}
	if len(u) > 1000 || !urlRE.MatchString(u) {
		return "", fmt.Errorf("--url %q: want one http:// or https:// URL without quotes, spaces, commas, control characters, '$', '?' or '#' (it is written into .repo and .sources files, where dnf reads a space or comma as the start of another URL; write a comma as %%2C), e.g. https://packages.example.org/openshell", u)
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil {
		return "", fmt.Errorf("--url %q: want an http:// or https:// URL with a host and no user:password@, e.g. https://packages.example.org/openshell", u)
	}
	return strings.TrimRight(u, "/"), nil
}

// KeyringPath is where the set-up instructions put the repository's
// public key on a Debian/Ubuntu host (apt's documented place for keys
// that sign third-party repositories, referenced by Signed-By).
func KeyringPath(product string) string { return "/etc/apt/keyrings/" + product + ".asc" }

// SourcesName is the deb822 sources file of a suite, relative to the root.
func SourcesName(product, suite string) string { return "deb/" + product + "-" + suite + ".sources" }

// ListName is the one-line sources.list file of a suite.
func ListName(product, suite string) string { return "deb/" + product + "-" + suite + ".list" }

// RepoFileName is the dnf/yum .repo file of an rpm target.
func RepoFileName(product, target string) string { return "rpm/" + target + "/" + product + ".repo" }

// SourcesFile is the deb822 file users drop into /etc/apt/sources.list.d/.
func SourcesFile(s *State, suite string) string {
	return "Types: deb\n" +
		"URIs: " + s.URL + "/deb\n" +
		"Suites: " + suite + "\n" +
		"Components: main\n" +
		"Signed-By: " + KeyringPath(s.Product) + "\n"
}

// ListFile is the one-line equivalent of SourcesFile, for apt older than
// 1.1 and for people who prefer the classic format.
func ListFile(s *State, suite string) string {
	return "deb [signed-by=" + KeyringPath(s.Product) + "] " + s.URL + "/deb " + suite + " main\n"
}

// RepoFile is the .repo file users drop into /etc/yum.repos.d/: one
// repository per target, $basearch picking the architecture's folder;
// gpgcheck checks every rpm's signature and repo_gpgcheck repomd.xml's,
// both against KEY.asc. After a key rotation the retired keys are listed
// too (gpgkey takes several URLs), since the rpms of earlier releases stay
// signed by the key that signed them.
func RepoFile(s *State, target string) string {
	keys := s.URL + "/KEY.asc"
	for _, k := range s.RetiredKeys {
		keys += " " + s.URL + "/keys/" + k + ".asc"
	}
	main := "[" + s.Product + "]\n" +
		"name=" + s.Product + " (" + target + ", $basearch)\n" +
		"baseurl=" + s.URL + "/rpm/" + target + "/$basearch/\n" +
		"enabled=1\n" +
		"gpgcheck=1\n" +
		"repo_gpgcheck=1\n" +
		"gpgkey=" + keys + "\n"
	if !hasKind(s, target, manifest.KindDebuginfo) {
		return main
	}
	// The debuginfo repository, disabled as EL's *-debuginfo sections
	// are: dnf --enablerepo=PRODUCT-debuginfo (or dnf debuginfo-install,
	// which enables every *-debuginfo repository) reaches it.
	return main + "\n" +
		"[" + DebugRepoID(s.Product) + "]\n" +
		"name=" + s.Product + " debug symbols (" + target + ", $basearch)\n" +
		"baseurl=" + DebugBaseURL(s, target) + "\n" +
		"enabled=0\n" +
		"gpgcheck=1\n" +
		"repo_gpgcheck=1\n" +
		"gpgkey=" + keys + "\n"
}

// DebugRepoID is the .repo section of the debuginfo repositories:
// PRODUCT-debuginfo, the suffix dnf's debuginfo-install looks for.
func DebugRepoID(product string) string { return product + "-debuginfo" }

// DebugBaseURL is the baseurl of target's debuginfo repository.
func DebugBaseURL(s *State, target string) string {
	return s.URL + "/rpm/" + target + "/$basearch/debug/"
}

// hasKind reports whether s records a package of kind for target.
func hasKind(s *State, target, kind string) bool {
	for _, r := range s.Releases {
		for _, a := range r.Artifacts {
			if a.Kind == kind && a.Distro == target {
				return true
			}
		}
	}
	return false
}

// CheckSuite checks the grammar of one --suite ID=NAME: a distro target id
// and an apt suite name (lower-case letters, digits, '.', '_', '-'; at most
// 64 bytes). Whether ID is a deb target of the releases is Run's to say.
func CheckSuite(id, name string) error {
	if !idRE.MatchString(id) || len(id) > 64 {
		return fmt.Errorf("--suite %s=%s: %q is not a distro target id: lower-case letters, digits, '.', '_' or '-' (e.g. debian12)", id, name, id)
	}
	if !suiteRE.MatchString(name) || len(name) > 64 {
		return fmt.Errorf("--suite %s=%s: %q is not an apt suite name: lower-case letters, digits, '.', '_' or '-' (e.g. bookworm)", id, name, name)
	}
	return nil
}
