package sbom

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// check refuses a Document that no writer could turn into a true SBOM:
// an artifact without a name, kind or digest, a digest that is not one,
// a file path that leaves the artifact, or a licence that is no SPDX
// license expression. Free text (names, versions, comments) needs no
// check: the JSON encoders escape every quote, control character and
// markup character, and purls percent-encode theirs.
func check(d *Document) error {
	if d == nil {
		return errors.New("sbom: no document")
	}
	a := d.Artifact
	if err := checkFileName(a.File); err != nil {
		return fmt.Errorf("sbom: artifact %w", err)
	}
	errs := []error{}
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkHex("artifact "+a.File+" sha256", a.SHA256, 64))
	switch a.Kind {
	case "tarball", "deb", "rpm":
	default:
		add(fmt.Errorf("artifact %s: kind %q is not tarball, deb or rpm", a.File, a.Kind))
	}
	if d.Tool == "" {
		add(errors.New("no tool (relpack's version) to name as the SBOM's creator"))
	}
	if d.Created < 0 || d.Created > maxCreated {
		add(fmt.Errorf("creation time %d is not a SOURCE_DATE_EPOCH between 0 and %d", d.Created, maxCreated))
	}
	if d.License != "" {
		add(checkLicense(d.License))
	}
	for _, f := range d.Files {
		add(checkPath("file", f.Path))
		add(checkHex("file "+f.Path+" sha256", f.SHA256, 64))
		if f.SHA1 != "" {
			add(checkHex("file "+f.Path+" sha1", f.SHA1, 40))
		}
	}
	for _, b := range d.Binaries {
		add(checkPath("binary", b.Path))
		add(checkHex("binary "+b.Path+" sha256", b.SHA256, 64))
		if b.Components == nil {
			add(fmt.Errorf("binary %s: no components read (a binary that records none has Components.Known() false, not nil)", b.Path))
		}
	}
	for _, l := range d.Libraries {
		add(checkPath("library", l.Path))
		add(checkHex("library "+l.Path+" sha256", l.SHA256, 64))
	}
	for _, r := range d.Requires {
		if r.Package == "" {
			add(fmt.Errorf("requirement %q names no package", r.Raw))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sbom of %s: %w", a.File, err)
	}
	return nil
}

// maxCreated is the last second of year 9999: RFC 3339 has four year digits.
const maxCreated = 253402300799

// created is the document's creation time in RFC 3339 UTC.
func created(d *Document) string {
	return time.Unix(d.Created, 0).UTC().Format(time.RFC3339)
}

// checkFileName: an artifact is a file of the release folder, named
// without a folder, and the name must survive a round trip through JSON
// and a verifier's message unchanged.
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("file name %s is not the name of a file in the release", strconv.Quote(name))
	}
	return checkText("file name", name)
}

// checkPath: a path inside the artifact, relative and clean.
func checkPath(what, p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("%s path %s is not a clean path inside the artifact", what, strconv.Quote(p))
	}
	return checkText(what+" path", p)
}

// checkText refuses control characters and invalid UTF-8: JSON would
// carry them escaped, but a file name holding a newline is no name a
// reader of the SBOM can act on.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %s is not UTF-8", what, strconv.Quote(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s %s holds the control character %s", what, strconv.Quote(s), strconv.QuoteRune(r))
		}
	}
	return nil
}

// checkHex: a lower-case hex digest of n digits.
func checkHex(what, s string, n int) error {
	if len(s) != n {
		return fmt.Errorf("%s %s is not %d hex digits", what, strconv.Quote(s), n)
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return fmt.Errorf("%s %s is not %d lower-case hex digits", what, strconv.Quote(s), n)
		}
	}
	return nil
}
