// Package version turns the semver string a release is tagged with
// (v0.0.63, 0.0.38-dev.108+g152d059, 1.2.0-rc.1) into the version strings
// dpkg and rpm need, so that apt and dnf upgrade through releases in the
// order semver gives them.
//
// # The mapping
//
//	semver                    deb Version                  rpm Version / Release
//	v0.0.63                   0.0.63-1                     0.0.63 / 1
//	1.2.0-rc.1                1.2.0~rc.1-1                 1.2.0~rc.1 / 1
//	0.0.38-dev.108+g152d059   0.0.38~dev.108+g152d059-1    0.0.38~dev.108+g152d059 / 1
//
// The prerelease goes after '~', which both dpkg and rpm (>= 4.10; EL8 has
// 4.14) sort before anything, even the end of the string, so 1.2.0~rc.1 comes
// before 1.2.0. Build metadata is kept after '+' (allowed in a dpkg upstream
// version and in an rpm Version) so two builds of one prerelease get distinct
// package versions. rpm's '^' (sorts after, rpm >= 4.15) is not used: EL8
// cannot read it. No epoch is ever set: an epoch can only be added, never
// taken back, and semver needs none.
//
// # What Parse accepts, and why it is stricter than semver
//
// dpkg and rpm do not compare versions the way semver does. Both split a
// version into runs of digits (compared as numbers) and runs of other
// characters; semver splits the prerelease into dot-separated identifiers,
// compares all-digit identifiers as numbers, everything else as ASCII text,
// and puts numbers before words. Where these disagree a package manager
// would upgrade in a different order from the one the tags promise, so Parse
// rejects every single version that can take part in such a disagreement,
// as long as a plain spelling of the same intent exists:
//
//   - An identifier that mixes letters and digits (rc1, beta2): semver sorts
//     rc10 before rc2 (text), dpkg and rpm after (number). Write rc.1.
//   - A hyphen inside the prerelease or the metadata (alpha-1): an rpm
//     Version cannot contain '-' (it separates Version from Release), and
//     turning it into '.' reorders (semver: alpha-10 < alpha-2 as text;
//     dpkg and rpm: alpha.2 < alpha.10). Write alpha.1.
//   - A prerelease that does not start with a word (1.2.0-1), or a word after
//     the first identifier (alpha.beta): rpm sorts a run of digits after a
//     run of letters, semver (and dpkg) the other way round, so 1.2.0-1 vs
//     1.2.0-alpha and alpha.1 vs alpha.beta would disagree. The accepted
//     shape is one word followed by numbers: dev.108, alpha, alpha.1, rc.2.
//   - A number that does not fit in 64 bits: semver libraries fall back to
//     comparing it as text.
//
// Two disagreements remain possible; they need a particular pair of versions,
// so no check of one version can see them (TestDivergenceFromSemver proves
// each with the real tools):
//
//   - dpkg, one prerelease word a prefix of another: semver has
//     1.2.0-pre.1 < 1.2.0-preview (and rc+g1 < rcx), dpkg the reverse,
//     because dpkg sorts '.' and '+' after letters. Within one
//     MAJOR.MINOR.PATCH, do not use two words where one begins with the other.
//   - rpm, metadata starting with a digit on a prerelease that a later
//     prerelease extends: semver has 1.2.0-rc+5 < 1.2.0-rc.1 (metadata does
//     not count), rpm compares 5 with 1. Metadata starting with a letter
//     (g152d059, build.5) is always safe.
//
// Build metadata does not count in semver's order but does in dpkg's and
// rpm's: 1.2.0+build.2 and 1.2.0+build.10 are equal to semver and ordered by
// the package managers. That refines semver's order rather than contradicting it.
package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// DefaultRelease is the package release (deb revision, rpm Release) used
// when none is given: the first packaging of an upstream version, as nfpm's
// rpm packager and Debian convention both count.
const DefaultRelease = "1"

// examples ends every parse error, so whoever typed a bad version sees a good one.
const examples = "a valid version looks like 1.2.3, v0.0.63, 1.2.0-rc.1 or 0.0.38-dev.108+g152d059"

