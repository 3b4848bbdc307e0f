package rpmmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"relpack/internal/rpmroot"
	"relpack/internal/rpmtag"
	"relpack/internal/testdeps"
	"relpack/pkg/pack"
	"relpack/pkg/sign/signtest"
)

var epoch = time.Unix(1700000000, 0)

// hostileRPM is a synthetic package whose every text is markup, quotes,
// line ends and tabs.
func hostileRPM(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	v := map[string]string{
		"summary":     `<b>"sum" & 'more'</b>]]>`,
		"description": "line 1\r\nline 2 <&>\n\ttabbed \"q\" 'a'",
		"url":         "https://example.org/?a=1&b=<2>",
		"packager":    "A \"Q\" <a@example.org>",
		"license":     "MIT & <GPL>",
		"dep":         "we\"ird <dep> & \n\tname",
		"depver":      "1.0-1&<x>",
		"file":        "/etc/a&b <c> \"d\"",
		"author":      "Au \"thor\" <x@example.org>\t",
		"text":        "- fixed <bug> & \"that\"\r\n- ]]> 'too'",
	}
	tags := baseTags(
		tv{rpmtag.Summary, rpmtag.TypeI18NString, []string{v["summary"]}},
		tv{rpmtag.Description, rpmtag.TypeI18NString, []string{v["description"]}},
		tv{rpmtag.URL, rpmtag.TypeString, v["url"]},
		tv{rpmtag.Packager, rpmtag.TypeString, v["packager"]},
		tv{rpmtag.License, rpmtag.TypeString, v["license"]},
		tv{rpmtag.RequireName, rpmtag.TypeStringArray, []string{v["dep"]}},
		tv{rpmtag.RequireFlags, rpmtag.TypeInt32, []uint32{rpmtag.SenseGreater | rpmtag.SenseEqual}},
		tv{rpmtag.RequireVersion, rpmtag.TypeStringArray, []string{v["depver"]}},
		tv{rpmtag.DirNames, rpmtag.TypeStringArray, []string{"/etc/"}},
		tv{rpmtag.DirIndexes, rpmtag.TypeInt32, []uint32{0}},
		tv{rpmtag.BaseNames, rpmtag.TypeStringArray, []string{strings.TrimPrefix(v["file"], "/etc/")}},
		tv{rpmtag.FileModes, rpmtag.TypeInt16, []uint16{0o100644}},
		tv{rpmtag.FileFlags, rpmtag.TypeInt32, []uint32{0}},
		tv{rpmtag.FileDigests, rpmtag.TypeStringArray, []string{""}},
		tv{rpmtag.ChangelogTime, rpmtag.TypeInt32, []uint32{1600000000}},
		tv{rpmtag.ChangelogName, rpmtag.TypeStringArray, []string{v["author"]}},
		tv{rpmtag.ChangelogText, rpmtag.TypeStringArray, []string{v["text"]}},
	)
	return writeSynth(t, dir, "hostile.rpm", synthRPM(4, sigTags, tags)), v
}

// TestHostileFieldsEscaped: every string a package carries comes back
// from an XML parser as it was in the header.
func TestHostileFieldsEscaped(t *testing.T) {
	repo := t.TempDir()
	p, v := hostileRPM(t, repo)
	href := "Packages/a&b <\"c\">.rpm"
	copyFile(t, p, filepath.Join(repo, href))
	key := newKey(t)
	if err := WriteRepo(repo, []Package{{Path: filepath.Join(repo, href), Href: href}}, Options{Time: epoch, Key: key.key}); err != nil {
		t.Fatal(err)
	}
	var pr primaryDoc
	readData(t, repo, "primary", &pr)
	if len(pr.Package) != 1 {
		t.Fatalf("%d packages", len(pr.Package))
	}
	got := pr.Package[0]
	var req entry
	if len(got.Format.Requires) == 1 {
		req = got.Format.Requires[0]
	}
	var files []string
	for _, f := range got.Format.Files {
		files = append(files, f.Name)
	}
	for _, c := range [][2]string{
		{got.Summary, v["summary"]}, {got.Description, v["description"]}, {got.URL, v["url"]},
		{got.Packager, v["packager"]}, {got.Format.License, v["license"]}, {got.Location.Href, href},
		{req.Name, v["dep"]}, {req.Flags, "GE"}, {req.Ver, "1.0"}, {req.Rel, "1&<x>"},
		{strings.Join(files, "|"), v["file"]},
	} {
		if c[0] != c[1] {
			t.Errorf("primary: %q, want %q", c[0], c[1])
		}
	}
	var fl filelistsDoc
	readData(t, repo, "filelists", &fl)
	if len(fl.Package) != 1 || len(fl.Package[0].Files) != 1 || fl.Package[0].Files[0].Name != v["file"] {
		t.Errorf("filelists: %+v", fl)
	}
	var ot otherDoc
	readData(t, repo, "other", &ot)
	// createrepo_c cuts the author's trailing blanks only.
	if len(ot.Package) != 1 || len(ot.Package[0].Changelog) != 1 ||
		ot.Package[0].Changelog[0].Author != v["author"] || ot.Package[0].Changelog[0].Text != v["text"] {
		t.Errorf("other: %+v", ot)
	}
}

