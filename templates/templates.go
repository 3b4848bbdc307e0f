// Package templates embeds the text/template sources relpack renders: the
// systemd unit installed by packages, the deb copyright file, the install
// docs and the installer. Values reach every output through the escaping
// functions in Funcs, chosen per output context (Markdown text, a code
// span, a sh word, a systemd setting), so the data stays plain data.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"unicode"
)

//go:embed *.tmpl
var FS embed.FS

// Funcs are the escaping functions every template can call, the embedded
// ones and a --template alike. Each writes one raw value for one context.
var Funcs = template.FuncMap{
	"md":        MarkdownText,
	"code":      CodeSpan,
	"codecell":  CodeCell,
	"codeline":  CodeLine,
	"link":      Autolink,
	"sq":        ShellInSingleQuotes,
	"shq":       ShellQuote,
	"shcomment": ShellComment,
	"unitText":  UnitText,
	"unitExec":  UnitExec,
	"unitArgs":  UnitArgs,
}

// Render executes the named embedded template with data. A Unit is
// checked first (CheckUnitFields), so a value that would change the unit's
// meaning is an error here, not a unit file.
func Render(name string, data any) ([]byte, error) {
	switch u := data.(type) {
	case Unit:
		if err := u.check(); err != nil {
			return nil, err
		}
	case *Unit:
		if err := u.check(); err != nil {
			return nil, err
		}
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(Funcs).ParseFS(FS, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Unit is the data of systemd.service.tmpl. The renderer quotes and
// escapes Description, Binary and Homepage; Args is written as given.
type Unit struct {
	// Description is free text; a % is written as %% so systemd does not
	// read it as a specifier (systemd.unit(5)).
	Description string
	// Binary is the absolute path of the installed binary. It becomes
	// ExecStart's first word: double-quoted when it holds anything but
	// [A-Za-z0-9/._+,:=@~-] (systemd.syntax(7)), with % written as %%.
	Binary string
	// Args is a command-line fragment in systemd's syntax, written by the
	// packager and pasted after the binary as is: quote words with " or '
	// as systemd.syntax(7) says, and write %% for a literal percent sign
	// and $$ for a literal dollar, because systemd expands % specifiers
	// (%h, %n, ...) and $VAR references in it. Control characters (line
	// breaks) are refused: they would add settings to the unit.
	Args     string
	Homepage string
	User     bool // a user unit (systemctl --user) rather than a system one
}

func (u *Unit) check() error {
	if err := CheckUnitFields(u.Description, u.Binary, u.Args); err != nil {
		return err
	}
	if _, err := UnitText(u.Homepage); err != nil {
		return fmt.Errorf("systemd unit: homepage: %w", err)
	}
	return nil
}

// CheckUnitFields tells whether a systemd unit can be rendered from these
// values of packaging.yaml (systemd.description, binary, systemd.args); the
// error names the field and says what to change. Render runs it too; the
// config loader calls it to report the problem at load time.
func CheckUnitFields(description, binary, args string) error {
	if _, err := UnitText(description); err != nil {
		return fmt.Errorf("systemd unit: description: %w", err)
	}
	if _, err := UnitExec(binary); err != nil {
		return fmt.Errorf("systemd unit: binary: %w", err)
	}
	if _, err := UnitArgs(args); err != nil {
		return fmt.Errorf("systemd unit: args: %w", err)
	}
	return nil
}

// unitLine refuses what would end a unit file setting early or join it with
// the next line: control characters (a line break starts a new setting)
// and a trailing backslash (a line continuation).
func unitLine(s string) error {
	if r, ok := controlChar(s); ok {
		return fmt.Errorf("%q holds the control character %U; a unit setting is one line", s, r)
	}
	if strings.HasSuffix(s, `\`) {
		return fmt.Errorf("%q ends in a backslash, which systemd reads as a line continuation", s)
	}
	return nil
}

// UnitText writes free text (Description=, Documentation=) for a unit
// file: % becomes %%, so systemd prints it rather than expanding a
// specifier. Line breaks and a trailing backslash are errors.
func UnitText(s string) (string, error) {
	if err := unitLine(s); err != nil {
		return "", err
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

// unitBareRE is a word systemd reads as itself, unquoted.
var unitBareRE = regexp.MustCompile(`^[A-Za-z0-9/._+,:=@~-]+$`)

// UnitExec writes path as the first word of ExecStart=: quoted as one
// systemd command-line word when it needs to be (double quotes, with \\ and
// \" inside, systemd.syntax(7)), then % written as %% (systemd expands
// specifiers in ExecStart). It must be absolute (a relative first word
// could read as a prefix such as - or @), and may not hold $ (systemd
// expands $VAR in argv but not in the path it executes, so no escaping
// gives the same file in both) nor quotes or backslashes (systemd refuses
// them in an executable's path).
func UnitExec(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("empty: give the absolute path of the installed binary")
	}
	if err := unitLine(path); err != nil {
		return "", err
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("%q is not an absolute path (ExecStart needs one, e.g. /usr/bin/NAME)", path)
	}
	if strings.Contains(path, "$") {
		return "", fmt.Errorf("%q holds $, which systemd would read as a variable reference in ExecStart", path)
	}
	if strings.ContainsAny(path, "\"'\\\x7f") {
		// systemd refuses them in an executable path ("Executable name
		// contains special characters"), however they are quoted.
		return "", fmt.Errorf("%q holds a quote or a backslash, which systemd refuses in the path of an executable", path)
	}
	w := path
	if !unitBareRE.MatchString(path) {
		w = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(path) + `"`
	}
	return strings.ReplaceAll(w, "%", "%%"), nil
}

// UnitArgs checks the packager's ExecStart arguments and returns them
// unchanged: they are systemd syntax already (see Unit.Args).
func UnitArgs(args string) (string, error) {
	if err := unitLine(args); err != nil {
		return "", err
	}
	return args, nil
}

// controlChar finds a control character, including the Unicode line and
// paragraph separators.
func controlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// noControl replaces control characters with repl.
func noControl(s string, repl rune) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return repl
		}
		return r
	}, s)
}