// Version is a parsed release version. It is plain data: the conversions
// below read only these fields, so a Version built by hand converts the same
// way (tests use that to show what rejected inputs would have produced).
type Version struct {
	Original            string // as given, e.g. "v0.0.63"
	Major, Minor, Patch uint64
	Prerelease          string // after '-', e.g. "dev.108"; "" for a final release
	Metadata            string // after '+', e.g. "g152d059"; "" when none
}

// ParseError says why a version string was rejected.
type ParseError struct {
	Input  string // the string as given
	Reason string // what is wrong and what to write instead
	Err    error  // the semver library's error, when it found the problem
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("version %q: %s; %s", e.Input, e.Reason, examples)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a strict semver 2.0 version, optionally with one leading 'v',
// and applies the extra rules of the package doc that keep dpkg's and rpm's
// order the same as semver's.
func Parse(s string) (Version, error) {
	fail := func(err error, format string, args ...any) (Version, error) {
		return Version{}, &ParseError{Input: s, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	if s == "" {
		return fail(nil, "the version is empty")
	}
	body := strings.TrimPrefix(s, "v")
	if body == "" {
		return fail(nil, "nothing follows the 'v'")
	}
	// Checked before the semver library so the message can name the
	// character. People try '~' (dpkg's prerelease mark), '_', ':' (dpkg's
	// epoch) or paste a trailing newline; semver allows none of them, and
	// '~' and ':' would mean something else to dpkg and rpm.
	for i, r := range body {
		if !isAlnum(r) && r != '.' && r != '-' && r != '+' {
			return fail(nil, "character %q at byte %d is not allowed: semver has only letters, digits and . - +", r, i+len(s)-len(body))
		}
	}
	sv, err := semver.StrictNewVersion(body)
	if err != nil {
		return fail(err, "%s", semverReason(body, err))
	}
	v := Version{
		Original:   s,
		Major:      sv.Major(),
		Minor:      sv.Minor(),
		Patch:      sv.Patch(),
		Prerelease: sv.Prerelease(),
		Metadata:   sv.Metadata(),
	}
	if v.Prerelease != "" {
		if reason := checkPrerelease(v.Prerelease); reason != "" {
			if fix := suggestPrerelease(v.Prerelease); fix != "" {
				reason += fmt.Sprintf("; write %d.%d.%d-%s", v.Major, v.Minor, v.Patch, fix)
			}
			return fail(nil, "prerelease %q: %s", v.Prerelease, reason)
		}
	}
	if strings.Contains(v.Metadata, "-") {
		return fail(nil, "build metadata %q contains '-', which an rpm Version cannot carry (it separates Version from Release); use '.' instead: +%s",
			v.Metadata, strings.ReplaceAll(v.Metadata, "-", "."))
	}
	return v, nil
}

// semverReason turns the semver library's terse errors into what to fix.
func semverReason(body string, err error) string {
	switch {
	case errors.Is(err, semver.ErrInvalidSemVer):
		core := body
		if i := strings.IndexAny(body, "-+"); i >= 0 {
			core = body[:i]
		}
		return fmt.Sprintf("needs three numbers MAJOR.MINOR.PATCH, found %d dot-separated part(s) before any '-' or '+'",
			strings.Count(core, ".")+1)
	case errors.Is(err, semver.ErrSegmentStartsZero):
		return "a number starts with 0 (semver forbids leading zeros such as 01.2.3 or rc.01)"
	case errors.Is(err, semver.ErrInvalidCharacters):
		return "MAJOR.MINOR.PATCH must be three decimal numbers, then optionally -PRERELEASE and +METADATA"
	case errors.Is(err, semver.ErrInvalidPrerelease):
		return "the prerelease after '-' must be non-empty identifiers separated by single dots"
	case errors.Is(err, semver.ErrInvalidMetadata):
		return "the build metadata after '+' must be non-empty identifiers separated by single dots"
	case errors.Is(err, strconv.ErrRange):
		return "a number is larger than 18446744073709551615"
	case errors.Is(err, strconv.ErrSyntax):
		return "a number is empty (two dots in a row, or a dot at an end): MAJOR.MINOR.PATCH are three decimal numbers separated by single dots"
	}
	return err.Error()
}

// checkPrerelease returns why pre cannot be ordered the same way by semver,
// dpkg and rpm, or "" when it can: one word, then numbers (see package doc).
func checkPrerelease(pre string) string {
	for i, id := range strings.Split(pre, ".") {
		switch {
		case strings.Contains(id, "-"):
			return fmt.Sprintf("%q contains '-': an rpm Version cannot carry it, and turning it into '.' would reorder versions (semver sorts alpha-10 before alpha-2, dpkg and rpm sort alpha.10 after alpha.2)", id)
		case hasDigit(id) && hasLetter(id):
			return fmt.Sprintf("%q mixes letters and digits: semver compares it as text (rc10 before rc2), dpkg and rpm compare the digits as a number (rc10 after rc2)", id)
		case i == 0 && !hasLetter(id):
			return "it must start with a word such as dev, alpha, beta or rc: rpm sorts a number after a word where semver sorts it before (1.2.0-1 vs 1.2.0-alpha)"
		case i > 0 && hasLetter(id):
			return fmt.Sprintf("%q: only numbers may follow the first word: rpm sorts a number after a word where semver sorts it before (alpha.1 vs alpha.beta)", id)
		case i > 0:
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				return fmt.Sprintf("%q is larger than 18446744073709551615, and semver libraries then compare it as text", id)
			}
		}
	}
	return ""
}

// suggestPrerelease rewrites pre into the accepted shape (rc10 -> rc.10,
// alpha-1 -> alpha.1) and returns it only if the result is accepted.
func suggestPrerelease(pre string) string {
	var parts []string
	for _, id := range strings.FieldsFunc(pre, func(r rune) bool { return r == '.' || r == '-' }) {
		start := 0
		for j := 1; j <= len(id); j++ {
			if j == len(id) || isDigit(rune(id[j])) != isDigit(rune(id[j-1])) {
				parts = append(parts, id[start:j])
				start = j
			}
		}
	}
	fix := strings.Join(parts, ".")
	if fix == pre || checkPrerelease(fix) != "" {
		return ""
	}
	if _, err := semver.StrictNewVersion("0.0.0-" + fix); err != nil {
		return "" // e.g. a leading zero exposed by the split
	}
	return fix
}

// String returns the canonical semver form, without a leading 'v'.
func (v Version) String() string { return v.join("-") }

// upstream is the version both package managers get before the release:
// the prerelease after '~' (sorts before the final release in dpkg and rpm),
// the metadata after '+'. For a Version from Parse it is a valid dpkg
// upstream version (starts with a digit; only alnum . + ~) and a valid rpm
// Version (no '-').
func (v Version) upstream() string { return v.join("~") }

// join writes MAJOR.MINOR.PATCH, the prerelease after preSep, and the
// metadata after '+'.
func (v Version) join(preSep string) string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Prerelease != "" {
		s += preSep + v.Prerelease
	}
	if v.Metadata != "" {
		s += "+" + v.Metadata
	}
	return s
}

// Deb returns the Debian package version, upstream-revision, e.g.
// 0.0.38~dev.108+g152d059-1. An empty release means DefaultRelease: the
// revision is always written, as Debian does for a package that is not
// Debian-native. release must pass CheckRelease; Deb only formats.
func (v Version) Deb(release string) string {
	return v.upstream() + "-" + orDefault(release)
}

// RPM returns the rpm Version and Release, e.g. "0.0.38~dev.108+g152d059"
// and "1". The Release is always DefaultRelease: it counts packagings of one
// upstream version, which semver knows nothing about. A package with another
// release (a rebuild, a per-distro suffix such as 1.el8) takes its fields
// from NFPM("rpm", release).
func (v Version) RPM() (version, release string) {
	return v.upstream(), DefaultRelease
}

// NFPMFields are the version fields of nfpm's nfpm.Info for one package.
//
// The whole converted version is in Version; Prerelease and VersionMetadata
// are left empty on purpose. nfpm v2.45.2 joins Version, "~"+Prerelease,
// "+"+VersionMetadata itself (deb: as given; rpm: with '-' in Prerelease
// turned into '_'), and older nfpm releases put an rpm prerelease into the
// Release instead. Handing it the finished string keeps this package the
// only place the mapping lives, and keeps an nfpm upgrade from changing
// versions behind our back. With Info.VersionSchema "none" nfpm uses Version
// verbatim; with the default "semver" it re-parses it, and either a '~' makes
// the parse fail (nfpm then keeps the string) or, for a final release, the
// parse splits off and re-appends the same +metadata, so the result is the
// same (TestNFPMPackages builds both ways).
type NFPMFields struct {
	Version, Release, Prerelease, VersionMetadata, Epoch string
}

// NFPM returns the nfpm.Info version fields that make nfpm's deb or rpm
// packager write exactly Deb(release), or RPM()'s Version with the given
// release. An empty release means DefaultRelease; release must pass
// CheckRelease. format is "deb" or "rpm"; any other format panics, because
// it has a different version syntax (apk has no '~') and must get its own
// mapping here rather than silently reuse this one (pkg/distro already
// rejects other formats in configuration).
func (v Version) NFPM(format, release string) NFPMFields {
	switch format {
	case "deb", "rpm":
		return NFPMFields{Version: v.upstream(), Release: orDefault(release)}
	}
	panic(fmt.Sprintf("version: no %q version mapping; add one to relpack/pkg/version", format))
}

// Full is the version the package manager shows for a package built with
// these fields, the way nfpm assembles it: [Epoch:]Version[~Prerelease]
// [+VersionMetadata]-Release (deb control Version; rpm EVR). format is "deb"
// or "rpm": nfpm's rpm packager fills an empty Release with "1" and turns
// '-' in Prerelease into '_'; its deb packager leaves both as they are.
func (f NFPMFields) Full(format string) string {
	s := f.Version
	if f.Prerelease != "" {
		pre := f.Prerelease
		if format == "rpm" {
			pre = strings.ReplaceAll(pre, "-", "_")
		}
		s += "~" + pre
	}
	if f.VersionMetadata != "" {
		s += "+" + f.VersionMetadata
	}
	rel := f.Release
	if rel == "" && format == "rpm" {
		rel = DefaultRelease
	}
	if rel != "" {
		s += "-" + rel
	}
	if f.Epoch != "" {
		s = f.Epoch + ":" + s
	}
	return s
}

// CheckRelease reports whether release can be both a Debian revision and an
// rpm Release: it must start with a digit and hold only letters, digits and
// . + ~ (dpkg allows those in a revision; rpm also allows _ % { } ^, dpkg
// does not; neither may contain '-', which would move the split between
// version and release). "" is accepted and means DefaultRelease. Per-distro
// suffixes such as 1.el8 or 1~deb12 pass.
func CheckRelease(release string) error {
	if release == "" {
		return nil
	}
	if !isDigit(rune(release[0])) {
		return fmt.Errorf("package release %q must start with a digit, e.g. 1, 2 or 1.el8", release)
	}
	for i, r := range release {
		if !isAlnum(r) && r != '.' && r != '+' && r != '~' {
			return fmt.Errorf("package release %q: character %q at byte %d is not allowed; a release holds only letters, digits and . + ~ (e.g. 1, 2, 1.el8, 1~deb12)", release, r, i)
		}
	}
	return nil
}

func orDefault(release string) string {
	if release == "" {
		return DefaultRelease
	}
	return release
}

func isDigit(r rune) bool  { return '0' <= r && r <= '9' }
func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isAlnum(r rune) bool  { return isDigit(r) || isLetter(r) }

func hasDigit(s string) bool  { return strings.IndexFunc(s, isDigit) >= 0 }
func hasLetter(s string) bool { return strings.IndexFunc(s, isLetter) >= 0 }
