package pack

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// writeFixturePackage builds the fixture package of format into a fresh
// directory, after letting edit adjust the spec.
func writeFixturePackage(t *testing.T, format string, edit func(*PackageSpec)) (path string, spec PackageSpec) {
	t.Helper()
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	spec = fixtureSpec(format, in)
	if edit != nil {
		edit(&spec)
	}
	out := t.TempDir()
	path, err := WritePackage(spec, out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != out {
		t.Fatalf("package written to %s, want it in %s", path, out)
	}
	if left := listFiles(t, out); len(left) != 1 {
		t.Fatalf("output directory holds %v, want only the package", left)
	}
	return path, spec
}

func TestDeb(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "sh", "tar", "gzip")
	lintian := testdeps.Tool(t, "lintian")
	deb, spec := writeFixturePackage(t, "deb", nil)

	if got, want := filepath.Base(deb), "relpack-hello_0.0.38~dev.108+g152d059-1_amd64.deb"; got != want {
		t.Errorf("file name %s, want %s", got, want)
	}
	info := run(t, nil, "dpkg-deb", "-I", deb)
	t.Logf("dpkg-deb -I:\n%s", info)
	field := func(name string) string {
		return strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", deb, name))
	}
	for name, want := range map[string]string{
		"Package":               "relpack-hello",
		"Version":               "0.0.38~dev.108+g152d059-1",
		"Architecture":          "amd64",
		"Depends":               strings.Join(spec.Depends, ", "),
		"Provides":              "relpack-greeter",
		"Section":               "net",
		"Priority":              "optional",
		"Homepage":              "https://example.com/relpack-hello",
		"Maintainer":            spec.Maintainer,
		"X-Relpack-Glibc-Floor": "2.34",
	} {
		if got := field(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// Synopsis first, then the body, wrapped below 80 columns.
	desc := field("Description")
	if !strings.HasPrefix(desc, spec.Summary+"\n") {
		t.Errorf("Description does not start with the summary line:\n%s", desc)
	}
	for _, l := range strings.Split(desc, "\n") {
		if len(l) > 80 {
			t.Errorf("Description line longer than 80 columns: %q", l)
		}
	}

	// TZ=UTC: dpkg-deb prints mtimes in local time.
	contents := run(t, []string{"TZ=UTC"}, "dpkg-deb", "-c", deb)
	t.Logf("dpkg-deb -c:\n%s", contents)
	for _, want := range []string{
		"-rwxr-xr-x root/root 2026-01-01 00:00 ./usr/bin/relpack-hello",
		"-rw-r--r-- root/root 2026-01-01 00:00 ./etc/relpack-hello/config.yaml",
		"-rw-r--r-- root/root 2026-01-01 00:00 ./usr/share/doc/relpack-hello/copyright",
		"drwxr-xr-x root/root 2026-01-01 00:00 ./usr/bin/",
	} {
		if !containsListing(contents, want) {
			t.Errorf("dpkg-deb -c has no line %q", want)
		}
	}
	conffiles := run(t, nil, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`, "sh", deb)
	if conffiles != "/etc/relpack-hello/config.yaml\n" {
		t.Errorf("conffiles: %q", conffiles)
	}
	changelog := run(t, nil, "sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/share/doc/relpack-hello/changelog.Debian.gz | gzip -dc`, "sh", deb)
	if !strings.HasPrefix(changelog, "relpack-hello (0.0.38~dev.108+g152d059-1) stable; urgency=medium\n") ||
		!strings.Contains(changelog, " -- "+spec.Maintainer+"  Thu, 01 Jan 2026 00:00:00 +0000") {
		t.Errorf("changelog.Debian.gz:\n%s", changelog)
	}

	// lintian: no errors. Its warnings are listed in the log; the ones this
	// fixture is known to get are explained in lintianExpected.
	out, err := runErr(nil, lintian, "--display-info", "--tag-display-limit", "0", deb)
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian error: %s", line)
		}
		if tag := lintianTag(line); tag != "" && !lintianExpected[tag] {
			t.Errorf("new lintian tag (fix the package, or explain it in lintianExpected): %s", line)
		}
	}
	if err != nil && !strings.Contains(out, "E: ") {
		t.Errorf("lintian failed: %v\n%s", err, out)
	}
}

