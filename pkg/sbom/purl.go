package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// artifactPurl is the package URL of the artifact itself:
//
//	pkg:deb/NAMESPACE/NAME@VERSION?arch=ARCH&distro=DISTRO
//	pkg:rpm/NAMESPACE/NAME@VERSION?arch=ARCH&distro=DISTRO[&epoch=E]
//	pkg:generic/NAME@VERSION?arch=TRIPLE
//
// The namespace of a deb or rpm is its vendor (the purl spec: "the vendor
// such as debian or ubuntu", "fedora"...). relpack's packages are built
// and shipped by the product's supplier, not by the distro they target,
// so the namespace is the supplier (packaging.yaml's vendor or
// maintainer), else the product: writing "debian" would tell a scanner
// that Debian ships the package and match it against Debian's security
// tracker. The distro target is the distro qualifier instead.
func artifactPurl(d *Document) string {
	a := d.Artifact
	name, version := artifactNameVersion(d)
	q := map[string]string{"arch": a.Arch, "distro": a.DistroPurl}
	switch a.Kind {
	case "deb":
		return purl("deb", vendorNamespace(d), name, version, q)
	case "rpm":
		// rpm's epoch is a qualifier, not part of the version.
		if e, v, ok := strings.Cut(version, ":"); ok {
			q["epoch"], version = e, v
		}
		return purl("rpm", vendorNamespace(d), name, version, q)
	}
	return purl("generic", "", name, version, q)
}

// vendorNamespace is the supplier's name (without its e-mail address)
// as a purl namespace word, else the product's name.
func vendorNamespace(d *Document) string {
	s, _, _ := strings.Cut(d.Supplier, "<")
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	if ns := strings.Trim(b.String(), "-."); ns != "" {
		return ns
	}
	return strings.ToLower(d.Product)
}

// requirementPurl is the purl of a distro package the artifact requires,
// without a version (a relation names a range, a purl one version), or
// "" when the relation names no package: an rpm capability such as
// "libc.so.6(GLIBC_2.28)(64bit)" or a file path. The namespace is the
// distro's vendor, the word before the version in the distro qualifier
// (debian-12: debian; el-9: el).
func requirementPurl(d *Document, pkg string) string {
	a := d.Artifact
	if (a.Kind != "deb" && a.Kind != "rpm") || a.DistroPurl == "" || !isPackageName(pkg) {
		return ""
	}
	vendor := a.DistroPurl
	if i := strings.LastIndexByte(vendor, '-'); i > 0 {
		vendor = vendor[:i]
	}
	return purl(a.Kind, vendor, pkg, "", map[string]string{"arch": a.Arch, "distro": a.DistroPurl})
}

// isPackageName: the characters of a Debian or rpm package name, and no
// soname (an rpm relation on "libz3.so.4" is a capability, not a package).
func isPackageName(s string) bool {
	if s == "" || strings.Contains(s, ".so") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isIDByte(c) || c == '+' || c == '_') {
			return false
		}
	}
	return true
}

// purl assembles a package URL (purl-spec): each part percent-encoded,
// qualifiers sorted by key, empty ones left out.
func purl(typ, namespace, name, version string, qualifiers map[string]string) string {
	var b strings.Builder
	b.WriteString("pkg:" + typ + "/")
	if namespace != "" {
		b.WriteString(purlEscape(namespace) + "/")
	}
	b.WriteString(purlEscape(name))
	if version != "" {
		b.WriteString("@" + purlEscape(version))
	}
	keys := make([]string, 0, len(qualifiers))
	for k, v := range qualifiers {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		b.WriteString(sep + k + "=" + purlEscape(qualifiers[k]))
	}
	return b.String()
}

// purlEscape percent-encodes every byte but the unreserved characters of
// RFC 3986 ("+" too: purl readers take a bare one for a space).
func purlEscape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isIDByte(c) || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// idOf is a short deterministic identifier of an element: the first 16
// hex digits of the SHA-256 of its parts. Identifiers come from what an
// element is (its path, its name and version), never from a counter or
// a random source, so the same Document gives the same identifiers.
func idOf(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// docUUID is a name-based (version 5) UUID of the artifact, one per
// document format: a document's identity is the artifact it describes,
// so two builds of the same bytes name their SBOMs alike.
func docUUID(format string, a Artifact) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("relpack-sbom:"+format+":"+a.File+":"+a.SHA256)).String()
}
