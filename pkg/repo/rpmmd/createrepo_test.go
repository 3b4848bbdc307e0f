package rpmmd

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// richRPM builds testdata/rich.spec with the real rpmbuild and returns
// the rpm.
func richRPM(t *testing.T) string {
	t.Helper()
	testdeps.Tools(t, "rpmbuild")
	top := t.TempDir()
	spec, err := filepath.Abs("testdata/rich.spec")
	if err != nil {
		t.Fatal(err)
	}
	sh(t, "rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, "--define", "_build_id_links none", spec)
	m, _ := filepath.Glob(filepath.Join(top, "RPMS/x86_64/rich-*.rpm"))
	if len(m) != 1 {
		t.Fatalf("rpmbuild made %v", m)
	}
	return m[0]
}

// TestPrimaryAgreesWithCreaterepo indexes the same rpms with WriteRepo
// and with the real createrepo_c (Debian 12's 0.17.3), and compares the
// parsed primary, filelists and other: every package's name, arch,
// version, checksum, texts, sizes, location, format fields, header range,
// every relation with its flags, versions and pre, and the file lists
// and changelogs. The rpms: the demo release's four (relpack's writer,
// el8/el9 on x86_64/aarch64); one of relpack build --sign (a larger
// signature header, so another header range); one rpmbuild makes of
// testdata/rich.spec (every relation kind and the createrepo_c filters); a
// synthetic v3 package (OLDFILENAMES, the self-provide rpm 4.18 adds); and
// a synthetic one whose texts are all markup, quotes, CR/LF and tabs.
//
// The one intended difference: <time file> is the rpm's mtime for
// createrepo_c and Options.Time for relpack (an mtime would make the
// index depend on when the file was copied), so it is compared to each
// tool's own source instead.
func TestPrimaryAgreesWithCreaterepo(t *testing.T) {
	testdeps.Tools(t, "createrepo_c")
	var rpms []string
	demo, _ := filepath.Glob(filepath.Join(demoRPMs(t), "*.rpm"))
	if len(demo) < 4 {
		t.Fatalf("demo rpms: %v", demo)
	}
	hostile, _ := hostileRPM(t, t.TempDir())
	key := newKey(t)
	signed := buildRelease(t, signedDemoConfig(t, key), "0.1.1", true) // a larger signature header
	rpms = append(demo, signed, richRPM(t), v3RPM(t, t.TempDir()), hostile)

	theirs, ours := t.TempDir(), t.TempDir()
	var pkgs []Package
	mtime := time.Unix(1600000000, 0)
	for _, r := range rpms {
		href := "Packages/" + filepath.Base(r)
		for _, repo := range []string{theirs, ours} {
			copyFile(t, r, filepath.Join(repo, href))
			if err := os.Chtimes(filepath.Join(repo, href), mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		pkgs = append(pkgs, Package{Path: filepath.Join(ours, href), Href: href})
	}
	sh(t, "createrepo_c", "--quiet", "--no-database", "--general-compress-type=gz", theirs)
	if err := WriteRepo(ours, pkgs, Options{Time: time.Unix(1700000000, 0), Key: key.key}); err != nil {
		t.Fatal(err)
	}

	var pt, po primaryDoc
	readData(t, theirs, "primary", &pt)
	readData(t, ours, "primary", &po)
	if len(pt.Package) != len(rpms) || pt.Packages != strconv.Itoa(len(rpms)) {
		t.Fatalf("createrepo_c listed %s/%d packages, want %d", pt.Packages, len(pt.Package), len(rpms))
	}
	if po.Packages != pt.Packages || len(po.Package) != len(pt.Package) {
		t.Fatalf("relpack listed %s/%d packages, createrepo_c %s/%d", po.Packages, len(po.Package), pt.Packages, len(pt.Package))
	}
	for i := range pt.Package {
		a, b := pt.Package[i], po.Package[i]
		if a.Time.File != strconv.FormatInt(mtime.Unix(), 10) || b.Time.File != "1700000000" {
			t.Errorf("%s: time file %s (createrepo_c, want the mtime) / %s (relpack, want Options.Time)", a.Location.Href, a.Time.File, b.Time.File)
		}
		a.Time.File, b.Time.File = "", ""
		if !reflect.DeepEqual(a, b) {
			t.Errorf("primary of %s differs:\ncreaterepo_c %+v\nrelpack      %+v", a.Location.Href, a, b)
		}
		// The pkgid is the rpm's sha256.
		data, err := os.ReadFile(filepath.Join(ours, b.Location.Href))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); b.Checksum.Value != hex.EncodeToString(sum[:]) || b.Size.Package != strconv.Itoa(len(data)) {
			t.Errorf("%s: checksum %s size %s", b.Location.Href, b.Checksum.Value, b.Size.Package)
		}
	}
	// What the rich package must exercise, so the comparison above means
	// something.
	var rich primaryPkg
	for _, p := range po.Package {
		if p.Name == "rich" {
			rich = p
		}
	}
	kinds := map[string]int{"provides": len(rich.Format.Provides), "requires": len(rich.Format.Requires),
		"conflicts": len(rich.Format.Conflicts), "obsoletes": len(rich.Format.Obsoletes), "suggests": len(rich.Format.Suggests),
		"enhances": len(rich.Format.Enhances), "recommends": len(rich.Format.Recommends), "supplements": len(rich.Format.Supplements)}
	for k, n := range kinds {
		if n == 0 {
			t.Errorf("the rich package has no %s", k)
		}
	}
	flags, pre := map[string]bool{}, false
	for _, e := range rich.Format.Requires {
		flags[e.Flags] = true
		pre = pre || e.Pre == "1"
	}
	for _, e := range append(rich.Format.Conflicts, rich.Format.Obsoletes...) {
		flags[e.Flags] = true
	}
	for _, f := range []string{"LT", "GT", "LE", "GE"} {
		if !flags[f] {
			t.Errorf("no rich relation has flags %s: %v", f, flags)
		}
	}
	if !pre {
		t.Error("no rich requirement has pre=1")
	}

	var ft, fo filelistsDoc
	readData(t, theirs, "filelists", &ft)
	readData(t, ours, "filelists", &fo)
	if !reflect.DeepEqual(ft, fo) {
		t.Errorf("filelists differ:\ncreaterepo_c %+v\nrelpack      %+v", ft, fo)
	}
	types := map[string]bool{}
	for _, p := range fo.Package {
		for _, f := range p.Files {
			types[f.Type] = true
		}
	}
	if !types["dir"] || !types["ghost"] || !types[""] {
		t.Errorf("file types listed: %v, want dir, ghost and plain files", types)
	}

	var ot, oo otherDoc
	readData(t, theirs, "other", &ot)
	readData(t, ours, "other", &oo)
	if !reflect.DeepEqual(ot, oo) {
		t.Errorf("other differs:\ncreaterepo_c %+v\nrelpack      %+v", ot, oo)
	}
}
