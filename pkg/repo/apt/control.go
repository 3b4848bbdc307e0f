package apt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"relpack/internal/regular"
	"relpack/internal/xzread"
)

// Field is one field of a control stanza. Value is the text after the
// colon with the blanks around the first line removed; a multi-line value
// (Description, Conffiles) keeps its continuation lines as they were,
// each after a "\n" and starting with a space or tab. A value may start
// with "\n" (an empty first line, as Conffiles has).
type Field struct {
	Name, Value string
}

// Stanza is one control paragraph, its fields in the order they came.
type Stanza []Field

// Get returns the value of the field name (compared case-insensitively,
// as field names are) and whether it is there.
func (s Stanza) Get(name string) (string, bool) {
	for _, f := range s {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// appendTo writes the stanza as deb822 text, each field on its lines,
// without the blank line that ends it.
func (s Stanza) appendTo(b *bytes.Buffer) {
	for _, f := range s {
		b.WriteString(f.Name)
		b.WriteByte(':')
		if f.Value != "" && f.Value[0] != '\n' {
			b.WriteByte(' ')
		}
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
}

// indexFields are the fields an index stanza adds to the deb's own, in
// apt-ftparchive's order. A deb that carries one of them in its control
// file is refused: the index would list it twice, or lie.
var indexFields = []string{"Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512"}

var (
	// Debian policy 5.6.1 (Package) and dpkg's architecture names.
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	archRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// dpkg's version syntax (lib/dpkg/parsehelp.c parseversion): an
	// optional numeric epoch, an upstream part starting with a digit, an
	// optional revision after the last '-'.
	versionRE = regexp.MustCompile(`^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$`)
)

// ParseStanza parses the control file of a binary package: one deb822
// paragraph. Anything that would change the meaning of an index it is
// copied into is refused rather than passed on, for data comes from
// whoever built the deb:
//
//   - control characters (other than tab and the line feeds between
//     lines), carriage returns, invalid UTF-8;
//   - a blank or whitespace-only line inside the paragraph (it would end
//     the stanza in the index and start another, with fields the builder
//     chose), a comment line, a continuation line before the first field;
//   - a field name that is empty, has blanks or characters outside
//     printable ASCII, or starts with '-' or '#'; a field given twice;
//   - a missing or malformed Package, Version or Architecture (the
//     architecture names the index directory, so it must be one word);
//   - any field the index adds itself (Filename, Size, MD5sum, SHA1,
//     SHA256, SHA512).
//
// Errors say what is wrong and on which line of the control file.
func ParseStanza(data []byte) (Stanza, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("the control file is not valid UTF-8")
	}
	// Blank lines around the paragraph are harmless (dpkg-deb writes a
	// final newline); inside it they are not.
	text := strings.TrimLeft(string(data), "\n")
	lead := strings.Count(string(data), "\n") - strings.Count(text, "\n")
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return nil, errors.New("the control file is empty")
	}
	var (
		s    Stanza
		seen = map[string]int{}
	)
	for i, line := range strings.Split(text, "\n") {
		n := lead + i + 1
		for _, r := range line {
			if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
				return nil, fmt.Errorf("line %d holds the control character %U; a control field may hold none", n, r)
			}
		}
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("line %d is blank: a blank line would end the stanza in the repository index and start another; a control file holds one paragraph", n)
		}
		switch line[0] {
		case ' ', '\t':
			if len(s) == 0 {
				return nil, fmt.Errorf("line %d is a continuation line before any field", n)
			}
			s[len(s)-1].Value += "\n" + strings.TrimRight(line, " \t")
			continue
		case '#':
			return nil, fmt.Errorf("line %d is a comment; a binary package's control file has none", n)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d is neither a field (Name: value) nor a continuation line (starting with a space)", n)
		}
		if err := checkFieldName(name); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		key := strings.ToLower(name)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("line %d: field %s is given twice (first on line %d)", n, name, prev)
		}
		seen[key] = n
		s = append(s, Field{Name: name, Value: strings.Trim(value, " \t")})
	}
	for _, f := range indexFields {
		if _, ok := s.Get(f); ok {
			return nil, fmt.Errorf("the control file has a %s field, which only a repository index may set", f)
		}
	}
	for _, c := range []struct {
		name string
		re   *regexp.Regexp
	}{{"Package", packageRE}, {"Version", versionRE}, {"Architecture", archRE}} {
		v, ok := s.Get(c.name)
		if !ok {
			return nil, fmt.Errorf("the control file has no %s field", c.name)
		}
		if !c.re.MatchString(v) {
			return nil, fmt.Errorf("%s %q is not a valid Debian %s (it must match %s)", c.name, v, strings.ToLower(c.name), c.re)
		}
	}
	return s, nil
}

