package pack

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"relpack/pkg/version"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the "rpm" packager

	"relpack/pkg/sign"
)

// PackageSpec describes one deb or rpm package. It is plain data: the build
// step fills it from packaging.yaml, the distro catalogue and the
// dependency resolver, and WritePackage turns it into an nfpm.Info.
type PackageSpec struct {
	Format string // "deb" or "rpm"
	Name   string
	// Arch is the GOARCH name ("amd64", "arm64"); nfpm maps it to the
	// format's own name (deb amd64/arm64, rpm x86_64/aarch64).
	Arch string

	// The version fields, already in nfpm's terms (relpack's version
	// mapping fills them). They are used exactly as given: nfpm's own
	// semver re-parsing is switched off. deb:
	// [Epoch:]Version[~Prerelease][+VersionMetadata][-Release];
	// rpm: Version[~Prerelease][+VersionMetadata]-Release, Epoch apart.
	Version, Release, Prerelease, VersionMetadata, Epoch string

	// Maintainer ("Name <email>") is the deb Maintainer, the rpm Packager
	// and the author of the changelog entry. Required.
	Maintainer string
	Vendor     string // rpm Vendor
	Homepage   string // deb Homepage, rpm URL
	License    string // rpm License (SPDX); for deb, ship a copyright file
	// Summary is the one-line synopsis (deb Description's first line, rpm
	// Summary). Description is the long text; when Summary is empty, the
	// first line of Description is the summary. Lines longer than 79
	// columns are word-wrapped (deb and rpm lint tools flag them).
	Summary     string
	Description string
	Section     string // deb Section; "misc" if empty (nfpm would write an empty field)
	Priority    string // deb Priority; "optional" if empty
	Group       string // rpm Group; "Unspecified" if empty, as rpmbuild does

	// Depends become deb Depends / rpm Requires, Provides deb/rpm Provides,
	// each written exactly as given (e.g. "libc6 (>= 2.28)",
	// "libc.so.6(GLIBC_2.28)(64bit)", "glibc >= 2.28").
	Depends  []string
	Provides []string
	// ExtraFields are custom deb control fields, e.g.
	// "X-Relpack-Glibc-Floor": "2.28". rpm has no custom header fields, so
	// they are an error for rpm.
	ExtraFields map[string]string

	Files []PackageFile

	// Compression of the payload: deb gzip|xz|zstd|none, rpm
	// gzip|xz|zstd|lzma. Empty means gzip, which every dpkg and rpm reads.
	Compression string

	// MTime is the modification time of every file and directory, the
	// deb ar/tar member time, the rpm build time and the changelog date.
	// Normally SOURCE_DATE_EPOCH. Required.
	MTime time.Time

	// ChangelogNote is the text of the single changelog entry written
	// into the package (deb /usr/share/doc/NAME/changelog.Debian.gz, rpm
	// %changelog). Default: "Release <version>."
	ChangelogNote string

	// Signing, when set, signs the package with this OpenPGP key through
	// nfpm's signing hooks, in memory (the key never touches the disk):
	// deb with a debsigs "origin" signature (ar member _gpgorigin, an
	// armoured detached signature of debian-binary + control.tar.* +
	// data.tar.*, as debsig-verify checks it); rpm with rpmpack's header
	// signature (RSAHEADER, tag 268) and header+payload signature
	// (SIGPGP, tag 1002), as rpm -K checks them. Every signature is made
	// at MTime (or at the key's creation when MTime is older), so a signed
	// build is as reproducible as an unsigned one. Nil: unsigned, and the
	// bytes are exactly those of a build without this field.
	Signing *sign.Key

	// TempDir holds the scratch files of the write (inline contents, the
	// changelog); empty means os.TempDir(). relpack build points it into
	// its staging folder, so a killed build leaves nothing elsewhere.
	TempDir string

	// Scripts are the package's maintainer scripts (deb) or scriptlets
	// (rpm), as text; pkg/lifecycle renders them for a systemd unit.
	Scripts Scripts

	// DebugSymbols marks a debug package (DebugSpec sets it). deb: the
	// file is a .ddeb (NAME-dbgsym_VERSION_ARCH.ddeb, as dh_builddeb names
	// it), its control file has the fields of a dbgsym package in
	// dpkg-gencontrol's order (Source and Auto-Built-Package, given in
	// ExtraFields with Build-Ids, around Version, Build-Ids last, no
	// Homepage or Provides) and it has no changelog: its
	// /usr/share/doc/NAME-dbgsym is a link to the main package's folder,
	// as dh_strip writes it. rpm: nothing changes (a -debuginfo rpm is an
	// ordinary rpm).
	DebugSymbols bool

	// Payloads, when set, is the build's cache of compressed deb data
	// members: debs holding the same files with the same compression share
	// one data.tar.*, compressed once (see PayloadCache). Nil: the data
	// member is compressed into TempDir for this package alone. The bytes
	// are the same either way.
	Payloads *PayloadCache
}

