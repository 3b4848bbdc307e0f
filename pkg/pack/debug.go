package pack

// Debug packages (issue 22): a deb target's NAME-dbgsym .ddeb as
// debhelper's dh_strip writes it, an rpm target's NAME-debuginfo rpm as
// rpmbuild's find-debuginfo writes it.
//
// THIS FILE IS THE AGREED API, NOT YET IMPLEMENTED: every function below
// panics until pkg/pack's implementation replaces this file.

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

// DebugSpec returns the spec of main's debug package: for deb
// NAME-dbgsym (Section debug, Priority optional, Depends NAME (= VERSION),
// Auto-Built-Package, Build-Ids; the debug file at
// /usr/lib/debug/.build-id/xx/rest.debug; written as a .ddeb); for rpm
// NAME-debuginfo (Provides debuginfo(build-id) = ID; the debug file at
// /usr/lib/debug/BINARY-VERSION-RELEASE.ARCH.debug and its build-id link).
// PackageFileName and WritePackage take the spec it returns.
func DebugSpec(main PackageSpec, d DebugPackage) (PackageSpec, error) {
	panic("pack: debug packages not implemented")
}

// DebugLink is the file name the .gnu_debuglink of main's binary names:
// deb "rest.debug" (the build-id path's base, as dh_strip links it), rpm
// "BASENAME-VERSION-RELEASE.ARCH.debug" (find-debuginfo's unique name).
func DebugLink(main PackageSpec, d DebugPackage) string {
	panic("pack: debug packages not implemented")
}

// BuildIDLinks are the files main carries for its binary under
// /usr/lib/.build-id (rpm: the xx/rest symlink to the binary, as rpmbuild's
// build-id links in "separate" mode); none for deb.
func BuildIDLinks(main PackageSpec, d DebugPackage) []PackageFile {
	panic("pack: debug packages not implemented")
}
