package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
)

// Lint every package relpack writes (docs/lint.md): the demo's debs and
// rpms unsigned and signed (testdata/demo/packaging-signed.yaml, make
// demo's configuration), with xz and zstd payloads.

const signedDemoConfig = "../../testdata/demo/packaging-signed.yaml"

// acceptedLintian are the lintian tags any relpack deb may carry, each
// with why it is not a defect (docs/lint.md has the same list). The two
// errors a deb may carry are not here: acceptedDebFormat says which debs.
var acceptedLintian = map[string]string{
	"no-manual-page":                                         "the demo binary has no man page; a product ships one through files:",
	"initial-upload-closes-no-bugs":                          "a Debian archive rule for first uploads; these packages are not uploaded to Debian",
	"binary-has-unneeded-section":                            "the fixtures' link flags, not the packager's business",
	"hardening-no-bindnow":                                   "as binary-has-unneeded-section",
	"hardening-no-relro":                                     "as binary-has-unneeded-section",
	"hardening-no-fortify-functions":                         "as binary-has-unneeded-section",
	"package-supports-alternative-init-but-no-init.d-script": "systemd-only servers need no SysV script",
	"systemd-service-file-missing-hardening-features":        "experimental tag; user units cannot use most hardening options",
}

// splitBinaryTag is the one lintian error of a deb whose binary relpack
// split (debug_symbols.split), accepted on its binary alone
// (docs/lint.md): the packaged binary keeps .symtab, as strip
// --strip-debug does, so a backtrace names functions without the debug
// package; lintian calls any ELF file with .symtab unstripped. Its
// debug sections are in the ddeb (dh_strip drops .symtab too, with
// --strip-unneeded: relpack keeps it on purpose).
const splitBinaryTag = "unstripped-binary-or-object"

// acceptedSplit reports whether hint h is splitBinaryTag on the
// demo's binary.
func acceptedSplit(tag, item string) bool {
	return tag == splitBinaryTag && item == "usr/bin/openshell-gateway"
}

// acceptedDebFormat are the two errors of lintian's deb-format check
// (Lintian::Check::DebFormat, the same in 2.116 and trixie's 2.122) that
// relpack debs draw, each accepted with exactly its note and only on the
// debs it describes: lintian's list of allowed extra members
// (data/deb-format/extra-members) is empty, so debsigs' _gpgorigin, the
// member debsig-verify reads, is "unexpected"; and its pattern of data
// members predates zstd, which dpkg reads since 1.21.18 (lintian itself
// reads the data through dpkg-deb --fsys-tarfile and lints it).
var acceptedDebFormat = []struct {
	tag, note string
	applies   func(members []string) bool
	why       string
}{
	{"misplaced-extra-member-in-deb", "_gpgorigin (unexpected _member at position 3)",
		func(m []string) bool { return len(m) == 4 && m[3] == "_gpgorigin" },
		"a signed deb: debsigs' origin signature, appended after data.tar as deb(5) allows"},
	{"malformed-deb-archive", "third (official) member data.tar.zst not data.tar.(gz|xz|bz2|lzma)",
		func(m []string) bool { return len(m) >= 3 && m[2] == "data.tar.zst" },
		"a zstd deb: lintian's member pattern has no .zst"},
}

// lintHint is one hint of lintian's JSON output (--exp-output
// format=json): the tag, its note and the file it points at.
type lintHint struct {
	Tag        string `json:"tag"`
	Note       string `json:"note"`
	Visibility string `json:"visibility"`
	Pointer    struct {
		Item struct {
			Name string `json:"name"`
		} `json:"item"`
	} `json:"pointer"`
}

func (h lintHint) String() string {
	s := h.Visibility + ": " + h.Tag
	if h.Note != "" {
		s += " " + h.Note
	}
	if h.Pointer.Item.Name != "" {
		s += " [" + h.Pointer.Item.Name + "]"
	}
	return s
}

