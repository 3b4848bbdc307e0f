package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Every string in packaging.yaml ends up in a file another program parses
// line by line: a deb control file (one field per line, a continuation line
// starts with a space), conffiles and md5sums (one path per line, conffiles
// flags after a space), an rpm header shown by `rpm -qi`, a systemd unit (one
// setting per line, % specifiers), manifest.json and Markdown install docs. A
// newline in the maintainer writes a field of the attacker's choosing
// (`Essential: yes`); a space in a conffile path makes dpkg read a flag. So
// each field is held to the grammar of every file it reaches, at load time,
// with the line it came from.

// controlChar returns the first character of s that ends or bends a line in
// one of those files: C0/C1 controls and DEL, and the Unicode line and
// paragraph separators (some renderers break lines at them). allow lists
// controls a field may hold (description: '\n').
func controlChar(s, allow string) (rune, bool) {
	for _, r := range s {
		if strings.ContainsRune(allow, r) {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return r, true
		}
	}
	return 0, false
}

// describeRune names a character for an error message without printing it.
func describeRune(r rune) string {
	switch r {
	case '\n':
		return `a newline (\n)`
	case '\r':
		return `a carriage return (\r)`
	case '\t':
		return `a tab (\t)`
	}
	return fmt.Sprintf("the control character U+%04X", r)
}

var (
	// maintainerRE: "Name <address>", the form deb Maintainer, rpm
	// Packager and the changelog trailer all take. No comma: dpkg reads a
	// comma-separated list in Uploaders-like fields.
	maintainerRE = regexp.MustCompile(`^[^<>,]+ <[^\s<>,@]+@[^\s<>,@]+>$`)
	// sectionRE is deb-control(5)'s section: an optional area/ and a name.
	sectionRE = regexp.MustCompile(`^([a-z0-9-]+/)?[a-z0-9][a-z0-9+.-]*$`)
	// licenseRE is an SPDX license expression's alphabet.
	licenseRE = regexp.MustCompile(`^[A-Za-z0-9.+:()-]+( [A-Za-z0-9.+:()-]+)*$`)
	// pathPartRE is one component of an install path: the portable file
	// name set plus '+', '~', '@'. No space (conffiles flags, ExecStart
	// words), no '%' (systemd specifiers), no quotes or backslashes (unit,
	// shell and Markdown quoting), no control characters (every format).
	pathPartRE = regexp.MustCompile(`^[A-Za-z0-9._+~@-]+$`)
	// unitNameRE is systemd.unit(5)'s name alphabet (no escaping '\').
	unitNameRE = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+\.service$`)
	// baseNameRE is a file name relpack writes into tarballs and the
	// manifest, which docs quote for shell and Markdown.
	baseNameRE = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+~@-]*$`)
)

var priorities = []string{"required", "important", "standard", "optional", "extra"}

// checkOneLine refuses control characters in a single-line field.
func checkOneLine(field, value string) string {
	if r, bad := controlChar(value, ""); bad {
		return fmt.Sprintf("%s holds %s; it must be one line of text (a YAML block scalar such as `%s: |` adds a newline; use a plain or quoted string)", field, describeRune(r), field)
	}
	if value != strings.TrimSpace(value) {
		return fmt.Sprintf("%s %q has leading or trailing spaces; remove them", field, value)
	}
	return ""
}

// checkTextField validates one of the package's text fields by name.
func checkTextField(field, value string) string {
	if value == "" {
		return "" // required-ness is checked apart
	}
	if msg := checkOneLine(field, value); msg != "" {
		return msg
	}
	switch field {
	case "maintainer":
		if !maintainerRE.MatchString(value) {
			return fmt.Sprintf("maintainer %q must be \"Name <address>\": one name, one e-mail address in <>, no commas", value)
		}
	case "homepage":
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(value, " <>\"'`\\") {
			return fmt.Sprintf("homepage %q must be an http(s) URL without spaces, quotes or angle brackets, e.g. https://github.com/OWNER/PROJECT", value)
		}
	case "section":
		if !sectionRE.MatchString(value) {
			return fmt.Sprintf("section %q is not a Debian section (lower-case, e.g. net, admin, contrib/net)", value)
		}
	case "priority":
		for _, p := range priorities {
			if value == p {
				return ""
			}
		}
		return fmt.Sprintf("priority %q: use one of %s (optional for almost every package)", value, strings.Join(priorities, ", "))
	case "license":
		if !licenseRE.MatchString(value) {
			return fmt.Sprintf("license %q is not an SPDX license expression such as Apache-2.0 or \"MIT OR Apache-2.0\"", value)
		}
	}
	return ""
}

// checkDescription allows newlines (the long description is multi-line; the
// deb writer indents continuation lines) but no other control character.
func checkDescription(value string) string {
	if r, bad := controlChar(value, "\n"); bad {
		return fmt.Sprintf("description holds %s; only newlines may separate its lines", describeRune(r))
	}
	return ""
}

