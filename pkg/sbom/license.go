package sbom

import (
	"fmt"
	"strconv"
	"strings"
)

// checkLicense checks that s is an SPDX license expression (SPDX 2.3,
// Annex D): license ids (with an optional "+"), LicenseRef-s and
// DocumentRef-...:LicenseRef-s, joined by AND and OR, an id followed by
// WITH and an exception id, and parentheses. Operators are upper case, as
// the annex writes them. The ids are not held to the SPDX license list:
// the list grows with every release of it, and packaging.yaml's author
// answers for the id; the grammar is what a reader's parser needs.
func checkLicense(s string) error {
	toks, err := licenseTokens(s)
	if err != nil {
		return fmt.Errorf("license %s: %w", strconv.Quote(s), err)
	}
	p := &licenseParser{toks: toks}
	if err := p.compound(); err != nil {
		return fmt.Errorf("license %s is not an SPDX license expression: %w", strconv.Quote(s), err)
	}
	if p.i < len(p.toks) {
		return fmt.Errorf("license %s is not an SPDX license expression: %q where the expression should end", strconv.Quote(s), p.toks[p.i])
	}
	return nil
}

// licenseTokens splits an expression into words and parentheses.
func licenseTokens(s string) ([]string, error) {
	var toks []string
	word := func(i, j int) {
		if j > i {
			toks = append(toks, s[i:j])
		}
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			word(start, i)
			start = i + 1
		case c == '(' || c == ')':
			word(start, i)
			toks = append(toks, s[i:i+1])
			start = i + 1
		case isIDByte(c) || c == '+' || c == ':':
		default:
			return nil, fmt.Errorf("%s is not a character of an SPDX license expression", strconv.QuoteRune(rune(c)))
		}
	}
	word(start, len(s))
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty")
	}
	return toks, nil
}

// isIDByte: the characters of an SPDX idstring.
func isIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

type licenseParser struct {
	toks []string
	i    int
}

func (p *licenseParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// compound := and-expression { "OR" and-expression }
func (p *licenseParser) compound() error { return p.joined("OR", p.and) }

// and := term { "AND" term }
func (p *licenseParser) and() error { return p.joined("AND", p.term) }

// joined reads one or more of next, separated by op.
func (p *licenseParser) joined(op string, next func() error) error {
	if err := next(); err != nil {
		return err
	}
	for p.peek() == op {
		p.i++
		if err := next(); err != nil {
			return err
		}
	}
	return nil
}

// term := "(" compound ")" | simple [ "WITH" exception-id ]
func (p *licenseParser) term() error {
	t := p.peek()
	switch t {
	case "":
		return fmt.Errorf("it ends where a license id should be")
	case "(":
		p.i++
		if err := p.compound(); err != nil {
			return err
		}
		if p.peek() != ")" {
			return fmt.Errorf("a \"(\" is not closed")
		}
		p.i++
		return nil
	}
	if err := simpleLicense(t); err != nil {
		return err
	}
	p.i++
	if p.peek() == "WITH" {
		p.i++
		e := p.peek()
		if !isIDString(e) || isOperator(e) {
			return fmt.Errorf("WITH is followed by %q, not an exception id", e)
		}
		p.i++
	}
	return nil
}

// simpleLicense := idstring ["+"] | "LicenseRef-" idstring |
// "DocumentRef-" idstring ":LicenseRef-" idstring
func simpleLicense(t string) error {
	if isOperator(t) || t == ")" {
		return fmt.Errorf("%q where a license id should be", t)
	}
	if doc, ref, ok := strings.Cut(t, ":"); ok {
		if !strings.HasPrefix(doc, "DocumentRef-") || !isIDString(doc) || !strings.HasPrefix(ref, "LicenseRef-") || !isIDString(ref) {
			return fmt.Errorf("%q is not DocumentRef-ID:LicenseRef-ID", t)
		}
		return nil
	}
	id := strings.TrimSuffix(t, "+")
	if !isIDString(id) || strings.HasPrefix(id, "LicenseRef-") && id != t {
		return fmt.Errorf("%q is not a license id", t)
	}
	return nil
}

func isOperator(t string) bool { return t == "AND" || t == "OR" || t == "WITH" }

// isIDString: one or more idstring characters.
func isIDString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDByte(s[i]) {
			return false
		}
	}
	return true
}
