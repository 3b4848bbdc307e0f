package abi

import (
	"strings"
)

// Special version names that carry no number. The loader treats them like
// any other version node, but they say something a number cannot.
const (
	// GLIBCPrivate marks glibc's internal interfaces: they change with every
	// glibc build, so a binary needing one runs only on the glibc it was
	// linked against. No floor can be promised for it.
	GLIBCPrivate = "GLIBC_PRIVATE"
	// GLIBCABIDTRelr is needed by objects linked with -z pack-relative-relocs
	// (DT_RELR); only glibc 2.36 and later define it.
	GLIBCABIDTRelr = "GLIBC_ABI_DT_RELR"
)

// SplitVersionName splits a version node name such as "GLIBC_2.2.5" into its
// family ("GLIBC") and dotted number ("2.2.5"). The family is everything
// before the last underscore that is followed by a dotted number, so
// "CXXABI_TM_1" is family "CXXABI_TM", version "1". Names without such a
// suffix (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR, LIBSELINUX_1.0a) return ok=false.
func SplitVersionName(name string) (family, number string, ok bool) {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 {
		return "", "", false
	}
	num := name[i+1:]
	if !isDottedNumber(num) {
		return "", "", false
	}
	return name[:i], num, true
}

func isDottedNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// CompareVersions compares two dotted numbers component by component, the
// way the families' maintainers order them: 2.2.5 < 2.3 < 2.17 < 2.28 < 2.29.
// A missing component counts as 0, so "2.28" == "2.28.0". It returns -1, 0
// or +1. Components that are not numbers compare as 0; callers validate with
// ValidVersion first where input comes from a user.
//
// Components are compared as decimal strings, not parsed: a version name
// comes from the file, and GLIBC_99999999999999999999 overflows uint64. A
// parse that failed to 0 would rank it below every floor and let the file
// pass verify.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	n := max(len(as), len(bs))
	for i := 0; i < n; i++ {
		var x, y string
		if i < len(as) {
			x = decimal(as[i])
		}
		if i < len(bs) {
			y = decimal(bs[i])
		}
		// Without leading zeros, a longer number is a larger one.
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// decimal returns s without leading zeros, or "" (zero) when s is zero or
// not a decimal number.
func decimal(s string) string {
	for _, c := range s {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return strings.TrimLeft(s, "0")
}

// ValidVersion reports whether s is a dotted number such as "2.28".
func ValidVersion(s string) bool { return isDottedNumber(s) }