// lintian runs lintian once on debs and returns each deb's hints, keyed
// by the paths given. It fails t (without stopping it: callers run it in
// goroutines) unless lintian read every deb: it lints one package of a
// name, version and architecture per run (a signed deb and its unsigned
// twin need two runs), and every demo deb ships /usr/bin/openshell-gateway
// without a man page, a hint that comes from its data (silence is not a
// pass).
func lintian(t *testing.T, debs []string) map[string][]lintHint {
	t.Helper()
	args := append([]string{"--exp-output", "format=json", "--tag-display-limit", "0", "--display-info"}, debs...)
	out, stderr, _ := run("", nil, "lintian", args...) // exit 1 on errors; judged by the callers
	var report struct {
		Groups []struct {
			InputFiles []struct {
				Path  string     `json:"path"`
				Hints []lintHint `json:"hints"`
			} `json:"input_files"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Errorf("lintian's JSON: %v\n%s\n%s", err, out, stderr) // not Fatal: callers run it in goroutines
		return nil
	}
	got := map[string][]lintHint{}
	for _, g := range report.Groups {
		for _, f := range g.InputFiles {
			got[f.Path] = append(got[f.Path], f.Hints...)
		}
	}
	for _, d := range debs {
		hints, ok := got[d]
		if !ok || !slices.ContainsFunc(hints, func(h lintHint) bool {
			return h.Tag == "no-manual-page" && h.Pointer.Item.Name == "usr/bin/openshell-gateway"
		}) {
			t.Errorf("lintian did not lint %s (read %d of %d debs)\n%s", d, len(got), len(debs), stderr)
		}
	}
	if strings.Contains(stderr, "error") {
		t.Errorf("lintian stderr: %s", stderr)
	}
	return got
}

// judgeLintian judges lintian's hints on a deb with these ar members: a
// problem for every error not accepted for those members (by
// acceptedDebFormat), every other tag outside acceptedLintian, and every
// acceptance of acceptedDebFormat that applies to the deb but that lintian
// no longer reports (then remove it). It also returns the hints left once
// the deb-format acceptances are taken out.
func judgeLintian(members []string, hints []lintHint) (rest []lintHint, problems []string) {
	seen := make([]bool, len(acceptedDebFormat))
	for _, h := range hints {
		accepted := false
		for i, a := range acceptedDebFormat {
			if h.Tag == a.tag && h.Note == a.note && a.applies(members) {
				accepted, seen[i] = true, true
			}
		}
		switch {
		case accepted:
			continue
		case acceptedSplit(h.Tag, h.Pointer.Item.Name):
		case h.Visibility == "error":
			problems = append(problems, "lintian "+h.String())
		case acceptedLintian[h.Tag] == "":
			problems = append(problems, "lintian tag not in the accepted list: "+h.String())
		}
		rest = append(rest, h)
	}
	for i, a := range acceptedDebFormat {
		if a.applies(members) && !seen[i] {
			problems = append(problems, fmt.Sprintf("members %v: lintian no longer reports %s %q (%s): remove the acceptance here and in docs/lint.md", members, a.tag, a.note, a.why))
		}
	}
	return rest, problems
}

// TestJudgeLintian: each deb-format error is accepted only with its note
// and only on the debs it describes, and an acceptance lintian stops
// reporting is a failure.
func TestJudgeLintian(t *testing.T) {
	xz := []string{"debian-binary", "control.tar.gz", "data.tar.xz"}
	zst := []string{"debian-binary", "control.tar.gz", "data.tar.zst"}
	signedXZ := append(slices.Clone(xz), "_gpgorigin")
	signedZst := append(slices.Clone(zst), "_gpgorigin")
	gpg := lintHint{Tag: "misplaced-extra-member-in-deb", Note: "_gpgorigin (unexpected _member at position 3)", Visibility: "error"}
	zstd := lintHint{Tag: "malformed-deb-archive", Note: "third (official) member data.tar.zst not data.tar.(gz|xz|bz2|lzma)", Visibility: "error"}
	other := lintHint{Tag: "misplaced-extra-member-in-deb", Note: "_gpgbuilder (unexpected _member at position 4)", Visibility: "error"}
	man := lintHint{Tag: "no-manual-page", Visibility: "warning"}
	unknown := lintHint{Tag: "extended-description-is-empty", Visibility: "warning"}
	for _, tc := range []struct {
		members  []string
		hints    []lintHint
		problems int
	}{
		{xz, []lintHint{man}, 0},
		{signedXZ, []lintHint{gpg, man}, 0},
		{zst, []lintHint{zstd, man}, 0},
		{signedZst, []lintHint{zstd, gpg, man}, 0},
		{xz, []lintHint{gpg, man}, 1},                // no _gpgorigin member
		{xz, []lintHint{zstd, man}, 1},               // no zstd member
		{signedZst, []lintHint{zstd, other, man}, 2}, // another member, and _gpgorigin's error gone
		{signedXZ, []lintHint{man}, 1},               // lintian learnt _gpgorigin: stale acceptance
		{zst, []lintHint{man}, 1},                    // lintian learnt zstd: stale acceptance
		{xz, []lintHint{man, unknown}, 1},            // a tag nobody accepted
	} {
		rest, problems := judgeLintian(tc.members, tc.hints)
		if len(problems) != tc.problems {
			t.Errorf("%v %v: problems %q, want %d", tc.members, tc.hints, problems, tc.problems)
		}
		if tc.problems == 0 && (slices.Contains(rest, gpg) || slices.Contains(rest, zstd)) {
			t.Errorf("%v: accepted hints left in %v", tc.members, rest)
		}
	}
}

// TestLintianOnEveryDeb lints every deb of the demo, and the signed demo's
// debs (make demo's configuration, testdata/demo/packaging-signed.yaml).
// Signing only appends _gpgorigin: the signed debs' first three members
// must be the unsigned ones' byte for byte, and lintian is run on one
// signed deb of each target (amd64), whose hints must be the unsigned
// deb's and the accepted _gpgorigin error. For the debs with a zstd data
// member, relpack also builds the same targets with xz: debs identical to
// the zstd ones but for the compressor (the same control member and, as
// dpkg-deb decompresses them, the same data.tar bytes), on which lintian
// must report the zstd debs' hints but the accepted malformed-deb-archive.
func TestLintianOnEveryDeb(t *testing.T) {
	testdeps.Tools(t, "lintian", "ar", "dpkg-deb")
	dist := demoDist(t)
	signedDist := signedDemoDist(t)
	cfg := loadDemo(t)
	var zstdTargets []string
	for i, tg := range cfg.Targets {
		if tg.Format == "deb" && tg.Compression == "zstd" {
			zstdTargets = append(zstdTargets, tg.ID)
			cfg.Targets[i].Compression = "xz"
		}
	}
	if len(zstdTargets) == 0 {
		t.Fatal("the demo has no zstd deb target to lint")
	}
	xzDist := filepath.Join(t.TempDir(), "xz")
	if _, err := Run(Options{Config: cfg, Version: demoVer, OutDir: xzDist, Epoch: DefaultEpoch, Only: zstdTargets}); err != nil {
		t.Fatalf("demo build of %v with xz: %v", zstdTargets, err)
	}

	var unsigned, signed, zstd, xz []string
	for _, arch := range []string{"amd64", "arm64"} {
		unsigned = append(unsigned, filesIn(t, dist, "*_"+arch+".deb")...)
	}
	if len(unsigned) == 0 {
		t.Fatal("no debs built")
	}
	members := map[string][]string{}
	for _, d := range unsigned {
		m := strings.Fields(sh(t, "", "ar", "t", d))
		s := filepath.Join(signedDist, filepath.Base(d))
		ms := strings.Fields(sh(t, "", "ar", "t", s))
		members[d], members[s] = m, ms
		if len(m) != 3 || !slices.Equal(ms, append(slices.Clone(m), "_gpgorigin")) {
			t.Errorf("%s: members %v, signed %v: want three, and the same and _gpgorigin", filepath.Base(d), m, ms)
			continue
		}
		for _, name := range m {
			if sh(t, "", "ar", "p", d, name) != sh(t, "", "ar", "p", s, name) {
				t.Errorf("%s: the signed deb's %s differs from the unsigned deb's", filepath.Base(d), name)
			}
		}
		if !strings.HasSuffix(d, "_amd64.deb") {
			continue
		}
		signed = append(signed, s)
		if m[2] != "data.tar.zst" {
			continue
		}
		twin := filepath.Join(xzDist, filepath.Base(d))
		members[twin] = strings.Fields(sh(t, "", "ar", "t", twin))
		if mt := members[twin]; len(mt) != 3 || mt[2] != "data.tar.xz" {
			t.Fatalf("%s: relpack's xz build has members %v", filepath.Base(d), mt)
		}
		sameButCompression(t, d, twin)
		zstd, xz = append(zstd, d), append(xz, twin)
	}
	if len(zstd) == 0 {
		t.Fatalf("no amd64 deb has a data.tar.zst (targets %v)", zstdTargets)
	}

	// Three runs (lintian reads one package of a name, version and
	// architecture per run), side by side: lintian spends most of its time
	// starting.
	var wg sync.WaitGroup
	results := make([]map[string][]lintHint, 3)
	for i, set := range [][]string{unsigned, signed, xz} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = lintian(t, set)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	rest := map[string][]lintHint{}
	for _, r := range results {
		for deb, hints := range r {
			var problems []string
			rest[deb], problems = judgeLintian(members[deb], hints)
			for _, p := range problems {
				t.Errorf("%s: %s", deb, p)
			}
		}
	}
	same := func(a, b string) {
		if x, y := hintSet(rest[a]), hintSet(rest[b]); !slices.Equal(x, y) {
			t.Errorf("lintian's hints on %s (the accepted deb-format errors taken out)\n %q\ndiffer from those on %s\n %q", a, x, b, y)
		}
	}
	for _, s := range signed {
		same(s, filepath.Join(dist, filepath.Base(s)))
	}
	for i, d := range zstd {
		same(d, xz[i])
	}
}

// hintSet is hints as sorted strings.
func hintSet(hints []lintHint) []string {
	var out []string
	for _, h := range hints {
		out = append(out, h.String())
	}
	slices.Sort(out)
	return out
}

// sameButCompression fails t unless debs a and b have the same
// debian-binary and control members and, as dpkg-deb decompresses them,
// the same data.tar: what lintian reads of b is what it would read of a.
func sameButCompression(t *testing.T, a, b string) {
	t.Helper()
	for _, m := range []string{"debian-binary", "control.tar.gz"} {
		if x, y := sh(t, "", "ar", "p", a, m), sh(t, "", "ar", "p", b, m); x != y {
			t.Errorf("%s and %s differ in %s", a, b, m)
		}
	}
	x, y := fsysTar(t, a), fsysTar(t, b)
	if len(x) == 0 || !bytes.Equal(x, y) {
		t.Errorf("dpkg-deb --fsys-tarfile of %s (%d bytes) and of %s (%d bytes) differ", a, len(x), b, len(y))
	}
}

// fsysTar is dpkg-deb --fsys-tarfile's output: the deb's data.tar,
// decompressed.
func fsysTar(t *testing.T, deb string) []byte {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--fsys-tarfile", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s: %v", deb, err)
	}
	return out
}

// signedDemoDist builds the demo with make demo's configuration, signed
// with its throwaway key, into a folder of t's.
func signedDemoDist(t *testing.T) string {
	t.Helper()
	c, err := config.Load(signedDemoConfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "signed")
	if _, err := Run(Options{Config: c, Version: demoVer, OutDir: dir, Epoch: DefaultEpoch, Sign: true}); err != nil {
		t.Fatalf("signed demo build: %v", err)
	}
	return dir
}

// splitRpmlint are the rpmlint messages of the rpms of a build that splits
// debug symbols, beyond what pkg/pack/rpmlintrc accepts (docs/lint.md,
// "Debug packages"), each on the files it is about: the main binary keeps
// .symtab (strip --strip-debug); a debuginfo rpm's debug file is what
// objcopy --only-keep-debug writes (its symbols and DWARF, its loaded
// sections' contents NOBITS, .dynamic included), and it has no
// documentation, as rpmbuild's; and a main rpm with a /usr/lib/.build-id
// link no longer draws only-non-binary-in-usr-lib, so that filter goes
// unused when every rpm linted is split.
var splitRpmlint = []*regexp.Regexp{
	regexp.MustCompile(`^openshell-gateway\.(x86_64|aarch64): W: unstripped-binary-or-object /usr/bin/openshell-gateway$`),
	regexp.MustCompile(`^openshell-gateway-debuginfo\.(x86_64|aarch64): W: unstripped-binary-or-object /usr/lib/debug/usr/bin/openshell-gateway-\S+\.debug$`),
	regexp.MustCompile(`^openshell-gateway-debuginfo\.(x86_64|aarch64): E: shared-library-without-dependency-information /usr/lib/debug/usr/bin/openshell-gateway-\S+\.debug$`),
	regexp.MustCompile(`^openshell-gateway-debuginfo\.(x86_64|aarch64): W: no-documentation$`),
	regexp.MustCompile(`^\S+: E: unused-rpmlintrc-filter "W: only-non-binary-in-usr-lib\$"$`),
}

// rpmlintLeft are rpmlint's error and warning lines in out that no
// splitRpmlint pattern accepts.
func rpmlintLeft(out string) []string {
	var left []string
	for _, l := range strings.Split(out, "\n") {
		if (strings.Contains(l, ": E: ") || strings.Contains(l, ": W: ")) &&
			!slices.ContainsFunc(splitRpmlint, func(re *regexp.Regexp) bool { return re.MatchString(l) }) {
			left = append(left, l)
		}
	}
	return left
}

// TestRpmlintOnEveryRpm runs rpmlint with pkg/pack/rpmlintrc, the one
// documented list, on the demo's rpms unsigned and signed: it must report
// nothing on either (no unused-rpmlintrc-filter). Without the file, the
// signature messages are checked: no-signature on the unsigned rpms,
// unknown-key with the demo key's id on the signed ones, and nothing once
// the demo key is imported (rpmlint found the signature good).
func TestRpmlintOnEveryRpm(t *testing.T) {
	testdeps.Tools(t, "rpmlint", "rpm")
	dist, signedDist := demoDist(t), signedDemoDist(t)
	key := readManifest(t, signedDist).Signing
	if key == nil {
		t.Fatal("the signed demo's manifest records no signing key")
	}
	shortID := strings.ToLower(key.KeyID[len(key.KeyID)-8:])
	home := t.TempDir()
	db := t.TempDir()
	sh(t, "", "rpm", "--dbpath", db, "--import", filepath.Join(signedDist, "KEY.asc"))
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath "+db+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sigRE := regexp.MustCompile(`(?m)^(\S+): (E: (?:no-signature|unknown-key|invalid-signature)\b.*)$`)
	for _, tc := range []struct {
		name, dir, signature string
	}{
		{"unsigned", dist, "E: no-signature"},
		{"signed", signedDist, "E: unknown-key " + shortID},
	} {
		rpms := filesIn(t, tc.dir, "*.rpm")
		if len(rpms) == 0 {
			t.Fatalf("%s: no rpms built", tc.name)
		}
		out, stderr, _ := run("", nil, "rpmlint", append([]string{"-r", "../pack/rpmlintrc"}, rpms...)...)
		// The demo splits debug symbols: what that draws is accepted
		// (splitRpmlint), and nothing else.
		m := regexp.MustCompile(`(\d+) packages and \d+ specfiles checked; (\d+) errors, (\d+) warnings`).FindStringSubmatch(out)
		if m == nil || m[1] != strconv.Itoa(len(rpms)) || len(rpmlintLeft(out)) > 0 {
			t.Errorf("%s: rpmlint -r ../pack/rpmlintrc on %d rpms:\n%s\n%s", tc.name, len(rpms), out, stderr)
		}
		raw, _, _ := run("", nil, "rpmlint", rpms...)
		if got := sigRE.FindAllStringSubmatch(raw, -1); len(got) != len(rpms) || slices.ContainsFunc(got, func(s []string) bool { return s[2] != tc.signature }) {
			t.Errorf("%s: rpmlint's signature messages, want %q once per rpm:\n%s", tc.name, tc.signature, raw)
		}
		if tc.name == "signed" {
			known, _, _ := run("", []string{"HOME=" + home}, "rpmlint", rpms...)
			if got := sigRE.FindAllString(known, -1); len(got) != 0 || !strings.Contains(known, strconv.Itoa(len(rpms))+" packages and") {
				t.Errorf("with the demo key imported, rpmlint still reports about the signature: %q\n%s", got, known)
			}
		}
	}
}
