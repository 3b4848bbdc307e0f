package pack

// Debug packages (issue 22): a deb target's NAME-dbgsym .ddeb as
// debhelper's dh_strip and dh_gencontrol write it, an rpm target's
// NAME-debuginfo rpm as rpmbuild's find-debuginfo and build-id links
// write it. The debug file itself is made elsewhere (pkg/debugsym); here it
// is only placed where gdb's debug-file-directory lookup finds it.

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/version"
)

// DebugPackage is what the debug package of one package is made from.
type DebugPackage struct {
	// BuildID is the binary's GNU build-id, lower-case hex.
	BuildID string
	// DebugFile is the debug file on disk (debugsym's WriteDebug output).
	DebugFile string
	// Binary is the binary's installed path in the main package, e.g.
	// /usr/bin/openshell-gateway.
	Binary string
}

const (
	// debugRoot is gdb's default debug-file-directory, where every
	// distro installs its debug files.
	debugRoot = "/usr/lib/debug"
	// mainBuildIDRoot is where rpmbuild puts a main package's build-id
	// links (%_build_id_links separate).
	mainBuildIDRoot = "/usr/lib/.build-id"
)

// DebugSpec returns the spec of main's debug package: for deb
// NAME-dbgsym (Source NAME, Section debug, Priority optional, Depends
// NAME (= VERSION), Auto-Built-Package, Build-Ids; the debug file at
// /usr/lib/debug/.build-id/xx/rest.debug; written as a .ddeb); for rpm
// NAME-debuginfo (Provides debuginfo(build-id) = ID; the debug file at
// /usr/lib/debug/BINARY-VERSION-RELEASE.ARCH.debug and its build-id link).
// PackageFileName and WritePackage take the spec it returns. The version,
// architecture, maintainer, compression, mtime, signing key, TempDir and
// payload cache are main's. It checks main, the build-id, that Binary is a
// file of main and that DebugFile is a regular file, and writes nothing.
func DebugSpec(main PackageSpec, d DebugPackage) (PackageSpec, error) {
	what := main.Format + " package " + main.Name
	if err := main.check(); err != nil {
		return PackageSpec{}, fmt.Errorf("debug package of %s: %w", what, err)
	}
	if err := checkDebugPackage(main, d); err != nil {
		return PackageSpec{}, fmt.Errorf("debug package of %s: %w", what, err)
	}
	spec := PackageSpec{
		Format: main.Format, Arch: main.Arch,
		Version: main.Version, Release: main.Release, Prerelease: main.Prerelease,
		VersionMetadata: main.VersionMetadata, Epoch: main.Epoch,
		Maintainer: main.Maintainer, Vendor: main.Vendor, License: main.License,
		Compression: main.Compression, MTime: main.MTime, ChangelogNote: main.ChangelogNote,
		Signing: main.Signing, TempDir: main.TempDir, Payloads: main.Payloads,
		DebugSymbols: true,
	}
	if main.Format == "deb" {
		ddebSpec(&spec, main, d)
	} else {
		debuginfoSpec(&spec, main, d)
	}
	if err := spec.check(); err != nil {
		return PackageSpec{}, fmt.Errorf("debug package of %s: %w", what, err)
	}
	return spec, nil
}

// ddebSpec fills spec as dh_strip and dh_gencontrol make a dbgsym package:
// the debug file under its build-id and the doc folder a link to main's
// (dh_installdocs' --link-doc, which a dbgsym always gets), no Homepage
// and no relation but the exact Depends on main.
func ddebSpec(spec *PackageSpec, main PackageSpec, d DebugPackage) {
	spec.Name = main.Name + "-dbgsym"
	spec.Summary = "debug symbols for " + main.Name
	spec.Section, spec.Priority = "debug", "optional"
	spec.Depends = []string{main.Name + " (= " + main.fullVersion() + ")"}
	spec.ExtraFields = map[string]string{"Source": main.Name, "Auto-Built-Package": "debug-symbols", "Build-Ids": d.BuildID}
	spec.Files = []PackageFile{
		{Src: d.DebugFile, Dst: debugBuildIDPath(d.BuildID) + ".debug", Mode: 0o644},
		{Dst: "/usr/share/doc/" + spec.Name, Link: main.Name},
	}
}

// debuginfoSpec fills spec as rpmbuild makes a -debuginfo package: the
// %_debuginfo_template's summary, group and description, the debug file
// under find-debuginfo's unique name (%_unique_debug_names), the build-id
// link to it as rpmbuild's generateBuildIDs writes it, the folders
// find-debuginfo's list owns (every one under /usr/lib/debug, the
// build-id ones included), and the debuginfo(build-id) provide.
func debuginfoSpec(spec *PackageSpec, main PackageSpec, d DebugPackage) {
	spec.Name = main.Name + "-debuginfo"
	spec.Homepage = main.Homepage
	spec.Summary = "Debug information for package " + main.Name
	spec.Description = "This package provides debug information for package " + main.Name + ".\n" +
		"Debug information is useful when developing applications that use this\n" +
		"package or when debugging this package."
	spec.Group = "Development/Debug"
	spec.Provides = []string{"debuginfo(build-id) = " + d.BuildID}
	file := debugRoot + path.Dir(d.Binary) + "/" + DebugLink(main, d)
	link := debugBuildIDPath(d.BuildID) + ".debug"
	spec.Files = append(ownedParents(file, link), PackageFile{Src: d.DebugFile, Dst: file, Mode: 0o644},
		// rpmbuild: "../../../../..%s" of the debug file's path, from
		// /usr/lib/debug/.build-id/xx, five folders below /.
		PackageFile{Dst: link, Link: upToRoot(path.Dir(link)) + file})
}