// Scripts are the bodies of a package's install and removal scripts.
// deb: whole files (#!/bin/sh ...) written as the control members
// preinst, postinst, prerm and postrm (mode 0755). rpm: scriptlet bodies
// run by /bin/sh (%pre, %post, %preun, %postun). Empty: no such script.
type Scripts struct {
	PreInstall  string // deb preinst, rpm %pre
	PostInstall string // deb postinst, rpm %post
	PreRemove   string // deb prerm, rpm %preun
	PostRemove  string // deb postrm, rpm %postun
}

// PackageFile is one entry of a package: a file (Src or Data), a
// symbolic link (Link) or a directory the package owns (Dir).
type PackageFile struct {
	// Src is the file on disk; symbolic links are followed (the package
	// holds the content, never a link into the build host).
	Src string
	// Data is inline content, used instead of Src.
	Data []byte
	// Dst is the absolute path on the installed system.
	Dst string
	// Mode holds the unix mode bits as octal, setuid/setgid/sticky included
	// (0o4755); explicit, 0 is an error.
	Mode fs.FileMode
	// Config marks a configuration file the admin may edit: a deb
	// conffile, an rpm %config(noreplace).
	Config bool
	// Link makes the entry a symbolic link to this target (relative to
	// the link's folder, or absolute), written as dpkg and rpmbuild write
	// one: a tar symlink entry, an rpm file of mode 0120777 with the
	// target in FILELINKTOS. Src, Data and Config stay empty; Mode is 0
	// or 0777 (a link's own mode is always lrwxrwxrwx).
	Link string
	// Dir makes the entry a directory: rpm lists it as owned (rpm removes
	// only the folders a package lists), deb writes its tar entry. Mode is
	// required (0755); Src, Data and Link stay empty. The same directory
	// may be listed more than once with the same mode (the build-id
	// folders of several binaries); it is written once.
	Dir bool
}

// rpmBuildHost is written as the rpm BUILDHOST tag instead of
// os.Hostname(), which nfpm uses by default and which would make the bytes
// depend on the machine.
const rpmBuildHost = "relpack"

