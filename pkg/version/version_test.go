package version

import (
	"errors"
	"strings"
	"testing"
)

// conversions are the versions of DESIGN.md ("Conventions") and the task
// brief, with what each must become. nfpm_test.go builds real packages from
// the same table.
var conversions = []struct {
	in     string
	want   Version
	semver string // String()
	deb    string // Deb("1")
	rpm    string // RPM() Version; its Release is always "1"
}{
	{"v0.0.63", Version{Original: "v0.0.63", Patch: 63},
		"0.0.63", "0.0.63-1", "0.0.63"},
	{"0.0.38-dev.108+g152d059", Version{Original: "0.0.38-dev.108+g152d059", Patch: 38, Prerelease: "dev.108", Metadata: "g152d059"},
		"0.0.38-dev.108+g152d059", "0.0.38~dev.108+g152d059-1", "0.0.38~dev.108+g152d059"},
	{"1.2.0-rc.1", Version{Original: "1.2.0-rc.1", Major: 1, Minor: 2, Prerelease: "rc.1"},
		"1.2.0-rc.1", "1.2.0~rc.1-1", "1.2.0~rc.1"},
	{"1.2.0", Version{Original: "1.2.0", Major: 1, Minor: 2},
		"1.2.0", "1.2.0-1", "1.2.0"},
	{"2.0.0-alpha", Version{Original: "2.0.0-alpha", Major: 2, Prerelease: "alpha"},
		"2.0.0-alpha", "2.0.0~alpha-1", "2.0.0~alpha"},
	{"2.0.0-alpha.1", Version{Original: "2.0.0-alpha.1", Major: 2, Prerelease: "alpha.1"},
		"2.0.0-alpha.1", "2.0.0~alpha.1-1", "2.0.0~alpha.1"},
	{"2.0.0-beta.2+build.5", Version{Original: "2.0.0-beta.2+build.5", Major: 2, Prerelease: "beta.2", Metadata: "build.5"},
		"2.0.0-beta.2+build.5", "2.0.0~beta.2+build.5-1", "2.0.0~beta.2+build.5"},
	// Not in the brief, but accepted: a final release with metadata, an
	// upper-case word, metadata starting with a digit, a 20-digit number at
	// the edge of uint64.
	{"v1.2.0+build.5", Version{Original: "v1.2.0+build.5", Major: 1, Minor: 2, Metadata: "build.5"},
		"1.2.0+build.5", "1.2.0+build.5-1", "1.2.0+build.5"},
	{"1.2.0-RC.1", Version{Original: "1.2.0-RC.1", Major: 1, Minor: 2, Prerelease: "RC.1"},
		"1.2.0-RC.1", "1.2.0~RC.1-1", "1.2.0~RC.1"},
	{"1.0.0+20130313144700", Version{Original: "1.0.0+20130313144700", Major: 1, Metadata: "20130313144700"},
		"1.0.0+20130313144700", "1.0.0+20130313144700-1", "1.0.0+20130313144700"},
	{"1.2.0-nightly.18446744073709551615", Version{Original: "1.2.0-nightly.18446744073709551615", Major: 1, Minor: 2, Prerelease: "nightly.18446744073709551615"},
		"1.2.0-nightly.18446744073709551615", "1.2.0~nightly.18446744073709551615-1", "1.2.0~nightly.18446744073709551615"},
}

