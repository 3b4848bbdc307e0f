package pack

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"

	"relpack/internal/testdeps"
)

// rpmbuildPayload is rpmbuild's %_binary_payload for each compression
// relpack's rpm writer offers.
var rpmbuildPayload = map[string]string{
	"gzip": "w9.gzdio",
	"xz":   "w6.xzdio",
	"zstd": "w19.zstdio",
	"lzma": "w9.lzdio",
}

// oracleScripts are scriptlets in the shape of the %systemd_* macros: the
// header comparison needs one of each kind, each running systemctl.
var oracleScripts = map[string]string{
	"post":   "if [ $1 -eq 1 ]; then\n    systemctl --no-reload preset relpack-hello.service || :\nfi\n",
	"preun":  "if [ $1 -eq 0 ]; then\n    systemctl --no-reload disable --now relpack-hello.service || :\nfi\n",
	"postun": "if [ $1 -ge 1 ]; then\n    systemctl try-restart relpack-hello.service || :\nfi\n",
}

// writeRPMScripts writes the rpm of spec with the given scriptlets
// (keys post, preun, postun, pre) through relpack's rpm writer.
func writeRPMScripts(t *testing.T, spec PackageSpec, scripts map[string]string) string {
	t.Helper()
	stage := t.TempDir()
	info, err := spec.nfpmInfo(stage, spec.MTime)
	if err != nil {
		t.Fatal(err)
	}
	info = nfpm.WithDefaults(info)
	for name, body := range scripts {
		f := filepath.Join(stage, "scriptlet-"+name)
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		switch name {
		case "pre":
			info.Scripts.PreInstall = f
		case "post":
			info.Scripts.PostInstall = f
		case "preun":
			info.Scripts.PreRemove = f
		case "postun":
			info.Scripts.PostRemove = f
		default:
			t.Fatalf("unknown scriptlet %s", name)
		}
	}
	naming, err := nfpm.Get("rpm")
	if err != nil {
		t.Fatal(err)
	}
	w := rpmWriter{naming: naming}
	out := filepath.Join(t.TempDir(), w.ConventionalFileName(info))
	if err := WriteFileAtomic(out, func(wr io.Writer) error { return w.Package(info, wr) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// rpmDeps lists a header's dependencies of one kind (REQUIRE, PROVIDE,
// ...) as "NAME FLAGS VERSION" lines, sorted.
func rpmDeps(t *testing.T, kind, file string) []string {
	t.Helper()
	out := run(t, nil, "rpm", "-qp", "--qf", fmt.Sprintf("[%%{%sNAME} %%{%sFLAGS} %%{%sVERSION}\n]", kind, kind, kind), file)
	l := nonEmptyLines(out)
	sort.Strings(l)
	return l
}

// rpmbuildLike builds, with rpmbuild, the package rpmbuild would make of
// the relpack rpm's files: the same payload (extracted from it), file
// modes and %config/%doc/%dir marks, version, relations and scriptlets,
// with the given %_binary_payload. Automatic dependencies are off
// (AutoReqProv: no): relpack declares its ELF dependencies itself, and
// what is compared here is what rpmbuild adds on its own.
func rpmbuildLike(t *testing.T, relpackRPM string, spec PackageSpec, scripts map[string]string, payload, arch string) string {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "sh", "-c", `cd "$2" && rpm2cpio "$1" | cpio -idm --quiet`, "sh", relpackRPM, tree)

	var sb strings.Builder
	q := func(tag string) string { return run(t, nil, "rpm", "-qp", "--qf", tag, relpackRPM) }
	fmt.Fprintf(&sb, "Name: %s\nVersion: %s\nRelease: %s\n", spec.Name, q("%{VERSION}"), q("%{RELEASE}"))
	fmt.Fprintf(&sb, "Summary: %s\nLicense: %s\nGroup: %s\nURL: %s\nAutoReqProv: no\n", spec.Summary, spec.License, spec.Group, spec.Homepage)
	for _, d := range spec.Depends {
		if strings.HasPrefix(d, "Requires(") {
			fmt.Fprintf(&sb, "%s\n", d)
		} else {
			fmt.Fprintf(&sb, "Requires: %s\n", d)
		}
	}
	for _, p := range spec.Provides {
		fmt.Fprintf(&sb, "Provides: %s\n", p)
	}
	if len(scripts) > 0 {
		// %systemd_requires
		sb.WriteString("Requires(post): systemd\nRequires(preun): systemd\nRequires(postun): systemd\n")
	}
	sb.WriteString("\n%description\nsame files as relpack's\n\n%install\ncp -a " + tree + "/. %{buildroot}/\n\n")
	for _, name := range []string{"pre", "post", "preun", "postun"} {
		if body, ok := scripts[name]; ok {
			fmt.Fprintf(&sb, "%%%s\n%s\n", name, body)
		}
	}
	sb.WriteString("%files\n")
	list := run(t, nil, "rpm", "-qp", "--qf", "[%{FILEMODES:octal} %{FILEFLAGS:fflags} %{FILENAMES}\n]", relpackRPM)
	for _, l := range nonEmptyLines(list) {
		f := strings.Fields(l)
		mode, flags, name := f[0], "", f[len(f)-1]
		if len(f) == 3 {
			flags = f[1]
		}
		attr := fmt.Sprintf("%%attr(%s,root,root) ", mode[len(mode)-4:])
		switch {
		case strings.HasPrefix(mode, "4"):
			attr = "%dir " + attr
		case strings.Contains(flags, "c") && strings.Contains(flags, "n"):
			attr = "%config(noreplace) " + attr
		case strings.Contains(flags, "c"):
			attr = "%config " + attr
		case strings.Contains(flags, "d"):
			attr = "%doc " + attr
		case strings.Contains(flags, "l"):
			attr = "%license " + attr
		}
		sb.WriteString(attr + name + "\n")
	}
	specFile := filepath.Join(dir, spec.Name+".spec")
	if err := os.WriteFile(specFile, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, "top")
	run(t, []string{"HOME=" + dir}, "rpmbuild", "-bb", "--target", arch,
		"--define", "_topdir "+top,
		"--define", "_binary_payload "+payload,
		// no stripping, debuginfo or build-id links: the payload is
		// relpack's, as it is
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--define", "_build_id_links none",
		specFile)
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild wrote %v\nspec:\n%s", rpms, sb.String())
	}
	return rpms[0]
}

// TestRPMHeaderAsRpmbuild builds the fixture package with relpack and, of
// the same files, with rpmbuild, for every payload compression, both
// architectures, with and without scriptlets, and compares what rpm
// reads: the rpmlib() requirements (PayloadIsZstd for zstd, PayloadIsXz
// for xz, ...), every other requirement with its flags (the scriptlets'
// /bin/sh and systemd), and the provides (NAME and NAME(ISA)).
func TestRPMHeaderAsRpmbuild(t *testing.T) {
	testdeps.Tools(t, "rpm", "rpmbuild", "rpm2cpio", "cpio", "sh")
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	for _, comp := range compressions["rpm"] {
		for _, arch := range []string{"amd64", "arm64"} {
			for _, withScripts := range []bool{false, true} {
				name := fmt.Sprintf("%s-%s-scripts=%v", comp, arch, withScripts)
				t.Run(name, func(t *testing.T) {
					spec := fixtureSpec("rpm", in)
					spec.Compression, spec.Arch = comp, arch
					var scripts map[string]string
					if withScripts {
						scripts = oracleScripts
					}
					mine := writeRPMScripts(t, spec, scripts)
					theirs := rpmbuildLike(t, mine, spec, scripts, rpmbuildPayload[comp], rpmArch[arch])

					if got, want := q1(t, mine, "%{PAYLOADCOMPRESSOR}"), q1(t, theirs, "%{PAYLOADCOMPRESSOR}"); got != want {
						t.Errorf("payload compressor %s, rpmbuild's %s", got, want)
					}
					// The rpmlib() lines of `rpm -qp --requires`, exactly.
					rpmlib := func(f string) []string {
						var out []string
						for _, l := range nonEmptyLines(run(t, nil, "rpm", "-qp", "--requires", f)) {
							if strings.HasPrefix(l, "rpmlib(") {
								out = append(out, l)
							}
						}
						sort.Strings(out)
						return out
					}
					if got, want := rpmlib(mine), rpmlib(theirs); !reflect.DeepEqual(got, want) {
						t.Errorf("rpmlib() requires:\n%s\nrpmbuild's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
					for _, kind := range []string{"REQUIRE", "PROVIDE", "CONFLICT", "OBSOLETE"} {
						if got, want := rpmDeps(t, kind, mine), rpmDeps(t, kind, theirs); !reflect.DeepEqual(got, want) {
							t.Errorf("%sS (name flags version):\n%s\nrpmbuild's:\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
						}
					}
					for _, tag := range []string{"%{PREIN}", "%{POSTIN}", "%{PREUN}", "%{POSTUN}", "%{POSTINPROG} %{PREUNPROG} %{POSTUNPROG}"} {
						if got, want := q1(t, mine, tag), q1(t, theirs, tag); got != want {
							t.Errorf("%s: %q, rpmbuild's %q", tag, got, want)
						}
					}
					t.Logf("requires:\n%s\nprovides:\n%s", strings.Join(rpmDeps(t, "REQUIRE", mine), "\n"), strings.Join(rpmDeps(t, "PROVIDE", mine), "\n"))
					if comp == "zstd" && !strings.Contains(run(t, nil, "rpm", "-qp", "--requires", mine), "rpmlib(PayloadIsZstd) <= 5.4.18-1\n") {
						t.Errorf("a zstd rpm without rpmlib(PayloadIsZstd) <= 5.4.18-1")
					}
				})
			}
		}
	}
}

// q1 is one rpm -qp --qf query.
func q1(t *testing.T, file, qf string) string {
	t.Helper()
	return strings.TrimSpace(run(t, nil, "rpm", "-qp", "--qf", qf, file))
}

// librpm is the library that holds rpm's table of rpmlib() features
// (lib/rpmds.c, rpmlibProvides): rpm --showrc prints it, and rpm checks
// every rpmlib() requirement of a package against it.
const librpm = "/usr/lib/x86_64-linux-gnu/librpm.so.9"

// TestRPMRefusedWithoutZstd: an rpm that lacks rpmlib(PayloadIsZstd), as
// RHEL 8.0/8.1's rpm 4.14.2 did (it was built without zstd), refuses the
// el9-style zstd rpm before unpacking anything, with rpm's own message,
// while the xz rpm (el8) and the same rpm with the feature pass that
// check.
//
// No rpm without zstd can be installed here: Debian 12's rpm 4.18 and
// Debian 11's 4.16 both link libzstd, older ones are no longer served,
// and rpm's feature table is compiled in (no macro or option removes an
// entry). So the test runs this machine's rpm with a copy of librpm whose
// table entry is renamed (rpmlib(PayloadIsZstd) -> rpmlib(PayloadIsZstX),
// same length), through LD_LIBRARY_PATH: exactly an rpm whose table lacks
// the feature, everything else unchanged.
func TestRPMRefusedWithoutZstd(t *testing.T) {
	testdeps.Tools(t, "rpm")
	testdeps.File(t, librpm)
	data, err := os.ReadFile(librpm)
	if err != nil {
		t.Fatal(err)
	}
	feature, renamed := []byte("rpmlib(PayloadIsZstd)"), []byte("rpmlib(PayloadIsZstX)")
	if n := bytes.Count(data, feature); n != 1 {
		t.Fatalf("%s holds %q %d times, want once (its feature table)", librpm, feature, n)
	}
	lib := t.TempDir()
	if err := os.WriteFile(filepath.Join(lib, filepath.Base(librpm)), bytes.Replace(data, feature, renamed, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	noZstd := []string{"LD_LIBRARY_PATH=" + lib}
	features := run(t, noZstd, "rpm", "--showrc")
	if strings.Contains(features, string(feature)) || !strings.Contains(features, "rpmlib(PayloadIsXz)") {
		t.Fatalf("the patched rpm's features:\n%s", features[strings.Index(features, "Features supported by rpmlib"):])
	}

	zstdRPM, spec := writeFixturePackage(t, "rpm", func(s *PackageSpec) { s.Compression = "zstd" })
	xzRPM, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) { s.Compression = "xz" })
	nevra := spec.Name + "-" + spec.fullVersion() + ".x86_64"
	root := t.TempDir()
	run(t, nil, "rpm", "--root", root, "--initdb")
	install := func(env []string, file string) string {
		t.Helper()
		out, err := runErr(env, "rpm", "--root", root, "-i", "--test", file)
		if err == nil {
			t.Fatalf("rpm -i --test %s passed in an empty root (its requirements are not there)", filepath.Base(file))
		}
		return out
	}
	// rpm's own message, among the fixture's unmet requirements.
	want := "\trpmlib(PayloadIsZstd) <= 5.4.18-1 is needed by " + nevra + "\n"
	if out := install(noZstd, zstdRPM); !strings.Contains(out, want) {
		t.Errorf("rpm without zstd support, zstd rpm: no %q in\n%s", want, out)
	} else {
		t.Logf("rpm without rpmlib(PayloadIsZstd):\n%s", out)
	}
	for _, c := range []struct {
		what string
		env  []string
		file string
	}{{"rpm without zstd support, xz rpm", noZstd, xzRPM}, {"rpm with zstd support, zstd rpm", nil, zstdRPM}} {
		if out := install(c.env, c.file); strings.Contains(out, "rpmlib(") {
			t.Errorf("%s: an rpmlib() requirement is unmet:\n%s", c.what, out)
		}
	}
	// The package itself is sound for both rpms.
	for _, env := range [][]string{nil, noZstd} {
		if out, err := runErr(env, "rpm", "-K", "--nosignature", zstdRPM); err != nil || !strings.Contains(out, "digests OK") {
			t.Errorf("rpm -K (%v): %v\n%s", env, err, out)
		}
	}
}