// lintianExpected are the tags lintian (2.116, bookworm) reports for the
// fixture deb, none of them a defect relpack could fix:
var lintianExpected = map[string]bool{
	// W: Debian-archive rule: a first upload closes its ITP bug. Packages
	// released outside Debian have no ITP.
	"initial-upload-closes-no-bugs": true,
	// W: the fixture ships no man page. A real defect of a product that
	// lacks one; relpack packages one when packaging.yaml lists it.
	"no-manual-page": true,
	// W: X-Relpack-Glibc-Floor is relpack's own field, on purpose; dpkg
	// keeps unknown fields and dpkg-deb -f reads them.
	"unknown-field": true,
	// I: the gcc-built fixture keeps its .comment section; a property of
	// the test binary, not of the packaging.
	"binary-has-unneeded-section": true,
	// I: the unit has no SysV init script; servers packaged by relpack
	// target systemd.
	"package-supports-alternative-init-but-no-init.d-script": true,
}

// lintianTag returns the tag of a lintian output line ("W: pkg: tag ...").
func lintianTag(line string) string {
	f := strings.Fields(line)
	if len(f) < 3 || len(f[0]) != 2 || f[0][1] != ':' || !strings.Contains("EWIPX", f[0][:1]) {
		return ""
	}
	if f[0] == "X:" || f[0] == "P:" {
		return "" // experimental and pedantic tags: not shown by default
	}
	return f[2]
}

// containsListing reports whether a tar -tv style listing has a line with
// the fields of want (size ignored, spaces collapsed).
func containsListing(listing, want string) bool {
	w := strings.Fields(want)
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[0] == w[0] && f[1] == w[1] && f[3] == w[2] && f[4] == w[3] && f[5] == w[4] {
			return true
		}
	}
	return false
}

