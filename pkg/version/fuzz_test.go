package version

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVersionParse feeds arbitrary strings to Parse. A rejection must be a
// *ParseError for the input; an accepted version must convert to dpkg and
// rpm version strings without panicking, using only the characters those
// tools allow, and must read back from String() as the same version.
//
//	go test -run XXX -fuzz FuzzVersionParse -fuzztime 60s ./pkg/version/
//
// Seeds: the accepted conversions of version_test.go, the rejected inputs
// of TestParseRejects and TestSuggestionsParse, the release history of
// order_test.go, and testdata/fuzz/FuzzVersionParse/.
func FuzzVersionParse(f *testing.F) {
	for _, c := range conversions {
		f.Add(c.in)
	}
	for _, s := range ascending {
		f.Add(s)
	}
	for _, s := range fuzzVersionRejects {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkVersion(t, s) })
}

// fuzzVersionRejects are the rejected inputs of version_test.go, plus a few
// that reach the suggestion code and the edges of uint64.
var fuzzVersionRejects = []string{
	"", "v", "1.2", "v1", "1.2-rc.1", "1.2.3.4", "vv1.2.3", "01.2.3", "1.2.03", "1.2.0-rc.01",
	"99999999999999999999.0.0", "1.2.0-rc.99999999999999999999", "1.2.0~rc.1", "v1.2.0~rc.1",
	"1.2.0_rc1", "1:1.2.3", "1.2.3\n", " 1.2.3", "1.2.0-", "1.2.0-rc..1", "1.2.0+", "1.2.0+a..b",
	"1.2.0-rc1", "1.2.0-beta.2a", "1.2.0-alpha-1", "1.2.0-alpha-beta", "1.2.0-1", "1.0.0-0.3.7",
	"1.2.0-alpha.beta", "1.2.0+build-5", "1.2.0-beta2.3", "1.2.0-rc-10",
	"18446744073709551615.18446744073709551615.18446744073709551615",
	"18446744073709551616.0.0", "1.2.0-rc.18446744073709551616", "1.2.0-rc01", "1.2.0-rc-01",
	"1.2.0-é", "v1.2.0-rc.1+", "1.2.0+-", "1.2.0--", "1.2.0-a+b+c", "V1.2.3",
}

func checkVersion(t *testing.T, s string) {
	v, err := Parse(s)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Input != s {
			t.Fatalf("Parse(%q) error %v (%T) is not a *ParseError for the input", s, err, err)
		}
		if !strings.Contains(err.Error(), examples) {
			t.Errorf("Parse(%q) error %q lacks the examples", s, err)
		}
		return
	}
	if v.Original != s {
		t.Errorf("Parse(%q).Original = %q", s, v.Original)
	}

	up := v.upstream()
	if deb := v.Deb("1"); deb != up+"-1" {
		t.Errorf("Parse(%q).Deb(1) = %q, want %q", s, deb, up+"-1")
	}
	// dpkg: an upstream version starts with a digit and holds only
	// [A-Za-z0-9.+~-]; it has a '-' only when a revision follows, and
	// a ':' only after an epoch, so relpack's has neither.
	checkChars(t, s, "deb upstream", up, ".+~")
	if up == "" || !isDigit(rune(up[0])) {
		t.Errorf("Parse(%q): deb upstream version %q does not start with a digit", s, up)
	}
	rv, rr := v.RPM()
	if rr != DefaultRelease {
		t.Errorf("Parse(%q).RPM() release = %q", s, rr)
	}
	// rpm: no '-' in Version (it separates Version from Release), no
	// whitespace; relpack uses only [A-Za-z0-9.+~].
	checkChars(t, s, "rpm Version", rv, ".+~")
	if got, want := v.NFPM("deb", "1").Full("deb"), v.Deb("1"); got != want {
		t.Errorf("Parse(%q): nfpm deb version %q, want Deb(1) = %q", s, got, want)
	}
	if got, want := v.NFPM("rpm", "1").Full("rpm"), rv+"-1"; got != want {
		t.Errorf("Parse(%q): nfpm rpm version %q, want %q", s, got, want)
	}

	// String() is canonical semver: it reads back as the same version.
	str := v.String()
	back, err := Parse(str)
	if err != nil {
		t.Fatalf("Parse(%q) = %+v, but its String() %q is rejected: %v", s, v, str, err)
	}
	want := v
	want.Original = str
	if back != want {
		t.Errorf("Parse(%q).String() = %q reads back as %+v, want %+v", s, str, back, want)
	}
	if got := back.String(); got != str {
		t.Errorf("String() is not stable: %q then %q", str, got)
	}
	if strings.TrimPrefix(s, "v") != str {
		t.Errorf("Parse(%q).String() = %q: the canonical form differs from the input", s, str)
	}
}

// checkChars fails when s holds anything but ASCII letters, digits and
// the extra characters.
func checkChars(t *testing.T, in, what, s, extra string) {
	t.Helper()
	for i, r := range s {
		if !isAlnum(r) && !strings.ContainsRune(extra, r) {
			t.Errorf("Parse(%q): %s %q has %q at byte %d", in, what, s, r, i)
			return
		}
	}
}