var (
	debNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	rpmNameRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9+._-]*$`)
	debFieldRE = regexp.MustCompile(`^[A-Za-z0-9][!-9;-~]*$`) // deb-control(5): no ':' and no leading '#' or '-'
)

// debStandardFields are control fields nfpm writes itself; an ExtraFields
// entry with one of these names would make a duplicate field.
var debStandardFields = map[string]bool{
	"package": true, "version": true, "section": true, "priority": true, "architecture": true,
	"architecture-variant": true, "maintainer": true, "installed-size": true, "replaces": true,
	"provides": true, "pre-depends": true, "depends": true, "recommends": true, "suggests": true,
	"conflicts": true, "breaks": true, "homepage": true, "description": true, "essential": true,
	"source": true,
}

var compressions = map[string][]string{
	"deb": {"gzip", "xz", "zstd", "none"},
	"rpm": {"gzip", "xz", "zstd", "lzma"},
}

// WritePackage builds the package spec describes into outDir, atomically,
// under nfpm's conventional file name
// (name_version_arch.deb, name-version-release.arch.rpm), and returns its
// path. The same spec gives the same bytes on any host: every mtime is
// spec.MTime, owners are root:root, modes are the given ones, the rpm
// build host is fixed, and nfpm and its compressors write no clock or
// random data.
func WritePackage(spec PackageSpec, outDir string) (string, error) {
	what := spec.Format + " package " + spec.Name
	if err := spec.check(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	mtime, err := checkMTime(spec.MTime)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}

	// Inline Data and the changelog are written here: nfpm reads contents
	// and the changelog from files.
	stage, err := os.MkdirTemp(spec.TempDir, "relpack-pkg-*")
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer os.RemoveAll(stage)

	info, err := spec.nfpmInfo(stage, mtime)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	info = nfpm.WithDefaults(info)
	packager, err := nfpm.Get(spec.Format)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	switch spec.Format {
	case "rpm":
		// relpack writes the rpm itself, with rpmbuild's ./-prefixed
		// payload names, streaming the payload to disk (see rpmWriter);
		// nfpm still names the file.
		packager = rpmWriter{naming: packager, cache: spec.Payloads, tempDir: stage}
	case "deb":
		// relpack writes the deb itself, as nfpm would, streaming the
		// data member to disk and sharing it between packages (see
		// debWriter); nfpm still names the file.
		packager = debWriter{naming: packager, cache: spec.Payloads, tempDir: stage, ddeb: spec.DebugSymbols}
	}
	// Package prepares the contents again itself; this first call makes
	// every content error (missing source, collision) surface before the
	// output file is created.
	if err := nfpm.PrepareForPackager(info, spec.Format); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	name, err := spec.fileName(packager.ConventionalFileName(info))
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	out := filepath.Join(outDir, name)
	err = WriteFileAtomic(out, func(w io.Writer) error {
		return packager.Package(info, w)
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// PackageFileName checks spec and returns the file name WritePackage will
// write, without writing anything: a build plans every name (and refuses a
// bad spec) before its first artifact.
func PackageFileName(spec PackageSpec) (string, error) {
	what := spec.Format + " package " + spec.Name
	if err := spec.check(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	packager, err := nfpm.Get(spec.Format)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	// The conventional name reads only the name, version and arch fields.
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: spec.Name, Arch: spec.Arch, Platform: "linux", Epoch: spec.Epoch, Version: spec.Version,
		VersionSchema: "none", Release: spec.Release, Prerelease: spec.Prerelease, VersionMetadata: spec.VersionMetadata,
	})
	name, err := spec.fileName(packager.ConventionalFileName(info))
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return name, nil
}

// fileName is the package's file name from nfpm's conventional one: a
// debug deb's ends in .ddeb, as dh_builddeb names it. It must be a plain
// name (a version field with a / would make a path).
func (s *PackageSpec) fileName(name string) (string, error) {
	if s.Format == "deb" && s.DebugSymbols {
		name = strings.TrimSuffix(name, ".deb") + ".ddeb"
	}
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("file name %q is not a plain file name; check the version fields for / or a leading dot", name)
	}
	return name, nil
}

// check validates what nfpm would accept silently or turn into a broken
// package.
func (s *PackageSpec) check() error {
	if err := s.checkFormat(); err != nil {
		return err
	}
	if err := s.checkFields(); err != nil {
		return err
	}
	return s.checkFiles()
}

// checkFormat checks the format and the package name by its grammar.
func (s *PackageSpec) checkFormat() error {
	switch s.Format {
	case "deb":
		if !debNameRE.MatchString(s.Name) {
			return fmt.Errorf("name %q is not a valid Debian package name (lowercase letters, digits, + - ., at least two characters)", s.Name)
		}
	case "rpm":
		if !rpmNameRE.MatchString(s.Name) {
			return fmt.Errorf("name %q is not a valid rpm package name (letters, digits, + - . _)", s.Name)
		}
		if len(s.ExtraFields) > 0 {
			return errors.New("ExtraFields are deb control fields; rpm has no custom header fields, so leave them empty for rpm")
		}
	default:
		return fmt.Errorf("unknown package format %q; use deb or rpm", s.Format)
	}
	if s.Format == "deb" {
		return s.checkDdebFields()
	}
	return nil
}

// ddebFields are the control fields only a dbgsym package has; its
// control file names exactly these extra fields (see ddebControlTemplate).
var ddebFields = []string{"Source", "Auto-Built-Package", "Build-Ids"}

// checkDdebFields checks that a debug deb has exactly the dbgsym fields
// among its ExtraFields and a one-line description, and that no other
// deb has them.
func (s *PackageSpec) checkDdebFields() error {
	if !s.DebugSymbols {
		for _, k := range ddebFields {
			if _, ok := s.ExtraFields[k]; ok && k != "Source" {
				return fmt.Errorf("control field %s is a debug package's; make debug packages with DebugSpec", k)
			}
		}
		return nil
	}
	for k := range s.ExtraFields {
		if !contains(ddebFields, k) {
			return fmt.Errorf("control field %s: a debug package (DebugSymbols) has no extra fields but %s", k, strings.Join(ddebFields, " and "))
		}
	}
	for _, k := range ddebFields {
		if s.ExtraFields[k] == "" {
			return fmt.Errorf("a debug package (DebugSymbols) needs the %s control field; make debug packages with DebugSpec", k)
		}
	}
	if strings.TrimSpace(s.Description) != "" {
		return errors.New("a debug package (DebugSymbols) has a one-line Summary and no Description")
	}
	return nil
}

// checkFields checks the required fields, the one-line ones, the
// compression, the extra control fields and the relations.
func (s *PackageSpec) checkFields() error {
	if s.Arch == "" {
		return errors.New("no architecture given; set Arch to the GOARCH name (amd64, arm64)")
	}
	if s.Version == "" {
		return errors.New("no version given")
	}
	if s.Maintainer == "" {
		return errors.New(`no maintainer given; set Maintainer to "Name <email>"`)
	}
	if strings.TrimSpace(s.Summary) == "" && strings.TrimSpace(s.Description) == "" {
		return errors.New("no summary or description given")
	}
	if strings.ContainsAny(s.Summary, "\n\r") {
		return errors.New("the summary must be one line; put the rest in Description")
	}
	if c := s.Compression; c != "" && !contains(compressions[s.Format], c) {
		return fmt.Errorf("compression %q is not supported for %s; use one of %s", c, s.Format, strings.Join(compressions[s.Format], ", "))
	}
	for k, v := range s.ExtraFields {
		if !debFieldRE.MatchString(k) {
			return fmt.Errorf("control field name %q is not valid (printable ASCII, no ':' or space, not starting with '#' or '-')", k)
		}
		if debStandardFields[strings.ToLower(k)] && !(s.DebugSymbols && k == "Source") {
			return fmt.Errorf("control field %s is written from the spec itself; set it there, not in ExtraFields", k)
		}
		if v == "" || strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("control field %s: the value must be one non-empty line", k)
		}
	}
	for _, r := range append(append([]string{}, s.Depends...), s.Provides...) {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, "\n\r") {
			return fmt.Errorf("relation %q must be one non-empty line", r)
		}
	}
	return nil
}

// checkFiles checks that there are files, each at a clean absolute path
// once, with unix mode bits and one source of content.
func (s *PackageSpec) checkFiles() error {
	if len(s.Files) == 0 {
		return errors.New("no files given")
	}
	seen := map[string]PackageFile{}
	for i, f := range s.Files {
		if !path.IsAbs(f.Dst) || path.Clean(f.Dst) != f.Dst || f.Dst == "/" {
			return fmt.Errorf("file %d: destination %q must be a clean absolute path such as /usr/bin/%s", i, f.Dst, s.Name)
		}
		if prev, ok := seen[f.Dst]; ok && !(f.Dir && prev.Dir && f.Mode == prev.Mode) {
			return fmt.Errorf("file %s is listed twice", f.Dst)
		}
		seen[f.Dst] = f
		if err := checkEntry(f); err != nil {
			return err
		}
	}
	return nil
}

// checkEntry checks one entry's mode and that it has exactly one kind:
// content (Src or Data), a link or a directory.
func checkEntry(f PackageFile) error {
	if f.Link != "" {
		if f.Src != "" || f.Data != nil || f.Dir || f.Config {
			return fmt.Errorf("file %s is a symbolic link (Link); leave Src, Data, Dir and Config empty", f.Dst)
		}
		if f.Mode != 0 && f.Mode != 0o777 {
			return fmt.Errorf("file %s: a symbolic link's mode is always 0777; leave Mode 0", f.Dst)
		}
		if strings.ContainsAny(f.Link, "\x00\n") {
			return fmt.Errorf("file %s: link target %q holds a NUL or newline", f.Dst, f.Link)
		}
		return nil
	}
	if f.Mode == 0 {
		return fmt.Errorf("file %s: no mode given; set Mode (e.g. 0755 for executables, 0644 for other files)", f.Dst)
	}
	// Unix mode bits as octal: nfpm writes the low 12 bits into the
	// deb's tar header and the rpm's file mode as they are, so setuid
	// (0o4000), setgid (0o2000) and sticky (0o1000) go through, while
	// Go's own type and flag bits (fs.ModeSetuid, ...) would not.
	if f.Mode&^0o7777 != 0 {
		return fmt.Errorf("file %s: mode %v is not a unix mode; give octal bits only (0..07777, e.g. 0755 or 04755)", f.Dst, f.Mode)
	}
	switch {
	case f.Dir && (f.Src != "" || f.Data != nil || f.Config):
		return fmt.Errorf("file %s is a directory (Dir); leave Src, Data and Config empty", f.Dst)
	case f.Dir:
		return nil
	case f.Src != "" && f.Data != nil:
		return fmt.Errorf("file %s has both Src and Data; give one", f.Dst)
	case f.Src == "" && f.Data == nil:
		return fmt.Errorf("file %s has no content; set Src or Data", f.Dst)
	}
	return nil
}

// nfpmInfo translates the spec. stage is a scratch directory for inline
// file content, the changelog and the scripts.
func (s *PackageSpec) nfpmInfo(stage string, mtime time.Time) (*nfpm.Info, error) {
	info := &nfpm.Info{
		Name:            s.Name,
		Arch:            s.Arch,
		Platform:        "linux",
		Epoch:           s.Epoch,
		Version:         s.Version,
		VersionSchema:   "none", // the fields are final; see PackageSpec
		Release:         s.Release,
		Prerelease:      s.Prerelease,
		VersionMetadata: s.VersionMetadata,
		Section:         orDefault(s.Section, "misc"),
		Priority:        orDefault(s.Priority, "optional"),
		Maintainer:      s.Maintainer,
		Vendor:          s.Vendor,
		Homepage:        s.Homepage,
		License:         s.License,
		// Globs in Src would silently pick other files.
		DisableGlobbing: true,
		MTime:           mtime,
	}
	info.Depends = append([]string(nil), s.Depends...)
	info.Provides = append([]string(nil), s.Provides...)
	s.formatFields(info)
	s.setSigner(info, mtime)
	contents, err := s.contents(stage, mtime)
	if err != nil {
		return nil, err
	}
	info.Contents = contents
	if err := s.addChangelog(info, stage, mtime); err != nil {
		return nil, err
	}
	if err := s.writeScripts(info, stage); err != nil {
		return nil, err
	}
	return info, nil
}

// summaryAndBody are the one-line summary and the description's body,
// wrapped at 79 columns: Summary and Description, or, with no Summary,
// the first line of Description and the rest.
func (s *PackageSpec) summaryAndBody() (string, string) {
	summary, body := s.Summary, s.Description
	if strings.TrimSpace(summary) == "" {
		summary, body, _ = strings.Cut(strings.TrimSpace(body), "\n")
	}
	return strings.TrimSpace(summary), wrapText(strings.TrimSpace(body), 79)
}

// formatFields sets the fields of info that the format writes its own
// way: the description, the compression and deb's extra control fields
// or rpm's summary, group, packager and build host.
func (s *PackageSpec) formatFields(info *nfpm.Info) {
	summary, body := s.summaryAndBody()
	switch s.Format {
	case "deb":
		// deb: the first line of Description is the synopsis.
		info.Description = strings.TrimSpace(summary + "\n" + body)
		info.Deb.Compression = orDefault(s.Compression, "gzip")
		if len(s.ExtraFields) > 0 {
			info.Deb.Fields = map[string]string{}
			for k, v := range s.ExtraFields {
				info.Deb.Fields[k] = v
			}
		}
	case "rpm":
		// rpm keeps Summary and %description apart; the description
		// does not repeat the summary.
		info.RPM.Summary = summary
		info.Description = orDefault(body, summary)
		info.RPM.Compression = orDefault(s.Compression, "gzip")
		info.RPM.Group = orDefault(s.Group, "Unspecified")
		info.RPM.Packager = s.Maintainer
		info.RPM.BuildHost = rpmBuildHost
	}
}

// setSigner sets info's signer when the spec has a key: nfpm's deb signer
// takes an armoured signature, its rpm signer (rpmpack) a binary one.
func (s *PackageSpec) setSigner(info *nfpm.Info, mtime time.Time) {
	if s.Signing == nil {
		return
	}
	switch s.Format {
	case "deb":
		info.Deb.Signature.Type = "origin"
		info.Deb.Signature.SignFn = sign.SignFunc(s.Signing, mtime, true)
	case "rpm":
		info.RPM.Signature.SignFn = sign.SignFunc(s.Signing, mtime, false)
	}
}

// addChangelog writes the changelog entry into stage and hands it to
// info: for rpm as Info.Changelog; for deb as changelog.Debian.gz, which
// nfpm writes itself with a bare tar header (0/0 with no user and group
// names, unlike every other entry): relpack formats it as nfpm does and
// adds it as an ordinary root:root file.
func (s *PackageSpec) addChangelog(info *nfpm.Info, stage string, mtime time.Time) error {
	chlog := filepath.Join(stage, "changelog.yml")
	if err := s.writeChangelog(chlog, mtime); err != nil {
		return err
	}
	if s.Format != "deb" {
		info.Changelog = chlog
		return nil
	}
	if s.DebugSymbols {
		// dh_strip's dbgsym has no changelog: its doc folder is a link
		// to the main package's.
		return nil
	}
	c, err := debChangelog(s.Name, chlog, stage, mtime)
	if err != nil {
		return err
	}
	c.Destination = "/usr/share/doc/" + s.Name + "/changelog.Debian.gz"
	info.Contents = append(info.Contents, c)
	return nil
}

// writeScripts writes the maintainer scripts into stage and points info
// at them: nfpm reads scripts from files (its deb writer and relpack's
// rpm writer alike).
func (s *PackageSpec) writeScripts(info *nfpm.Info, stage string) error {
	for _, sc := range []struct {
		body string
		dst  *string
		name string
	}{
		{s.Scripts.PreInstall, &info.Scripts.PreInstall, "preinst"},
		{s.Scripts.PostInstall, &info.Scripts.PostInstall, "postinst"},
		{s.Scripts.PreRemove, &info.Scripts.PreRemove, "prerm"},
		{s.Scripts.PostRemove, &info.Scripts.PostRemove, "postrm"},
	} {
		if sc.body == "" {
			continue
		}
		f := filepath.Join(stage, "script-"+sc.name)
		if err := os.WriteFile(f, []byte(sc.body), 0o600); err != nil {
			return fmt.Errorf("%s script: %w", sc.name, err)
		}
		*sc.dst = f
	}
	return nil
}

// debChangelog renders the chglog file as nfpm renders a deb's changelog
// (chglog's Debian template, gzip at best compression with no name or
// time in its header) into stage, as a root:root 0644 content entry.
func debChangelog(name, chlog, stage string, mtime time.Time) (*files.Content, error) {
	entries, err := chglog.Parse(chlog)
	if err != nil {
		return nil, fmt.Errorf("reading the changelog: %w", err)
	}
	tpl, err := chglog.DebTemplate()
	if err != nil {
		return nil, err
	}
	text, err := chglog.FormatChangelog(&chglog.PackageChangeLog{Name: name, Entries: entries}, tpl)
	if err != nil {
		return nil, fmt.Errorf("formatting the changelog: %w", err)
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(zw, strings.TrimSpace(text)+"\n"); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	f := filepath.Join(stage, "changelog.Debian.gz")
	if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("writing the changelog: %w", err)
	}
	return &files.Content{
		Source: f,
		Type:   files.TypeFile,
		FileInfo: &files.ContentFileInfo{
			Owner: "root", Group: "root", Mode: 0o644, MTime: mtime,
		},
	}, nil
}

// contents turns Files into nfpm contents with every file attribute set,
// so nfpm never falls back to the disk (mode & umask, mtime) or the clock.
func (s *PackageSpec) contents(stage string, mtime time.Time) (files.Contents, error) {
	var out files.Contents
	dirs := map[string]bool{}
	for i, f := range s.Files {
		if f.Dir && dirs[f.Dst] {
			continue // listed again with the same mode (checkFiles)
		}
		c, err := s.content(i, f, stage, mtime)
		if err != nil {
			return nil, err
		}
		if f.Dir {
			dirs[f.Dst] = true
		}
		out = append(out, c)
	}
	if s.Format == "rpm" {
		out = append(out, s.ownedDirs(dirs, mtime)...)
	}
	return out, nil
}

// content is the nfpm content of the i'th file: its source (inline Data
// written into stage, a Src resolved to the regular file it names, a
// link's target) and its attributes.
func (s *PackageSpec) content(i int, f PackageFile, stage string, mtime time.Time) (*files.Content, error) {
	info := &files.ContentFileInfo{Owner: "root", Group: "root", Mode: f.Mode, MTime: mtime}
	switch {
	case f.Link != "":
		info.Mode = 0o777
		return &files.Content{Source: f.Link, Destination: f.Dst, Type: files.TypeSymlink, FileInfo: info}, nil
	case f.Dir:
		return &files.Content{Destination: f.Dst, Type: files.TypeDir, FileInfo: info}, nil
	}
	src := f.Src
	if f.Data != nil {
		src = filepath.Join(stage, fmt.Sprintf("data-%d", i))
		if err := os.WriteFile(src, f.Data, 0o600); err != nil {
			return nil, fmt.Errorf("file %s: %w", f.Dst, err)
		}
	} else {
		// nfpm packages a symlink source as a symlink; resolve it so
		// the content is packaged.
		resolved, err := filepath.EvalSymlinks(src)
		if err != nil {
			return nil, fmt.Errorf("file %s: %w", f.Dst, err)
		}
		st, err := os.Stat(resolved)
		if err != nil {
			return nil, fmt.Errorf("file %s: %w", f.Dst, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("file %s: %s is not a regular file (%v)", f.Dst, f.Src, st.Mode().Type())
		}
		src = resolved
	}
	return &files.Content{Source: src, Destination: f.Dst, Type: s.contentType(f), FileInfo: info}, nil
}

// contentType picks the nfpm content type of a file.
func (s *PackageSpec) contentType(f PackageFile) string {
	switch {
	case f.Config:
		// deb: a conffile; rpm: %config(noreplace), which like dpkg
		// keeps the admin's edits on upgrade.
		return files.TypeConfigNoReplace
	case s.Format == "rpm" && strings.HasPrefix(f.Dst, "/usr/share/licenses/"):
		return files.TypeRPMLicense
	case s.Format == "rpm" && strings.HasPrefix(f.Dst, "/usr/share/doc/"):
		// %doc, so rpm -qd lists it and --excludedocs skips it.
		return files.TypeRPMDoc
	}
	return files.TypeFile
}

// ownedDirs returns, for rpm, the directories the package introduces: the
// parents of its files that carry the package's name (/usr/share/doc/NAME,
// /etc/NAME, /usr/lib/NAME/...). rpm, unlike dpkg, removes only the
// directories a package lists, and nfpm lists none of the implicit ones;
// system directories (/usr/bin, /etc) stay unowned, as they belong to the
// filesystem package. listed are the directories Files lists (Dir), which
// are not added again.
func (s *PackageSpec) ownedDirs(listed map[string]bool, mtime time.Time) files.Contents {
	dirs := map[string]bool{}
	for _, f := range s.Files {
		for d := path.Dir(f.Dst); d != "/"; d = path.Dir(d) {
			if strings.Contains(d+"/", "/"+s.Name+"/") && !listed[d] {
				dirs[d] = true
			}
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	var out files.Contents
	for _, d := range names {
		out = append(out, &files.Content{
			Destination: d,
			Type:        files.TypeDir,
			FileInfo:    &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o755, MTime: mtime},
		})
	}
	return out
}

// writeChangelog writes the one-entry chglog file nfpm reads
// (Info.Changelog is a path). deb gets /usr/share/doc/NAME/changelog.Debian.gz
// from it, rpm the %changelog tags rpmlint asks for. The entry's version
// is the package's full version, so both lint tools find it coherent.
func (s *PackageSpec) writeChangelog(file string, mtime time.Time) error {
	note := s.ChangelogNote
	if note == "" {
		note = "Release " + s.fullVersion() + "."
	}
	entries := chglog.ChangeLogEntries{{
		Semver:   s.fullVersion(),
		Date:     mtime,
		Packager: s.Maintainer,
		Changes:  chglog.ChangeLogChanges{{Note: note}},
		// Without a distribution and urgency the deb header line is
		// "name (version)" alone, which is not the Debian format.
		ChangeLogOverridables: chglog.ChangeLogOverridables{
			Deb: &chglog.ChangelogDeb{Urgency: "medium", Distributions: []string{"stable"}},
		},
	}}
	if err := entries.Save(file); err != nil {
		return fmt.Errorf("writing the changelog: %w", err)
	}
	return nil
}

// fullVersion is the version as the package manager shows it, built the
// way nfpm builds it (deb control Version; rpm [E:]V-R).
func (s *PackageSpec) fullVersion() string {
	return version.NFPMFields{Version: s.Version, Release: s.Release, Prerelease: s.Prerelease,
		VersionMetadata: s.VersionMetadata, Epoch: s.Epoch}.Full(s.Format)
}

// wrapText word-wraps each line of text longer than width columns; the
// caller's own line breaks and blank lines (paragraphs) are kept.
func wrapText(text string, width int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t")
		for len(line) > width {
			cut := strings.LastIndex(line[:width+1], " ")
			if cut <= 0 {
				break // one word longer than width: leave it
			}
			out = append(out, strings.TrimRight(line[:cut], " "))
			line = strings.TrimLeft(line[cut:], " ")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
