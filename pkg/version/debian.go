package version

import "strings"

// CompareDebian compares two Debian package versions
// ([epoch:]upstream[-revision]) the way dpkg --compare-versions does:
// negative when a sorts before b, zero when equal, positive after. It is
// dpkg's verrevcmp (lib/dpkg/version.c), for what must list versions in
// dpkg's order (an apt Packages file, pkg/repo/apt):
// '~' before everything, even the end; letters before other characters;
// runs of digits compared as numbers.
func CompareDebian(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if c := compareNumbers(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// splitVersion splits [epoch:]upstream[-revision]: the epoch before the
// first ':', the revision after the last '-'.
func splitVersion(v string) (epoch, upstream, revision string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v, revision = v[:i], v[i+1:]
	}
	return epoch, v, revision
}

// order is dpkg's weight of a non-digit character.
func order(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func verrevcmp(a, b string) int {
	at := func(s string, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for i < len(a) && !isDigit(rune(a[i])) || j < len(b) && !isDigit(rune(b[j])) {
			ac, bc := order(at(a, i)), order(at(b, j))
			if i < len(a) && isDigit(rune(a[i])) {
				ac = 0
			}
			if j < len(b) && isDigit(rune(b[j])) {
				bc = 0
			}
			if ac != bc {
				return ac - bc
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(rune(a[i])) && j < len(b) && isDigit(rune(b[j])) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(rune(a[i])) {
			return 1
		}
		if j < len(b) && isDigit(rune(b[j])) {
			return -1
		}
		if firstDiff != 0 {
			return firstDiff
		}
	}
	return 0
}

// compareNumbers compares two epochs (digit strings, "" meaning 0) as
// numbers of any length.
func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