func TestRPM(t *testing.T) {
	testdeps.Tool(t, "rpm")
	rpmlint := testdeps.Tool(t, "rpmlint")
	rpmFile, spec := writeFixturePackage(t, "rpm", nil)

	if got, want := filepath.Base(rpmFile), "relpack-hello-0.0.38~dev.108+g152d059-1.x86_64.rpm"; got != want {
		t.Errorf("file name %s, want %s", got, want)
	}
	query := func(args ...string) string {
		return run(t, []string{"TZ=UTC", "LC_ALL=C"}, "rpm", append([]string{"-qp"}, append(args, rpmFile)...)...)
	}
	if got := nonRpmlib(query("--requires")); strings.Join(got, "\n") != strings.Join(spec.Depends, "\n") {
		t.Errorf("rpm --requires:\n%s\nwant (as given):\n%s", strings.Join(got, "\n"), strings.Join(spec.Depends, "\n"))
	}
	provides := query("--provides")
	for _, want := range []string{"relpack-greeter = 0.0.38", "relpack-hello = 0.0.38~dev.108+g152d059-1"} {
		if !strings.Contains(provides, want+"\n") {
			t.Errorf("rpm --provides has no %q:\n%s", want, provides)
		}
	}
	info := query("-i")
	t.Logf("rpm -qpi:\n%s", info)
	for _, want := range []string{
		"Name        : relpack-hello",
		"Version     : 0.0.38~dev.108+g152d059",
		"Release     : 1",
		"Architecture: x86_64",
		"Group       : Applications/Internet",
		"License     : Apache-2.0",
		"Build Date  : Thu Jan  1 00:00:00 2026",
		"Build Host  : relpack",
		"Packager    : " + spec.Maintainer,
		"Vendor      : The relpack authors",
		"URL         : https://example.com/relpack-hello",
		"Summary     : " + spec.Summary,
	} {
		if !strings.Contains(info, want+"\n") {
			t.Errorf("rpm -qpi has no line %q", want)
		}
	}
	if got := query("--qf", "%{BUILDTIME} %{ARCH} %{PAYLOADCOMPRESSOR}"); got != "1767225600 x86_64 xz" {
		t.Errorf("BUILDTIME ARCH PAYLOADCOMPRESSOR = %q", got)
	}
	files := query("-lv")
	t.Logf("rpm -qplv:\n%s", files)
	for _, want := range []string{
		"-rwxr-xr-x root root /usr/bin/relpack-hello",
		"-rw-r--r-- root root /etc/relpack-hello/config.yaml",
		"drwxr-xr-x root root /etc/relpack-hello",
		"drwxr-xr-x root root /usr/share/doc/relpack-hello",
	} {
		if !containsRPMListing(files, want) {
			t.Errorf("rpm -qplv has no line %q", want)
		}
	}
	if got := query("-c"); got != "/etc/relpack-hello/config.yaml\n" {
		t.Errorf("rpm -qpc (config files): %q", got)
	}
	if got := query("-d"); got != "/usr/share/doc/relpack-hello/copyright\n" {
		t.Errorf("rpm -qpd (doc files): %q", got)
	}
	if got := query("--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]"); !strings.Contains(got, "cn /etc/relpack-hello/config.yaml\n") {
		t.Errorf("config.yaml is not %%config(noreplace):\n%s", got)
	}
	if got := query("--changelog"); !strings.HasPrefix(got, "* Thu Jan 01 2026 "+spec.Maintainer+" - 0.0.38~dev.108+g152d059-1\n") {
		t.Errorf("rpm --changelog:\n%s", got)
	}
	if got := run(t, nil, "rpm", "-K", "--nosignature", rpmFile); !strings.HasSuffix(strings.TrimSpace(got), "digests OK") {
		t.Errorf("rpm -K --nosignature: %s", got)
	}

	// rpmlint: 0 errors once the committed filter has accepted exactly
	// explicit-lib-dependency and no-signature. (rpmlint unpacks the
	// payload with rpm2cpio | cpio -id: with the absolute names rpmpack
	// wrote before, the files landed on the host, rpmlint found no binary
	// in its own folder and reported no-binary.)
	out, err := runErr(nil, rpmlint, "-r", "rpmlintrc", rpmFile)
	t.Logf("rpmlint -r rpmlintrc:\n%s", out)
	if err != nil || !strings.Contains(out, " 0 errors") {
		t.Errorf("rpmlint reports errors (%v):\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, ": W: "); i >= 0 {
			tag := strings.Fields(line[i+5:])[0]
			if !rpmlintExpected[tag] {
				t.Errorf("new rpmlint warning (fix the package, or explain it in rpmlintExpected): %s", line)
			}
		}
	}
	// Without the filter, exactly the two accepted errors remain.
	raw, _ := runErr(nil, rpmlint, rpmFile)
	var errs []string
	for _, line := range strings.Split(raw, "\n") {
		if i := strings.Index(line, ": E: "); i >= 0 {
			errs = append(errs, line[i+5:])
		}
	}
	sort.Strings(errs)
	if got, want := strings.Join(errs, "; "), "explicit-lib-dependency z3-libs; no-signature"; got != want {
		t.Errorf("rpmlint errors without the filter: %s; want %s", got, want)
	}
}

// rpmlintExpected are the warnings rpmlint 2.4 gives the fixture rpm, none
// a defect relpack could fix:
var rpmlintExpected = map[string]bool{
	// The fixture ships no man page (see no-manual-page in lintianExpected).
	"no-manual-page-for-binary": true,
	// The only file under /usr/lib is the systemd unit, whose place is
	// /usr/lib/systemd/system.
	"only-non-binary-in-usr-lib": true,
	// rpmlint's default license list predates SPDX identifiers, which
	// Fedora and EL require since 2023.
	"invalid-license": true,
}

// nonRpmlib drops rpm's own rpmlib(...) requirements from a --requires
// listing.
func nonRpmlib(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if !strings.HasPrefix(l, "rpmlib(") {
			out = append(out, l)
		}
	}
	return out
}