// TestLatin1 converts a text that is not UTF-8 as createrepo_c does (read
// as Latin-1).
func TestLatin1(t *testing.T) {
	repo := t.TempDir()
	p := writeSynth(t, repo, "x.rpm", synthRPM(4, sigTags, baseTags(tv{rpmtag.Summary, rpmtag.TypeI18NString, []string{"caf\xe9 \x85ok"}})))
	if err := WriteRepo(repo, []Package{{Path: p, Href: "x.rpm"}}, Options{Time: epoch, Key: newKey(t).key}); err != nil {
		t.Fatal(err)
	}
	var pr primaryDoc
	readData(t, repo, "primary", &pr)
	if s := pr.Package[0].Summary; s != "café ok" {
		t.Errorf("summary %q", s)
	}
}

// TestControlCharactersRefused: a string XML 1.0 cannot carry refuses the
// package, naming the file and the field, and writes nothing.
func TestControlCharactersRefused(t *testing.T) {
	key := newKey(t)
	for _, c := range []struct {
		name string
		tag  tv
		want string
	}{
		{"summary", tv{rpmtag.Summary, rpmtag.TypeI18NString, []string{"bell\x07"}}, `summary "bell\a": control character 0x07`},
		{"name", tv{rpmtag.Name, rpmtag.TypeString, "es\x1bc"}, "package name"},
		{"requires", tv{rpmtag.RequireName, rpmtag.TypeStringArray, []string{"x\x01"}}, "requires name"},
		{"file", tv{rpmtag.BaseNames, rpmtag.TypeStringArray, []string{"a\x0b", "data"}}, "file name"},
		{"changelog", tv{rpmtag.ChangelogText, rpmtag.TypeStringArray, []string{"form\x0cfeed"}}, "changelog text"},
		{"non-character", tv{rpmtag.Description, rpmtag.TypeI18NString, []string{"x\uFFFEy"}}, "non-character U+FFFE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			tags := []tv{c.tag}
			if c.name == "requires" {
				tags = append(tags, tv{rpmtag.RequireFlags, rpmtag.TypeInt32, []uint32{0}}, tv{rpmtag.RequireVersion, rpmtag.TypeStringArray, []string{""}})
			}
			if c.name == "changelog" {
				tags = append(tags, tv{rpmtag.ChangelogTime, rpmtag.TypeInt32, []uint32{1}}, tv{rpmtag.ChangelogName, rpmtag.TypeStringArray, []string{"a"}})
			}
			p := writeSynth(t, repo, "bad.rpm", synthRPM(4, sigTags, baseTags(tags...)))
			err := WriteRepo(repo, []Package{{Path: p, Href: "bad.rpm"}}, Options{Time: epoch, Key: key.key})
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q naming %s", err, c.want, p)
			}
			if _, err := os.Stat(filepath.Join(repo, "repodata")); err == nil {
				t.Errorf("a refused package left repodata/")
			}
		})
	}
	// A location of the caller's.
	repo := t.TempDir()
	p := writeSynth(t, repo, "ok.rpm", synthRPM(4, sigTags, baseTags()))
	if err := WriteRepo(repo, []Package{{Path: p, Href: "ok\x01.rpm"}}, Options{Time: epoch, Key: key.key}); err == nil || !strings.Contains(err.Error(), "location") {
		t.Errorf("control character in the location: %v", err)
	}
}