func checkFieldName(name string) error {
	if name == "" {
		return errors.New("a field with no name")
	}
	if name[0] == '-' || name[0] == '#' {
		return fmt.Errorf("field name %q starts with %q", name, name[0])
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("field name %q holds %q; a field name is printable ASCII without blanks", name, c)
		}
	}
	return nil
}

// maxControl bounds the control file (and the control member) read from a
// deb: real ones are a few KiB; a deb that inflates to more is refused
// rather than read into memory.
const maxControl = 4 << 20

// ReadControl reads the control stanza of the deb at path: the ar archive's
// control.tar (uncompressed, .gz, .xz or .zst, as dpkg-deb and nfpm write
// them) and its ./control file, checked by ParseStanza. Errors name path.
func ReadControl(path string) (Stanza, error) {
	f, _, err := regular.Open(path) // a FIFO or device is refused at once
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readControl(f, path)
}

// readControl is ReadControl of an open deb; name names it in errors.
func readControl(r io.Reader, name string) (Stanza, error) {
	data, err := controlFile(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	s, err := ParseStanza(data)
	if err != nil {
		return nil, fmt.Errorf("%s: control file: %v; rebuild the package with clean control fields", name, err)
	}
	return s, nil
}

// controlFile returns ./control of the deb read from r.
func controlFile(r io.Reader) ([]byte, error) {
	const notDeb = "not a Debian binary package"
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, fmt.Errorf("%s (no ar archive header)", notDeb)
	}
	for i := 0; ; i++ {
		var hdr [60]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("%s: no control.tar member", notDeb)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, fmt.Errorf("%s: corrupt ar member header", notDeb)
		}
		name := strings.TrimSuffix(strings.TrimRight(string(hdr[0:16]), " "), "/")
		size, err := strconv.ParseInt(strings.TrimRight(string(hdr[48:58]), " "), 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("%s: corrupt size of ar member %q", notDeb, name)
		}
		body := io.LimitReader(r, size)
		switch {
		case i == 0:
			b, _ := io.ReadAll(io.LimitReader(body, 64))
			if name != "debian-binary" || !bytes.HasPrefix(b, []byte("2.")) {
				return nil, fmt.Errorf("%s: the first member is not debian-binary 2.x", notDeb)
			}
		case strings.HasPrefix(name, "control.tar"):
			if size > maxControl {
				return nil, fmt.Errorf("%s is %d bytes; a control member over %d bytes is refused", name, size, maxControl)
			}
			return controlFromTar(name, body)
		case strings.HasPrefix(name, "_"):
			// debsigs signatures (_gpgorigin) and other private
			// members come before control.tar; dpkg skips them.
		default:
			return nil, fmt.Errorf("%s: member %q comes before control.tar", notDeb, name)
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, err
		}
		if size%2 == 1 {
			if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
				return nil, fmt.Errorf("%s: truncated", notDeb)
			}
		}
	}
}

func controlFromTar(member string, body io.Reader) ([]byte, error) {
	var r io.Reader
	switch member {
	case "control.tar":
		r = body
	case "control.tar.gz":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", member, err)
		}
		defer zr.Close()
		r = zr
	case "control.tar.xz":
		xr, err := xzread.NewReader(body) // not xz.NewReader: a block may claim a 4 GiB dictionary
		if err != nil {
			return nil, fmt.Errorf("%s: %v", member, err)
		}
		r = xr
	case "control.tar.zst":
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", member, err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("control member %q has a compression dpkg does not read", member)
	}
	tr := tar.NewReader(io.LimitReader(r, 16*maxControl))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s has no ./control file", member)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", member, err)
		}
		if strings.TrimPrefix(h.Name, "./") != "control" {
			continue
		}
		if !h.FileInfo().Mode().IsRegular() {
			return nil, fmt.Errorf("%s: ./control is not a regular file", member)
		}
		if h.Size > maxControl {
			return nil, fmt.Errorf("%s: ./control is %d bytes; over %d is refused", member, h.Size, maxControl)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: ./control: %v", member, err)
		}
		return b, nil
	}
}