// containsRPMListing reports whether rpm -qplv output has a line with the
// mode, owner, group and path of want.
func containsRPMListing(listing, want string) bool {
	w := strings.Fields(want)
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) >= 9 && f[0] == w[0] && f[2] == w[1] && f[3] == w[2] && f[len(f)-1] == w[3] {
			return true
		}
	}
	return false
}

// TestArchNames: GOARCH names become each format's own.
func TestArchNames(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	for _, c := range []struct{ format, arch, file, field string }{
		{"deb", "amd64", "relpack-hello_0.0.38~dev.108+g152d059-1_amd64.deb", "amd64"},
		{"deb", "arm64", "relpack-hello_0.0.38~dev.108+g152d059-1_arm64.deb", "arm64"},
		{"rpm", "amd64", "relpack-hello-0.0.38~dev.108+g152d059-1.x86_64.rpm", "x86_64"},
		{"rpm", "arm64", "relpack-hello-0.0.38~dev.108+g152d059-1.aarch64.rpm", "aarch64"},
	} {
		p, _ := writeFixturePackage(t, c.format, func(s *PackageSpec) { s.Arch = c.arch })
		if filepath.Base(p) != c.file {
			t.Errorf("%s %s: file %s, want %s", c.format, c.arch, filepath.Base(p), c.file)
		}
		var got string
		if c.format == "deb" {
			got = strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", p, "Architecture"))
		} else {
			got = run(t, nil, "rpm", "-qp", "--qf", "%{ARCH}", p)
		}
		if got != c.field {
			t.Errorf("%s %s: architecture %q, want %q", c.format, c.arch, got, c.field)
		}
	}
}

// TestCompressions: every accepted payload compression gives a package the
// real tools read.
func TestCompressions(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "ar", "rpm", "sh", "rpm2cpio", "cpio")
	for _, c := range compressions["deb"] {
		p, _ := writeFixturePackage(t, "deb", func(s *PackageSpec) { s.Compression = c })
		ext := map[string]string{"gzip": ".gz", "xz": ".xz", "zstd": ".zst", "none": ""}[c]
		if got := run(t, nil, "ar", "t", p); !strings.Contains(got, "data.tar"+ext+"\n") {
			t.Errorf("deb %s: members %q", c, got)
		}
		if !containsListing(run(t, []string{"TZ=UTC"}, "dpkg-deb", "-c", p), "-rwxr-xr-x root/root 2026-01-01 00:00 ./usr/bin/relpack-hello") {
			t.Errorf("deb %s: dpkg-deb -c cannot read the binary", c)
		}
	}
	for _, c := range compressions["rpm"] {
		p, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) { s.Compression = c })
		if got := run(t, nil, "rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", p); got != c {
			t.Errorf("rpm %s: payload compressor %q", c, got)
		}
		if got := run(t, nil, "rpm", "-K", "--nosignature", p); !strings.HasSuffix(strings.TrimSpace(got), "digests OK") {
			t.Errorf("rpm %s: %s", c, got)
		}
		// Reading the payload proves it decompresses.
		if got := run(t, nil, "sh", "-c", `rpm2cpio "$1" | cpio -t --quiet`, "sh", p); !strings.Contains("\n"+got, "\n./usr/bin/relpack-hello\n") {
			t.Errorf("rpm %s: payload lists %q", c, got)
		}
		// PAYLOADSIZE is the uncompressed cpio archive's size: rpm2cpio
		// checks what it wrote against it and fails (exit 1, after writing
		// the whole archive) when they differ.
		archive, err := exec.Command("rpm2cpio", p).Output()
		if err != nil {
			t.Errorf("rpm %s: rpm2cpio: %v", c, err)
		}
		if got := strings.TrimSpace(run(t, nil, "rpm", "-qp", "--nosignature", "--qf", "%{ARCHIVESIZE}", p)); got != strconv.Itoa(len(archive)) {
			t.Errorf("rpm %s: ARCHIVESIZE %s, rpm2cpio wrote %d bytes", c, got, len(archive))
		}
	}
}