// TestOptionsAndLocationsRefused: WriteRepo's own refusals.
func TestOptionsAndLocationsRefused(t *testing.T) {
	key := newKey(t)
	repo := t.TempDir()
	p := writeSynth(t, repo, "ok.rpm", synthRPM(4, sigTags, baseTags()))
	ok := []Package{{Path: p, Href: "ok.rpm"}}
	for _, c := range []struct {
		pkgs []Package
		o    Options
		want string
	}{
		{ok, Options{Time: epoch}, "no signing key"},
		{ok, Options{Key: key.key}, "Options.Time is not set"},
		{[]Package{{Path: p, Href: "/abs.rpm"}}, Options{Time: epoch, Key: key.key}, "is absolute"},
		{[]Package{{Path: p, Href: "../up.rpm"}}, Options{Time: epoch, Key: key.key}, "not a clean path"},
		{[]Package{{Path: p, Href: "a/./b.rpm"}}, Options{Time: epoch, Key: key.key}, "not a clean path"},
		{[]Package{{Path: p, Href: ""}}, Options{Time: epoch, Key: key.key}, "empty location"},
		{[]Package{{Path: p, Href: "repodata/x.rpm"}}, Options{Time: epoch, Key: key.key}, "inside repodata/"},
		{[]Package{{Path: p, Href: "a.rpm"}, {Path: p, Href: "a.rpm"}}, Options{Time: epoch, Key: key.key}, "both given the location a.rpm"},
		{[]Package{{Path: filepath.Join(repo, "missing.rpm"), Href: "missing.rpm"}}, Options{Time: epoch, Key: key.key}, "missing.rpm"},
		{[]Package{{Path: repo, Href: "dir.rpm"}}, Options{Time: epoch, Key: key.key}, "not a regular file"},
	} {
		if err := WriteRepo(repo, c.pkgs, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.pkgs, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "repodata")); err == nil {
		t.Errorf("a refused call left repodata/")
	}
}

// tree maps every file under dir to its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[rel] = string(b)
		}
		return nil
	})
	return out
}

// synthSet writes n distinct synthetic packages into dir.
func synthSet(t *testing.T, dir string, n int) []Package {
	var pkgs []Package
	for i := range n {
		name := fmt.Sprintf("pkg%d", i)
		href := "Packages/" + name + "-1.0-1.x86_64.rpm"
		p := filepath.Join(dir, href)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeSynth(t, filepath.Dir(p), filepath.Base(p), synthRPM(4, sigTags, baseTags(tv{rpmtag.Name, rpmtag.TypeString, name})))
		pkgs = append(pkgs, Package{Path: p, Href: href})
	}
	return pkgs
}

// TestReproducible: the same packages and time give the same repodata,
// byte for byte (signature included), whatever the order of the list;
// gzip headers carry no time.
func TestReproducible(t *testing.T) {
	key := newKey(t)
	var trees []map[string]string
	for i := range 2 {
		repo := t.TempDir()
		pkgs := synthSet(t, repo, 3)
		if i == 1 {
			sort.Slice(pkgs, func(a, b int) bool { return pkgs[a].Href > pkgs[b].Href })
		}
		if err := WriteRepo(repo, pkgs, Options{Time: epoch, Key: key.key}); err != nil {
			t.Fatal(err)
		}
		trees = append(trees, tree(t, filepath.Join(repo, "repodata")))
	}
	if !reflect.DeepEqual(trees[0], trees[1]) {
		var a, b []string
		for k := range trees[0] {
			a = append(a, k)
		}
		for k := range trees[1] {
			b = append(b, k)
		}
		t.Errorf("two runs differ:\n%v\n%v", a, b)
	}
	for name, data := range trees[0] {
		if strings.HasSuffix(name, ".gz") && (data[:2] != "\x1f\x8b" || data[4:8] != "\x00\x00\x00\x00") {
			t.Errorf("%s: gzip header %x, want mtime 0", name, data[:10])
		}
	}
	if len(trees[0]) != 5 {
		t.Errorf("repodata holds %d files, want 3 indexes, repomd.xml and its signature", len(trees[0]))
	}
}