// ownedParents are the Dir entries of the folders below /usr/lib/debug
// that hold the files, /usr/lib/debug itself included, each once, parents
// first.
func ownedParents(files ...string) []PackageFile {
	var out []PackageFile
	seen := map[string]bool{}
	for _, f := range files {
		var dirs []string
		for d := path.Dir(f); d != path.Dir(debugRoot); d = path.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if !seen[d] {
				seen[d] = true
				out = append(out, PackageFile{Dst: d, Dir: true, Mode: 0o755})
			}
		}
	}
	return out
}

// DebugLink is the file name the .gnu_debuglink of main's binary names:
// deb "rest.debug" (the build-id path's base, as dh_strip links it), rpm
// "BASENAME-VERSION-RELEASE.ARCH.debug" (find-debuginfo's unique name,
// -%{VERSION}-%{RELEASE}.%{_arch}: no epoch, the rpm architecture name).
// An invalid build-id (see DebugSpec) gives "".
func DebugLink(main PackageSpec, d DebugPackage) string {
	if main.Format == "rpm" {
		vr := version.NFPMFields{Version: main.Version, Release: main.Release, Prerelease: main.Prerelease,
			VersionMetadata: main.VersionMetadata}.Full("rpm")
		return path.Base(d.Binary) + "-" + vr + "." + rpmArchOf(main.Arch) + ".debug"
	}
	if checkBuildID(d.BuildID) != nil {
		return ""
	}
	return d.BuildID[2:] + ".debug"
}

// BuildIDLinks are the files main carries for its binary under
// /usr/lib/.build-id (rpm: the xx/rest symlink to the binary, as rpmbuild's
// build-id links in "separate" mode, and the two folders it owns with
// them); none for deb, and none for an invalid build-id (DebugSpec says
// why). The folders may be listed by several binaries' links of one
// package (checkFiles merges them).
func BuildIDLinks(main PackageSpec, d DebugPackage) []PackageFile {
	if main.Format != "rpm" || checkBuildID(d.BuildID) != nil || checkBinary(d.Binary) != nil {
		return nil
	}
	link := mainBuildIDRoot + "/" + d.BuildID[:2] + "/" + d.BuildID[2:]
	return []PackageFile{
		{Dst: mainBuildIDRoot, Dir: true, Mode: 0o755},
		{Dst: path.Dir(link), Dir: true, Mode: 0o755},
		// rpmbuild: "../../../..%s" of the binary's path.
		{Dst: link, Link: upToRoot(path.Dir(link)) + d.Binary},
	}
}

// upToRoot is the relative path from the absolute folder dir up to /,
// without the last slash ("../../../.." for /usr/lib/.build-id/xx), to
// which an absolute path is appended.
func upToRoot(dir string) string {
	n := strings.Count(strings.Trim(dir, "/"), "/") + 1
	return strings.TrimSuffix(strings.Repeat("../", n), "/")
}

// debugBuildIDPath is /usr/lib/debug/.build-id/xx/rest, gdb's build-id
// lookup path without its ".debug".
func debugBuildIDPath(id string) string {
	return debugRoot + "/.build-id/" + id[:2] + "/" + id[2:]
}

// rpmArchOf is the rpm architecture name of a GOARCH name, as the rpm
// writer names it.
func rpmArchOf(goarch string) string {
	if a, ok := rpmArch[goarch]; ok {
		return a
	}
	return goarch
}

// checkDebugPackage validates d against main before anything is written.
func checkDebugPackage(main PackageSpec, d DebugPackage) error {
	if err := checkBuildID(d.BuildID); err != nil {
		return err
	}
	if err := checkBinary(d.Binary); err != nil {
		return err
	}
	found := false
	for _, f := range main.Files {
		found = found || (f.Dst == d.Binary && f.Link == "" && !f.Dir)
	}
	if !found {
		return fmt.Errorf("binary %s is not a file of the package; give the installed path of one of its files", d.Binary)
	}
	if d.DebugFile == "" {
		return errors.New("no debug file given for " + d.Binary)
	}
	if _, err := regular.Check(d.DebugFile); err != nil {
		return fmt.Errorf("debug file of %s: %w; split the binary first (its debug file must exist)", d.Binary, err)
	}
	return nil
}

// checkBinary refuses a binary path that is not absolute and clean.
func checkBinary(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" || strings.ContainsAny(p, "\x00\n") {
		return fmt.Errorf("binary %q must be the clean absolute path it is installed at, such as /usr/bin/NAME", p)
	}
	return nil
}

// checkBuildID refuses a build-id that is not lower-case hex of an even
// length between 2 and 64 bytes (gdb's lookup path is the id's hex digits;
// rpmbuild refuses ids under 16 bytes, but Go's and lld's shorter ones are
// still found by gdb).
func checkBuildID(id string) error {
	if len(id) < 4 || len(id) > 128 || len(id)%2 != 0 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("build-id %q is not lower-case hex of 2 to 64 bytes (an even number of digits 0-9a-f); give the binary's NT_GNU_BUILD_ID as eu-readelf -n shows it", id)
	}
	return nil
}
