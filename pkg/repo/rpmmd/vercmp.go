package rpmmd

import "strings"

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// rpmvercmp is rpm's version segment comparison (rpmio/rpmvercmp.c):
// -1, 0 or 1. Alphanumeric segments are compared in turn, numeric ones as
// numbers, a numeric one above an alphabetic one; '~' sorts before
// anything, even the end of the string, '^' after the end but before
// anything else.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	one, two := a, b
	for len(one) > 0 || len(two) > 0 {
		for len(one) > 0 && !isAlnum(one[0]) && one[0] != '~' && one[0] != '^' {
			one = one[1:]
		}
		for len(two) > 0 && !isAlnum(two[0]) && two[0] != '~' && two[0] != '^' {
			two = two[1:]
		}
		c1, c2 := at(one), at(two)
		if c1 == '~' || c2 == '~' {
			if c1 != '~' {
				return 1
			}
			if c2 != '~' {
				return -1
			}
			one, two = one[1:], two[1:]
			continue
		}
		if c1 == '^' || c2 == '^' {
			if len(one) == 0 {
				return -1
			}
			if len(two) == 0 {
				return 1
			}
			if c1 != '^' {
				return 1
			}
			if c2 != '^' {
				return -1
			}
			one, two = one[1:], two[1:]
			continue
		}
		if len(one) == 0 || len(two) == 0 {
			break
		}
		var s1, s2 string
		isnum := isDigit(one[0])
		if isnum {
			s1, s2 = span(one, isDigit), span(two, isDigit)
		} else {
			s1, s2 = span(one, isAlpha), span(two, isAlpha)
		}
		if len(s2) == 0 {
			if isnum {
				return 1
			}
			return -1
		}
		rest1, rest2 := one[len(s1):], two[len(s2):]
		if isnum {
			s1, s2 = strings.TrimLeft(s1, "0"), strings.TrimLeft(s2, "0")
			if len(s1) > len(s2) {
				return 1
			}
			if len(s2) > len(s1) {
				return -1
			}
		}
		if c := strings.Compare(s1, s2); c != 0 {
			return c
		}
		one, two = rest1, rest2
	}
	if len(one) == 0 && len(two) == 0 {
		return 0
	}
	if len(one) == 0 {
		return -1
	}
	return 1
}

func at(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

func span(s string, ok func(byte) bool) string {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return s[:i]
}