// TestRewrite adds packages to a repository: the new repomd.xml lists
// files whose checksums and sizes it states, the previous index files
// stay (a client holding the old repomd.xml can still fetch them), no
// temporary file is left, and gpg verifies repomd.xml.asc with the
// public key.
func TestRewrite(t *testing.T) {
	key := newKey(t)
	repo := t.TempDir()
	pkgs := synthSet(t, repo, 3)
	if err := WriteRepo(repo, pkgs[:1], Options{Time: epoch, Key: key.key}); err != nil {
		t.Fatal(err)
	}
	before := tree(t, filepath.Join(repo, "repodata"))
	if err := WriteRepo(repo, pkgs, Options{Time: epoch.Add(time.Hour), Key: key.key}); err != nil {
		t.Fatal(err)
	}
	after := tree(t, filepath.Join(repo, "repodata"))
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("%s of the first index is gone", name)
		}
	}
	if len(after) != 3+3+2 {
		t.Errorf("repodata after two writes: %d files", len(after))
	}
	for name := range after {
		if strings.HasPrefix(name, pack.TempPattern[:8]) || strings.Contains(name, "tmp") {
			t.Errorf("left behind: %s", name)
		}
	}
	md := readRepomd(t, repo)
	if md.Revision != fmt.Sprint(epoch.Add(time.Hour).Unix()) || len(md.Data) != 3 {
		t.Errorf("repomd: revision %s, %d data", md.Revision, len(md.Data))
	}
	for _, d := range md.Data {
		gz := after[strings.TrimPrefix(d.Location.Href, "repodata/")]
		sum := sha256.Sum256([]byte(gz))
		if gz == "" || d.Checksum.Value != hex.EncodeToString(sum[:]) || d.Size != int64(len(gz)) ||
			!strings.HasPrefix(d.Location.Href, "repodata/"+d.Checksum.Value+"-"+d.Type+".xml.gz") {
			t.Errorf("%s: %s is not what repomd.xml says", d.Type, d.Location.Href)
		}
		if d.Timestamp != md.Revision || d.Checksum.Type != "sha256" || d.OpenChecksum.Type != "sha256" {
			t.Errorf("%s: %+v", d.Type, d)
		}
	}
	var pr primaryDoc
	readData(t, repo, "primary", &pr)
	if len(pr.Package) != 3 {
		t.Errorf("primary lists %d packages", len(pr.Package))
	}

	home := signtest.VerifierHome(t, key.gen.PublicFile)
	if st, err := signtest.Verify(home, filepath.Join(repo, "repodata/repomd.xml.asc"), filepath.Join(repo, "repodata/repomd.xml")); err != nil || !strings.Contains(st, "VALIDSIG "+key.gen.Fingerprint) {
		t.Errorf("gpg --verify repomd.xml.asc: %v\n%s", err, st)
	}
	if asc := after["repomd.xml.asc"]; !strings.HasPrefix(asc, "-----BEGIN PGP SIGNATURE-----") {
		t.Errorf("repomd.xml.asc is not armoured:\n%s", asc)
	}

	// A repository without packages (every package removed) is valid.
	empty := t.TempDir()
	if err := WriteRepo(empty, nil, Options{Time: epoch, Key: key.key}); err != nil {
		t.Fatal(err)
	}
	var none primaryDoc
	readData(t, empty, "primary", &none)
	if none.Packages != "0" || len(none.Package) != 0 {
		t.Errorf("empty repository: %+v", none)
	}
}

// TestOpenChecksums: open-checksum and open-size describe the
// uncompressed XML.
func TestOpenChecksums(t *testing.T) {
	repo := t.TempDir()
	if err := WriteRepo(repo, synthSet(t, repo, 2), Options{Time: epoch, Key: newKey(t).key}); err != nil {
		t.Fatal(err)
	}
	for _, d := range readRepomd(t, repo).Data {
		data := sh(t, "gzip", "-dc", filepath.Join(repo, d.Location.Href))
		sum := sha256.Sum256([]byte(data))
		if d.OpenChecksum.Value != hex.EncodeToString(sum[:]) || d.OpenSize != int64(len(data)) {
			t.Errorf("%s: open-checksum %s open-size %d, the XML is %x, %d bytes", d.Type, d.OpenChecksum.Value, d.OpenSize, sum, len(data))
		}
	}
}

// TestVercmpAsRPM compares rpmvercmp with rpm's own (rpm.vercmp in rpm's
// Lua, which parses [E:]V-R: so no "-" or ":" here) on versions with tildes, carets, letters, leading zeros and
// separators.
func TestVercmpAsRPM(t *testing.T) {
	testdeps.Tools(t, "rpm")
	vs := []string{"1.0", "1.0~rc1", "1.0^git1", "1.0^", "1.0.0", "1.0a", "1.0.a", "1a", "01.0", "1.00", "1.0_1", "2", "10", "1.0~~", "1.0~rc1~1", "a", "b", "1..0", "1.0+1", "2.2.5", "2.28", "2.3.4"}
	var script strings.Builder
	for _, a := range vs {
		for _, b := range vs {
			fmt.Fprintf(&script, "print(rpm.vercmp(%q, %q)..' ')\n", a, b)
		}
	}
	lua := filepath.Join(t.TempDir(), "vercmp.lua")
	rpmroot.WriteFile(t, lua, script.String(), 0o644)
	out := strings.Fields(sh(t, "rpm", "--eval", "%{lua: dofile('"+lua+"')}"))
	if len(out) != len(vs)*len(vs) {
		t.Fatalf("rpm printed %d results for %d pairs", len(out), len(vs)*len(vs))
	}
	i := 0
	for _, a := range vs {
		for _, b := range vs {
			if got := fmt.Sprint(rpmvercmp(a, b)); got != out[i] {
				t.Errorf("rpmvercmp(%q, %q) = %s, rpm says %s", a, b, got, out[i])
			}
			i++
		}
	}
}
