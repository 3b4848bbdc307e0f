package components

import (
	"fmt"
	"strconv"
	"strings"
)

// checkWord checks that s is 1 to max bytes, each one allowed by ok. Every
// string read from a binary passes here before it reaches a caller, which
// puts it in JSON, Markdown and purls: none holds a control character, a
// quote, a space or markup.
func checkWord(what, s string, max int, ok func(byte) bool) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if len(s) > max {
		return fmt.Errorf("%s of %d bytes, more than %d", what, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return fmt.Errorf("%s %s holds %s", what, quoteShort(s), strconv.QuoteRune(rune(s[i])))
		}
	}
	return nil
}

// quoteShort quotes a value for a message, cut to 80 bytes: the value is
// attacker-controlled and may be long.
func quoteShort(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "..."
	}
	return strconv.Quote(s)
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// isCrateNameByte: crates.io's rule for crate names (ASCII letters,
// digits, '-' and '_').
func isCrateNameByte(b byte) bool { return isAlnum(b) || b == '-' || b == '_' }

// isSemverByte: the characters of a semantic version with pre-release and
// build metadata ("1.0.0-rc.1+build.5").
func isSemverByte(b byte) bool { return isAlnum(b) || b == '.' || b == '-' || b == '+' }

// isSourceByte: "crates.io", "git", "local", "registry", and room for
// other words of the same shape.
func isSourceByte(b byte) bool { return isAlnum(b) || b == '.' || b == '-' || b == '_' }

// isModulePathByte: the characters Go allows in a module path element
// (golang.org/x/mod/module.CheckPath: ASCII letters, digits, "-._~"),
// and the '/' between elements.
func isModulePathByte(b byte) bool {
	return isAlnum(b) || strings.IndexByte("-._~/", b) >= 0
}

// isModuleVersionByte: a semantic version with a "v", a pseudo-version,
// "+incompatible", and "(devel)".
func isModuleVersionByte(b byte) bool { return isSemverByte(b) || b == '(' || b == ')' }

// isDirByte: a directory a go.mod replace names ("./greet", "../x",
// "/src/y"), without spaces or quotes.
func isDirByte(b byte) bool { return isModulePathByte(b) || b == '+' || b == '@' }

// isSumByte: a go.sum hash, "h1:" and base64.
func isSumByte(b byte) bool { return isAlnum(b) || b == ':' || b == '+' || b == '/' || b == '=' }

// isToolchainByte: "go1.26.8", "go1.26.8 X:boringcrypto", "devel go1.27-abc".
func isToolchainByte(b byte) bool {
	return isAlnum(b) || strings.IndexByte(" .-_+:,", b) >= 0
}

// purlEscape percent-encodes a purl name, namespace segment or version:
// everything but ASCII letters, digits and ".-_~" (the purl spec's
// unreserved characters), so "+incompatible" becomes "%2Bincompatible".
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte(".-_~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