// checkInstallPath validates an absolute install path inside a package
// (binary, files[].dst).
func checkInstallPath(p string) string {
	switch {
	case p == "":
		return "no destination path given"
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q must be an absolute path such as /usr/bin/NAME", p)
	}
	if r, bad := controlChar(p, ""); bad {
		return fmt.Sprintf("%q holds %s; an install path is one line (dpkg's conffiles and md5sums list one path per line)", p, describeRune(r))
	}
	if p == "/" || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") {
		return fmt.Sprintf("%q must be a clean path to a file, without '.', '..', '//' or a trailing '/'", p)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if !pathPartRE.MatchString(part) || part == "." || part == ".." {
			return fmt.Sprintf("%q: the part %q may hold only letters, digits and . _ + ~ @ - (a space, %%, quote or backslash breaks dpkg's conffiles, the systemd unit or the install docs)", p, part)
		}
	}
	for _, bad := range []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/var/run", "/var/tmp", "/var/lock", "/home", "/root", "/usr/local", "/lost+found", "/mnt", "/media"} {
		if p == bad || strings.HasPrefix(p, bad+"/") {
			return fmt.Sprintf("%q is under %s, which a package must not own (Debian policy and the FHS); install under /usr, /etc, /opt or /var/lib", p, bad)
		}
	}
	// On every current distro /bin, /sbin and /lib* are links into /usr
	// (merged /usr): a package file there has two names, and dpkg and rpm
	// track only one of them (lintian: aliased-location).
	for _, alias := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		if p == alias || strings.HasPrefix(p, alias+"/") {
			return fmt.Sprintf("%q is under %s, a link to /usr%s on merged-/usr systems; install to /usr%s instead", p, alias, alias, p)
		}
	}
	if systemDirs[p] {
		return fmt.Sprintf("%q is a directory the base system owns; give the path of a file inside it (e.g. %s/NAME)", p, p)
	}
	return ""
}

// systemDirs are directories every Debian, Ubuntu and EL system has (owned
// by base-files / filesystem): installing a file under one of these names
// fails in dpkg ("trying to overwrite directory") and rpm alike.
var systemDirs = map[string]bool{}

func init() {
	for _, d := range strings.Fields(`/boot /etc /opt /srv /usr /var
		/etc/default /etc/systemd /etc/systemd/system /etc/init.d /etc/logrotate.d /etc/cron.d /etc/sudoers.d /etc/ssl /etc/ssl/certs
		/usr/bin /usr/sbin /usr/lib /usr/lib64 /usr/libexec /usr/include /usr/share /usr/src /usr/games
		/usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib/systemd /usr/lib/systemd/system /usr/lib/systemd/user
		/usr/lib/sysusers.d /usr/lib/tmpfiles.d /usr/share/doc /usr/share/man /usr/share/man/man1 /usr/share/man/man5
		/usr/share/man/man8 /usr/share/info /usr/share/licenses /usr/share/locale /usr/share/applications /usr/share/icons
		/var/lib /var/log /var/cache /var/spool /var/mail /var/opt /var/backups /var/local`) {
		systemDirs[d] = true
	}
}

// checkPathText refuses control characters in a source path: it is echoed
// in messages and, through tarball.files, named inside archives.
func checkPathText(field, p string) string {
	if r, bad := controlChar(p, ""); bad {
		return fmt.Sprintf("%s holds %s; give a path on one line", field, describeRune(r))
	}
	return ""
}

type layoutError struct{ key, msg string }

// GeneratedPaths are the files relpack itself adds to every package of
// this configuration: the binary, the unit, the deb copyright and
// changelog, the rpm license. A files: entry may not take one of them.
func (c *Config) GeneratedPaths() map[string]string {
	out := map[string]string{
		c.Binary: "binary",
		"/usr/share/doc/" + c.Name + "/copyright":           "the deb copyright file relpack writes",
		"/usr/share/doc/" + c.Name + "/changelog.Debian.gz": "the deb changelog relpack writes",
		"/usr/share/licenses/" + c.Name + "/LICENSE":        "the rpm license file relpack installs from license_file",
	}
	if c.Systemd != nil {
		out[c.Systemd.UnitPath()] = "the systemd unit"
	}
	return out
}

// checkLayout checks the package's paths together: two entries with one
// destination, a destination that is the parent folder of another (a file
// cannot also be a directory), or a files: entry that takes the path of a
// file relpack generates. dpkg and rpm refuse such packages at install
// time; relpack refuses them at load time.
func checkLayout(c *Config) []layoutError {
	var errs []layoutError
	type entry struct{ key, path, what string }
	var all []entry
	gen := c.GeneratedPaths()
	for _, p := range slices.Sorted(maps.Keys(gen)) {
		what := gen[p]
		key := "binary"
		if what != "binary" {
			key = ""
		}
		all = append(all, entry{key, p, what})
	}
	owner := map[string]string{}
	for p, what := range gen {
		owner[p] = what
	}
	for i, f := range c.Files {
		key := fmt.Sprintf("files[%d].dst", i)
		if checkInstallPath(f.Dst) != "" {
			continue // reported already
		}
		if what, ok := owner[f.Dst]; ok {
			errs = append(errs, layoutError{key, fmt.Sprintf("%s: %s is already %s; give another destination", key, f.Dst, what)})
			continue
		}
		owner[f.Dst] = key
		all = append(all, entry{key, f.Dst, key})
	}
	for _, a := range all {
		for _, b := range all {
			if strings.HasPrefix(b.path, a.path+"/") {
				key := a.key
				if key == "" {
					key = b.key
				}
				errs = append(errs, layoutError{key, fmt.Sprintf("%s (%s) is a file, but %s (%s) is inside it: a path cannot be both a file and a folder", a.path, a.what, b.path, b.what)})
			}
		}
	}
	return errs
}
