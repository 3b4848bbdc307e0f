package templates

// InstallDoc is the data of install.md.tmpl: everything the install docs
// say, computed from manifest.json by pkg/docs and already sorted, so a
// template only lays it out (no logic, no clock, no map iteration).
type InstallDoc struct {
	Product, Summary, Version, Homepage, License string
	// Floor is the promised glibc floor ("2.28"); Policy names the policy.
	Floor, Policy string
	// AllStatic is set when every build of the release is a static
	// binary (musl or no libc): the docs claim no glibc floor then.
	AllStatic bool
	// StaticPackages is set when some deb or rpm package holds a static
	// binary, so "every package needs glibc" is not said.
	StaticPackages bool
	// Families are the other symbol-version floors of the policy
	// (GLIBCXX, CXXABI, GCC, ...), sorted by family; GLIBC is left out.
	Families []DocFamily
	// Covers are the distro families the floor reaches, as the manifest
	// lists them.
	Covers []string
	// Distros are the distro targets packaged for, sorted by id.
	Distros []DocDistro
	// Tarballs are sorted by architecture (x86_64 first), then gnu,
	// gnu+sidecar, musl static.
	Tarballs []DocTarball
	// HasSidecar tells whether any tarball carries its Z3 library.
	HasSidecar bool
	// HasGnuTarball and HasMusl tell whether the release has a gnu
	// tarball without sidecar, and a static musl tarball: the docs speak
	// only of artifacts that exist.
	HasGnuTarball, HasMusl bool
	// MuslOnly, when the musl tarballs cover fewer architectures than the
	// release, names the ones they cover ("x86_64"); "" otherwise.
	MuslOnly string
	// Artifacts is every file of the release, sorted by name.
	Artifacts []DocArtifact
	// Service is the packages' systemd unit; nil when there is none or no
	// package. HasDeb and HasRPM say which package families the release has.
	Service        *DocService
	HasDeb, HasRPM bool
	// Debug is how to get the release's debug symbols; nil when it has no
	// debug artifacts.
	Debug *DocDebug
}

// DocDebug is the release's debug artifacts (ddebs, debuginfo rpms,
// debug tarballs), each found by the build-id of the binary it is for.
type DocDebug struct {
	// Binary is a command that names the installed binary, for readelf
	// ("$(command -v 'NAME')"), already quoted as a sh word.
	Binary string
	// Ddeb and Debuginfo are the debug package names (NAME-dbgsym,
	// NAME-debuginfo) when the release has them, and the commands that
	// install them from a repository relpack repo wrote; "" otherwise.
	Ddeb, Debuginfo        string
	AptCommand, DnfCommand string
	// Packages are the debug packages, sorted by file, each with the sh
	// line that installs it from the downloaded file.
	Packages []DocDebugFile
	// Tarballs are the debug tarballs, sorted by file; each For names the
	// tarball whose binary it carries the symbols of.
	Tarballs []DocDebugFile
}

// DocDebugFile is one debug artifact.
type DocDebugFile struct {
	File, Kind, Arch, Distro, For, BuildID, SHA256 string
	// Install is the sh line that installs or extracts it.
	Install string
}

// DocService is the packages' systemd unit and what install, upgrade and
// removal do with it (manifest service).
type DocService struct {
	Unit             string
	User             bool // a user unit (/usr/lib/systemd/user)
	Enable           bool
	RestartOnUpgrade bool
}

// DocFamily is one symbol-version family floor.
type DocFamily struct{ Family, Version string }

// DocDistro is one distro target and its packages.
type DocDistro struct {
	ID, Name, Format string
	// Glibc is the glibc version the distro ships.
	Glibc string
	// Packages are sorted by architecture (x86_64 first).
	Packages []DocPackage
	// Z3Packages are the distro packages a package of this target pulls in
	// for Z3 (e.g. "libz3-4"); empty when it pulls in none.
	Z3Packages []string
	// Z3 is "bundled", "unbundled", "private" (or what the manifest says).
	Z3 string
	// Z3Private is where a package with a private Z3 keeps it
	// ("/usr/lib/NAME/libz3.so.4"); "" otherwise.
	Z3Private string
	// LibcRelation is the relation on the C library ("libc6 (>= 2.28)",
	// "glibc >= 2.28"); "" when none is declared.
	LibcRelation string
	// StaticArches lists the architectures ("x86_64, aarch64") whose
	// package holds a static binary (a static musl input): it needs no C
	// library; "" when none does.
	StaticArches string
	// AddOns are the repositories a host must enable before the packages
	// install (EPEL, universe), sorted by name.
	AddOns []DocAddOn
	// Support is the distro's support window; nil when not recorded.
	Support *DocSupport
}