func TestPackageSpecErrors(t *testing.T) {
	in := t.TempDir()
	if err := writeFixtureInputs(in, "/bin/sh"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, format string
		edit         func(*PackageSpec)
		want         string
	}{
		{"format", "deb", func(s *PackageSpec) { s.Format = "apk" }, `unknown package format "apk"`},
		{"deb name", "deb", func(s *PackageSpec) { s.Name = "Relpack_Hello" }, "not a valid Debian package name"},
		{"no arch", "deb", func(s *PackageSpec) { s.Arch = "" }, "no architecture"},
		{"no maintainer", "rpm", func(s *PackageSpec) { s.Maintainer = "" }, "no maintainer"},
		{"no mtime", "rpm", func(s *PackageSpec) { s.MTime = time.Time{} }, "SOURCE_DATE_EPOCH"},
		{"mtime before 1970", "deb", func(s *PackageSpec) { s.MTime = fixtureMTime.AddDate(-100, 0, 0) }, "before 1970"},
		{"compression", "rpm", func(s *PackageSpec) { s.Compression = "none" }, `compression "none" is not supported for rpm`},
		{"rpm fields", "rpm", func(s *PackageSpec) { s.ExtraFields = map[string]string{"X-A": "1"} }, "ExtraFields are deb control fields"},
		{"field name", "deb", func(s *PackageSpec) { s.ExtraFields = map[string]string{"X A": "1"} }, "not valid"},
		{"standard field", "deb", func(s *PackageSpec) { s.ExtraFields = map[string]string{"depends": "x"} }, "written from the spec"},
		{"multiline field", "deb", func(s *PackageSpec) { s.ExtraFields = map[string]string{"X-A": "1\n2"} }, "one non-empty line"},
		{"relative dst", "deb", func(s *PackageSpec) { s.Files[0].Dst = "usr/bin/x" }, "clean absolute path"},
		{"duplicate dst", "rpm", func(s *PackageSpec) { s.Files[1].Dst = s.Files[0].Dst }, "listed twice"},
		{"no mode", "rpm", func(s *PackageSpec) { s.Files[0].Mode = 0 }, "no mode given"},
		{"missing src", "deb", func(s *PackageSpec) { s.Files[0].Src = filepath.Join(in, "nope") }, "no such file"},
		{"dir src", "deb", func(s *PackageSpec) { s.Files[0].Src = in }, "not a regular file"},
		{"summary lines", "deb", func(s *PackageSpec) { s.Summary = "a\nb" }, "one line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fixtureSpec(c.format, in)
			c.edit(&s)
			out := t.TempDir()
			_, err := WritePackage(s, out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if left := listFiles(t, out); len(left) != 0 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}

// TestSymlinkSource: a Src that is a symbolic link is packaged as the file
// it points to (nfpm alone would package the link).
func TestSymlinkSource(t *testing.T) {
	testdeps.Tool(t, "rpm")
	p, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) {
		link := filepath.Join(t.TempDir(), "hello-link")
		if err := os.Symlink(s.Files[0].Src, link); err != nil {
			t.Fatal(err)
		}
		s.Files[0].Src = link
	})
	if got := run(t, nil, "rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", p); !strings.Contains(got, "-rwxr-xr-x /usr/bin/relpack-hello\n") {
		t.Errorf("the binary is not a regular file in the package:\n%s", got)
	}
}

func TestWrapText(t *testing.T) {
	in := "short line\n\n" + strings.Repeat("word ", 40) + "\n" + strings.Repeat("x", 100)
	got := wrapText(in, 79)
	for _, l := range strings.Split(got, "\n") {
		if len(l) > 79 && strings.Contains(l, " ") {
			t.Errorf("line not wrapped: %q", l)
		}
	}
	if !strings.HasPrefix(got, "short line\n\nword word") || !strings.HasSuffix(got, "\n"+strings.Repeat("x", 100)) {
		t.Errorf("wrapText changed more than long lines:\n%s", got)
	}
	if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(in), " ") {
		t.Errorf("wrapText lost words")
	}
}