// mdInline are the characters that start or end inline Markdown
// (emphasis, code, links, raw HTML, table cells, strikethrough): escaped
// wherever they appear, but for _ inside a word (x86_64), which CommonMark
// never reads as emphasis.
const mdInline = "\\`*_[]<>|~"

// mdBlockRE is the start of a line that would make it a block: a
// heading, a quote, a list item, a thematic break or setext underline
// (fences start with ` or ~, which are escaped anyway). mdOrderedRE is an
// ordered-list marker, whose delimiter is the character to escape.
var (
	mdBlockRE   = regexp.MustCompile(`^(#{1,6}( |$)|[-+]( |$)|[-=]{2,})`)
	mdOrderedRE = regexp.MustCompile(`^[0-9]{1,9}[.)]( |$)`)
)

// MarkdownText writes free text (a summary, a distro name, a license) for
// Markdown: control characters and line breaks become spaces (a line
// break would start a heading or a list), leading spaces go (four make a
// code block), inline metacharacters are backslash-escaped, and so is the
// marker of a block (# heading, - list, 1. list, ---) that the text would
// start if it began a line.
func MarkdownText(s string) string {
	s = strings.TrimLeft(noControl(s, ' '), " ")
	escapeAt := -1
	if m := mdOrderedRE.FindString(s); m != "" {
		escapeAt = len(strings.TrimSuffix(m, " ")) - 1
	} else if mdBlockRE.MatchString(s) {
		escapeAt = 0
	}
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		intraword := r == '_' && i > 0 && i+1 < len(rs) && isWordRune(rs[i-1]) && isWordRune(rs[i+1])
		if i == escapeAt || (strings.ContainsRune(mdInline, r) && !intraword) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// CodeSpan writes s as an inline code span: fenced by one backtick more
// than the longest run inside it, padded when it starts or ends with one;
// control characters become spaces.
func CodeSpan(s string) string {
	s = noControl(s, ' ')
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// CodeCell is CodeSpan for a table cell: a | would end the cell even in a
// code span (GitHub tables), so it is escaped.
func CodeCell(s string) string {
	return strings.ReplaceAll(CodeSpan(s), "|", `\|`)
}

// CodeLine writes s as one line of a fenced code block: control characters
// become ?, and a line that would close the fence (``` or ~~~) is indented
// by four spaces, which no closing fence may be.
func CodeLine(s string) string {
	s = noControl(s, '?')
	if t := strings.TrimLeft(s, " "); strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
		s = "    " + s
	}
	return s
}

// autolinkRE is a URL that can stand inside <...> (CommonMark autolink).
var autolinkRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\x00-\x20<>` + "`" + `"\\]*$`)

// Autolink writes a URL as <URL>, or as escaped text when it could not be
// one.
func Autolink(url string) string {
	if autolinkRE.MatchString(url) {
		return "<" + url + ">"
	}
	return MarkdownText(url)
}

// shBareRE is a word sh reads as itself: no quoting, globbing, expansion
// or tilde (a ~ only expands at the start of a word).
var shBareRE = regexp.MustCompile(`^[A-Za-z0-9._+/:@,=%-][A-Za-z0-9._+/:@,=%~-]*$`)

// ShellQuote writes s as one sh word: as is when nothing in it is special,
// else single-quoted (each ' inside closes the quotes, adds \' and
// reopens them).
func ShellQuote(s string) string {
	if shBareRE.MatchString(s) {
		return s
	}
	return "'" + ShellInSingleQuotes(s) + "'"
}

// ShellInSingleQuotes writes s for the inside of a single-quoted sh
// string: each ' closes the quotes, adds an escaped quote and reopens.
func ShellInSingleQuotes(s string) string {
	return strings.ReplaceAll(s, "'", `'\''`)
}

// ShellComment writes s into a # comment: a line break would end the
// comment and run the rest, so control characters become ?.
func ShellComment(s string) string {
	return noControl(s, '?')
}

// Copyright is the data of deb-copyright.tmpl: a machine-readable
// debian/copyright (DEP-5) for /usr/share/doc/NAME/copyright.
type Copyright struct {
	Name, Maintainer, Homepage, Copyright, License string
	// CommonLicense names the file under /usr/share/common-licenses that
	// holds the license text; Debian policy 12.5 says to refer to it
	// rather than repeat the text (lintian errors otherwise).
	CommonLicense string
	// Text is the license text, already indented for a DEP-5 field
	// (one space, "." for empty lines); used when CommonLicense is "".
	Text string
}