// DocAddOn is an add-on repository and the packages it serves.
type DocAddOn struct {
	Name, Enable string
	Packages     []string
}

// DocSupport is a distro's support window.
type DocSupport struct {
	Regular, End, Kind string
	// EndedBeforeRelease: End came before the release's date
	// (SOURCE_DATE_EPOCH), so the docs never change with the day they
	// are read.
	EndedBeforeRelease bool
	// Ended: the support has ended on a day no source gives.
	Ended bool
}

// DocPackage is one deb or rpm file.
type DocPackage struct {
	Arch, File string
	// Install is the sh command that installs it ("sudo apt install
	// ./FILE"), the file name quoted when it needs to be.
	Install string
	// Relations are the package's Depends or Requires, in manifest order.
	Relations []string
	Version   string
	// Static is set when it holds a static binary: no C library needed.
	Static bool
}

// DocTarball is one tarball and when to choose it.
type DocTarball struct {
	File, Arch, Triple, Libc string
	// Flavour is "gnu", "gnu+sidecar" or "musl static".
	Flavour string
	// Floor is the glibc floor ("" for musl).
	Floor string
	Z3    string
	// Z3So is the Z3 library the binary loads ("" when bundled).
	Z3So string
	// Z3Providers names, for an unbundled gnu tarball without sidecar, the
	// distro packages that ship Z3So, as Markdown already escaped
	// ("`libz3-4` (debian11, debian12)").
	Z3Providers []string
	// Z3Elsewhere are the distro targets (sorted ids) whose packages for
	// this architecture load another Z3 soname, so the host has no package
	// that ships Z3So there.
	Z3Elsewhere []string
	// SidecarPath is where a gnu+sidecar tarball holds its library
	// ("lib/libz3.so.4"); Runpath is the binary's RUNPATH ("$ORIGIN/../lib").
	SidecarPath, Runpath string
	// Contents is the layout inside the archive, as the manifest lists it.
	Contents []string
}

// DocArtifact is one row of the artifact table.
type DocArtifact struct {
	File, Kind, Arch, Libc, Distro string
	Size                           int64
	SHA256                         string
}

// Installer is the data of install.sh.tmpl. pkg/docs checks every string
// in it against its grammar (manifest.Validate) before rendering; the
// template quotes each one anyway (sq, shcomment), as defence in depth.
type Installer struct {
	Product, Version, Floor string
	// BaseURL is the default download location (the folder holding the
	// artifacts); "" means the user must give one at run time.
	BaseURL string
	// DistroIDs are the manifest's distro target ids, sorted, space
	// separated.
	DistroIDs string
	// Arches are the architectures the release has artifacts for
	// (x86_64 first), space separated.
	Arches string
	// HasMusl tells whether the release has a static musl tarball.
	HasMusl bool
	// Rows are the artifacts, one per line of the embedded table.
	Rows []InstallerRow
	// AddOns are the add-on repositories each distro target's packages
	// need (EPEL 9 on el9), by target id.
	AddOns []InstallerAddOn
}

// InstallerAddOn is a repository the packages of one distro target need.
type InstallerAddOn struct {
	Distro, Name, Enable string
	// Packages are the relations it serves, comma separated.
	Packages string
}

// InstallerRow is one artifact as the installer sees it.
type InstallerRow struct {
	// Kind is "deb", "rpm", "gnu" (glibc tarball without sidecar),
	// "sidecar" (glibc tarball carrying its Z3 library) or "musl".
	Kind string
	Arch string
	// Distro is the distro target id of a package, "-" for tarballs.
	Distro string
	// Floor is the glibc the artifact needs, "-" for musl artifacts.
	Floor  string
	SHA256 string
	File   string
}