func TestConversions(t *testing.T) {
	for _, c := range conversions {
		t.Run(c.in, func(t *testing.T) {
			v, err := Parse(c.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if v != c.want {
				t.Errorf("Parse = %+v, want %+v", v, c.want)
			}
			if got := v.String(); got != c.semver {
				t.Errorf("String() = %q, want %q", got, c.semver)
			}
			if got := v.Deb("1"); got != c.deb {
				t.Errorf("Deb(1) = %q, want %q", got, c.deb)
			}
			if got := v.Deb(""); got != c.deb {
				t.Errorf("Deb(\"\") = %q, want the default release: %q", got, c.deb)
			}
			if got, want := v.Deb("2~deb12"), strings.TrimSuffix(c.deb, "-1")+"-2~deb12"; got != want {
				t.Errorf("Deb(2~deb12) = %q, want %q", got, want)
			}
			rv, rr := v.RPM()
			if rv != c.rpm || rr != "1" {
				t.Errorf("RPM() = %q, %q; want %q, %q", rv, rr, c.rpm, "1")
			}
			// The dpkg upstream version and the rpm Version are the same
			// string; nothing in it may need quoting or split EVR.
			if strings.ContainsAny(rv, "-:_ ") {
				t.Errorf("RPM() version %q holds a character that splits or breaks an EVR", rv)
			}
			for _, format := range []string{"deb", "rpm"} {
				f := v.NFPM(format, "")
				want := NFPMFields{Version: c.rpm, Release: "1"}
				if f != want {
					t.Errorf("NFPM(%s, \"\") = %+v, want %+v", format, f, want)
				}
				if got := f.Full(format); got != c.deb {
					t.Errorf("NFPM(%s).Full = %q, want %q", format, got, c.deb)
				}
			}
			if got := v.NFPM("rpm", "3.el8").Full("rpm"); got != c.rpm+"-3.el8" {
				t.Errorf("NFPM(rpm, 3.el8).Full = %q, want %q", got, c.rpm+"-3.el8")
			}
		})
	}
}

// Full must assemble split fields the way nfpm does, for callers that fill
// nfpm.Info fields some other way.
func TestFullMatchesNFPMJoin(t *testing.T) {
	f := NFPMFields{Version: "1.2.0", Prerelease: "rc-1", VersionMetadata: "g1", Epoch: "2"}
	if got, want := f.Full("deb"), "2:1.2.0~rc-1+g1"; got != want {
		t.Errorf("deb Full = %q, want %q (nfpm's deb writes no revision when Release is empty)", got, want)
	}
	if got, want := f.Full("rpm"), "2:1.2.0~rc_1+g1-1"; got != want {
		t.Errorf("rpm Full = %q, want %q (nfpm's rpm turns '-' into '_' and defaults Release to 1)", got, want)
	}
}

func TestNFPMUnknownFormatPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), `"apk"`) {
			t.Errorf("NFPM(apk) recovered %v, want a panic naming the format", r)
		}
	}()
	v, _ := Parse("1.2.0")
	v.NFPM("apk", "1")
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		in   string
		want []string // substrings of the message, besides the input and the examples
	}{
		{"", []string{"the version is empty"}},
		{"v", []string{"nothing follows the 'v'"}},
		{"1.2", []string{"three numbers MAJOR.MINOR.PATCH, found 2"}},
		{"1..0", []string{"a number is empty (two dots in a row", "single dots"}},
		{"1.2.", []string{"a number is empty"}},
		{"v1", []string{"three numbers MAJOR.MINOR.PATCH, found 1"}},
		{"1.2-rc.1", []string{"MAJOR.MINOR.PATCH must be three decimal numbers"}},
		{"1.2.3.4", []string{"MAJOR.MINOR.PATCH must be three decimal numbers"}},
		{"vv1.2.3", []string{"MAJOR.MINOR.PATCH must be three decimal numbers"}},
		{"01.2.3", []string{"starts with 0", "leading zeros"}},
		{"1.2.03", []string{"starts with 0"}},
		{"1.2.0-rc.01", []string{"starts with 0"}},
		{"99999999999999999999.0.0", []string{"larger than 18446744073709551615"}},
		{"1.2.0-rc.99999999999999999999", []string{`"99999999999999999999" is larger than`, "as text"}},
		{"1.2.0~rc.1", []string{`character '~' at byte 5`}},
		{"v1.2.0~rc.1", []string{`character '~' at byte 6`}},
		{"1.2.0_rc1", []string{`character '_'`}},
		{"1:1.2.3", []string{`character ':'`}},
		{"1.2.3\n", []string{`character '\n'`}},
		{" 1.2.3", []string{`character ' ' at byte 0`}},
		{"1.2.0-", []string{"prerelease after '-' must be non-empty identifiers"}},
		{"1.2.0-rc..1", []string{"prerelease after '-'"}},
		{"1.2.0+", []string{"build metadata after '+' must be non-empty"}},
		{"1.2.0+a..b", []string{"build metadata after '+'"}},
		{"1.2.0-rc1", []string{`"rc1" mixes letters and digits`, "rc10 before rc2", "write 1.2.0-rc.1"}},
		{"1.2.0-beta.2a", []string{`"2a" mixes letters and digits`}},
		{"1.2.0-alpha-1", []string{`"alpha-1" contains '-'`, "rpm Version cannot carry it", "write 1.2.0-alpha.1"}},
		{"1.2.0-alpha-beta", []string{`contains '-'`}},
		{"1.2.0-1", []string{"must start with a word", "1.2.0-1 vs 1.2.0-alpha"}},
		{"1.0.0-0.3.7", []string{"must start with a word"}},
		{"1.2.0-alpha.beta", []string{`"beta": only numbers may follow the first word`}},
		{"1.2.0+build-5", []string{`build metadata "build-5" contains '-'`, "+build.5"}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.in, "\n", `\n`), func(t *testing.T) {
			v, err := Parse(c.in)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", v)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != c.in {
				t.Fatalf("error %v is not a *ParseError for the input", err)
			}
			msg := err.Error()
			for _, w := range append(c.want, quote(c.in), "a valid version looks like 1.2.3, v0.0.63") {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\n  does not contain %q", msg, w)
				}
			}
		})
	}
}

// quote is %q of s, as the message prints it.
func quote(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// A suggestion is only printed when it is itself accepted.
func TestSuggestionsParse(t *testing.T) {
	for _, in := range []string{"1.2.0-rc1", "1.2.0-alpha-1", "1.2.0-beta2.3", "1.2.0-rc-10"} {
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("%s accepted", in)
		}
		msg := err.Error()
		i := strings.Index(msg, "; write ")
		if i < 0 {
			t.Errorf("%s: no suggestion in %q", in, msg)
			continue
		}
		fix := strings.SplitN(msg[i+len("; write "):], ";", 2)[0]
		if _, err := Parse(fix); err != nil {
			t.Errorf("%s: suggested %q is rejected: %v", in, fix, err)
		}
	}
	// "1.2.0-alpha-beta" would become alpha.beta, itself rejected: no suggestion.
	if _, err := Parse("1.2.0-alpha-beta"); err == nil || strings.Contains(err.Error(), "; write ") {
		t.Errorf("alpha-beta: %v", err)
	}
}

func TestCheckRelease(t *testing.T) {
	for _, ok := range []string{"", "1", "2", "10", "1.el8", "1~deb12", "1~ubuntu22.04", "1+b1", "3.fc41"} {
		if err := CheckRelease(ok); err != nil {
			t.Errorf("CheckRelease(%q) = %v, want nil", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"el8":   "must start with a digit",
		"1-2":   `character '-' at byte 1`,
		"1_el8": `character '_'`,
		"1:2":   `character ':'`,
		"1 ":    `character ' '`,
		"~1":    "must start with a digit",
	} {
		err := CheckRelease(bad)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), quote(bad)) {
			t.Errorf("CheckRelease(%q) = %v, want an error naming it and containing %q", bad, err, want)
		}
	}
}
