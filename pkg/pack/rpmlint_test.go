package pack

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/lifecycle"
)

// rpmlintFilterRE reads one addFilter line of rpmlintrc.
var rpmlintFilterRE = regexp.MustCompile(`(?m)^addFilter\(r"(.*)"\)\s*$`)

// rpmlintFilters are the regular expressions of rpmlintrc's filters.
func rpmlintFilters(t *testing.T, rc string) []*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	var out []*regexp.Regexp
	for _, m := range rpmlintFilterRE.FindAllStringSubmatch(string(data), -1) {
		re, err := regexp.Compile(m[1])
		if err != nil {
			t.Fatalf("%s: filter %q: %v", rc, m[1], err)
		}
		out = append(out, re)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no addFilter lines", rc)
	}
	return out
}

// rpmlintSummaryRE is rpmlint 2.x's last line.
var rpmlintSummaryRE = regexp.MustCompile(`(\d+) packages and \d+ specfiles checked; (\d+) errors, (\d+) warnings`)

// TestRPMLint runs rpmlint 2.4 on the fixture rpm with the scriptlets of
// a system service (pkg/lifecycle), unsigned with the el8 (xz) and el9
// (zstd) payloads and signed: with rpmlintrc, the one list of accepted
// messages, it must report nothing at all on each; without it, every
// filter of rpmlintrc must still be needed (it matches a message), so
// nothing is accepted that no package shows. rpmlint judges a signature
// against the rpm keyring of the machine that lints: the unsigned rpms
// draw no-signature, the signed one unknown-key with its own key id, and
// once its key is imported (a keyring of this test's, through HOME's
// .rpmmacros) nothing, which is rpmlint finding the signature good.
func TestRPMLint(t *testing.T) {
	rpmlint := testdeps.Tool(t, "rpmlint")
	testdeps.Tool(t, "rpm")
	filters := rpmlintFilters(t, "rpmlintrc")
	used := make([]bool, len(filters))
	sc, err := lifecycle.RPM(lifecycle.Service{Unit: fixtureName + ".service", Scope: "system", Enable: true, RestartOnUpgrade: true})
	if err != nil {
		t.Fatal(err)
	}
	key, pubFile, _ := signingKey(t, "ed25519", signPassphrase)
	shortID := strings.ToLower(key.KeyID[8:])
	for _, tc := range []struct {
		name, comp string
		signed     bool
		signature  string // the one signature message rpmlint must report
	}{
		{"xz", "xz", false, "E: no-signature"},
		{"zstd", "zstd", false, "E: no-signature"},
		{"signed-zstd", "zstd", true, "E: unknown-key " + shortID},
	} {
		f, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) {
			s.Scripts = Scripts(sc)
			s.Compression = tc.comp
			if tc.signed {
				s.Signing = key
			}
		})
		out, err := runErr(nil, rpmlint, "-r", "rpmlintrc", f)
		m := rpmlintSummaryRE.FindStringSubmatch(out)
		if m == nil || m[1] != "1" || m[2] != "0" || m[3] != "0" {
			t.Errorf("%s: rpmlint -r rpmlintrc reports (%v):\n%s", tc.name, err, out)
		}
		raw, _ := runErr(nil, rpmlint, f)
		if got := signatureMessages(raw); len(got) != 1 || got[0] != tc.signature {
			t.Errorf("%s: rpmlint's signature messages %q, want only %q:\n%s", tc.name, got, tc.signature, raw)
		}
		for _, l := range strings.Split(raw, "\n") {
			if !strings.Contains(l, ": E: ") && !strings.Contains(l, ": W: ") {
				continue
			}
			for i, re := range filters {
				if re.MatchString(l) {
					used[i] = true
				}
			}
		}
		t.Logf("%s: rpmlint without filters:\n%s", tc.name, raw)
		if tc.signed {
			home := rpmKeyringHome(t, pubFile)
			known, _ := runErr([]string{"HOME=" + home}, rpmlint, f)
			if got := signatureMessages(known); len(got) != 0 || !rpmlintSummaryRE.MatchString(known) {
				t.Errorf("%s: with its key imported rpmlint reports %q about the signature:\n%s", tc.name, got, known)
			}
		}
	}
	for i, re := range filters {
		if !used[i] {
			t.Errorf("rpmlintrc filter %q matches nothing rpmlint reports: remove it (and its row in docs/lint.md)", re)
		}
	}
}

// signatureMessages are the messages of rpmlint's signature check in its
// output ("E: no-signature", "E: unknown-key 6ea23684", ...).
func signatureMessages(out string) []string {
	var got []string
	for _, m := range regexp.MustCompile(`(?m): (E: (?:no-signature|unknown-key|invalid-signature)\b.*)$`).FindAllStringSubmatch(out, -1) {
		got = append(got, strings.TrimSpace(m[1]))
	}
	return got
}

// rpmKeyringHome is a HOME whose .rpmmacros points rpm (and so rpmlint's
// rpm -Kv) at a database holding pubFile's key, as on a machine that
// imported the release key; the host's own rpm database is not touched.
func rpmKeyringHome(t *testing.T, pubFile string) string {
	t.Helper()
	home := t.TempDir()
	db := rpmDB(t, pubFile)
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath "+db+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}
