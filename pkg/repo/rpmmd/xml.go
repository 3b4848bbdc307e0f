package rpmmd

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// XML namespaces of rpm-md (createrepo_c's xml_dump*.c).
const (
	nsCommon    = "http://linux.duke.edu/metadata/common"
	nsRPM       = "http://linux.duke.edu/metadata/rpm"
	nsFilelists = "http://linux.duke.edu/metadata/filelists"
	nsOther     = "http://linux.duke.edu/metadata/other"
	nsRepo      = "http://linux.duke.edu/metadata/repo"
)

// clean makes s fit for XML 1.0 or says why it cannot be. A control
// character other than tab, newline and carriage return (and the
// non-characters U+FFFE and U+FFFF) has no representation in XML 1.0,
// not even as a character reference: refused, as createrepo_c refuses
// such a package. A string that is not UTF-8 is read as Latin-1 and
// converted, as createrepo_c does (cr_latin1_to_utf8, which drops the C1
// range).
func clean(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return "", fmt.Errorf("control character %#02x at byte %d, which XML 1.0 cannot carry", c, i)
		}
	}
	if !utf8.ValidString(s) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c < 0x80:
				b.WriteByte(c)
			case c < 0xc0: // C1 controls and stray bytes: dropped
			default:
				b.WriteRune(rune(c))
			}
		}
		s = b.String()
	}
	if i := strings.IndexAny(s, "\uFFFE\uFFFF"); i >= 0 {
		return "", fmt.Errorf("the non-character %U at byte %d, which XML 1.0 cannot carry", []rune(s[i:])[0], i)
	}
	return s, nil
}

// check cleans every string of m that reaches the XML (clean), naming
// the field of a refused one.
func (m *Meta) check() error {
	var err error
	fix := func(what string, p *string) {
		if err != nil {
			return
		}
		s, e := clean(*p)
		if e != nil {
			err = fmt.Errorf("%s %q: %w; rebuild the package without it", what, *p, e)
			return
		}
		*p = s
	}
	for _, f := range []struct {
		what string
		p    *string
	}{
		{"package name", &m.Name}, {"arch", &m.Arch}, {"epoch", &m.Epoch}, {"version", &m.Version},
		{"release", &m.Release}, {"summary", &m.Summary}, {"description", &m.Description},
		{"packager", &m.Packager}, {"url", &m.URL}, {"license", &m.License}, {"vendor", &m.Vendor},
		{"group", &m.Group}, {"build host", &m.BuildHost}, {"source rpm", &m.SourceRPM}, {"location", &m.Href},
	} {
		fix(f.what, f.p)
	}
	for _, l := range []struct {
		what string
		deps []Dep
	}{
		{"provides", m.Provides}, {"requires", m.Requires}, {"conflicts", m.Conflicts}, {"obsoletes", m.Obsoletes},
		{"suggests", m.Suggests}, {"enhances", m.Enhances}, {"recommends", m.Recommends}, {"supplements", m.Supplements},
	} {
		for i := range l.deps {
			d := &l.deps[i]
			fix(l.what+" name", &d.Name)
			fix(l.what+" "+d.Name+" epoch", &d.Epoch)
			fix(l.what+" "+d.Name+" version", &d.Ver)
			fix(l.what+" "+d.Name+" release", &d.Rel)
		}
	}
	for i := range m.Files {
		fix("file name", &m.Files[i].Path)
	}
	for i := range m.Changelogs {
		fix("changelog author", &m.Changelogs[i].Author)
		fix("changelog text", &m.Changelogs[i].Text)
	}
	return err
}

// escText escapes s for element content as libxml2 writes it: the markup
// characters, and carriage return as a reference (a literal one would be
// read back as a newline).
func escText(s string) string {
	return textEscaper.Replace(s)
}

// escAttr escapes s for a double-quoted attribute value: also the quote,
// and tab and newline as references (a parser turns literal ones into
// spaces).
func escAttr(s string) string {
	return attrEscaper.Replace(s)
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "\r", "&#13;", "\n", "&#10;", "\t", "&#9;")
)

// xw writes XML the way createrepo_c lays it out.
type xw struct{ strings.Builder }

func (w *xw) line(indent int, s string) {
	for range indent {
		w.WriteString("  ")
	}
	w.WriteString(s)
	w.WriteByte('\n')
}

// elem writes <name>text</name>.
func (w *xw) elem(indent int, name, text string) {
	w.line(indent, "<"+name+">"+escText(text)+"</"+name+">")
}

// attrs renders name="value" pairs (kv alternates names and values).
func attrs(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(" " + kv[i] + "=\"" + escAttr(kv[i+1]) + "\"")
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (w *xw) deps(name string, deps []Dep, requires bool) {
	if len(deps) == 0 {
		return
	}
	w.line(2, "<rpm:"+name+">")
	for _, d := range deps {
		if d.Name == "" {
			continue // createrepo_c skips a nameless entry
		}
		kv := []string{"name", d.Name}
		if d.Flags != "" {
			kv = append(kv, "flags", d.Flags)
			for _, a := range [][2]string{{"epoch", d.Epoch}, {"ver", d.Ver}, {"rel", d.Rel}} {
				if a[1] != "" {
					kv = append(kv, a[0], a[1])
				}
			}
		}
		if requires && d.Pre {
			kv = append(kv, "pre", "1")
		}
		w.line(3, "<rpm:entry"+attrs(kv...)+"/>")
	}
	w.line(2, "</rpm:"+name+">")
}

func (w *xw) files(indent int, files []File, primaryOnly bool) {
	for _, f := range files {
		if primaryOnly && !isPrimary(f.Path) {
			continue
		}
		a := ""
		if f.Type != "" {
			a = attrs("type", f.Type)
		}
		w.line(indent, "<file"+a+">"+escText(f.Path)+"</file>")
	}
}

func (w *xw) version(indent int, m *Meta) {
	w.line(indent, "<version"+attrs("epoch", m.Epoch, "ver", m.Version, "rel", m.Release)+"/>")
}

const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>`

// primaryXML is primary.xml: everything a client resolves with, and the
// files under /etc and */bin/.
func primaryXML(pkgs []*Meta) []byte {
	var w xw
	w.line(0, xmlDecl)
	w.line(0, "<metadata"+attrs("xmlns", nsCommon, "xmlns:rpm", nsRPM, "packages", strconv.Itoa(len(pkgs)))+">")
	for _, m := range pkgs {
		w.line(0, `<package type="rpm">`)
		w.elem(1, "name", m.Name)
		w.elem(1, "arch", m.Arch)
		w.version(1, m)
		w.line(1, `<checksum type="sha256" pkgid="YES">`+m.Checksum+`</checksum>`)
		w.elem(1, "summary", m.Summary)
		w.elem(1, "description", m.Description)
		w.elem(1, "packager", m.Packager)
		w.elem(1, "url", m.URL)
		w.line(1, "<time"+attrs("file", itoa(m.TimeFile), "build", itoa(m.TimeBuild))+"/>")
		w.line(1, "<size"+attrs("package", itoa(m.SizePackage), "installed", itoa(m.SizeInstalled), "archive", itoa(m.SizeArchive))+"/>")
		w.line(1, "<location"+attrs("href", m.Href)+"/>")
		w.line(1, "<format>")
		w.elem(2, "rpm:license", m.License)
		w.elem(2, "rpm:vendor", m.Vendor)
		w.elem(2, "rpm:group", m.Group)
		w.elem(2, "rpm:buildhost", m.BuildHost)
		w.elem(2, "rpm:sourcerpm", m.SourceRPM)
		w.line(2, "<rpm:header-range"+attrs("start", itoa(m.HeaderStart), "end", itoa(m.HeaderEnd))+"/>")
		w.deps("provides", m.Provides, false)
		w.deps("requires", m.Requires, true)
		w.deps("conflicts", m.Conflicts, false)
		w.deps("obsoletes", m.Obsoletes, false)
		w.deps("suggests", m.Suggests, false)
		w.deps("enhances", m.Enhances, false)
		w.deps("recommends", m.Recommends, false)
		w.deps("supplements", m.Supplements, false)
		w.files(2, m.Files, true)
		w.line(1, "</format>")
		w.line(0, "</package>")
	}
	w.WriteString("</metadata>") // no final newline, as createrepo_c
	return []byte(w.String())
}

// filelistsXML is filelists.xml: every file of every package.
func filelistsXML(pkgs []*Meta) []byte {
	var w xw
	w.line(0, xmlDecl)
	w.line(0, "<filelists"+attrs("xmlns", nsFilelists, "packages", strconv.Itoa(len(pkgs)))+">")
	for _, m := range pkgs {
		w.line(0, "<package"+attrs("pkgid", m.Checksum, "name", m.Name, "arch", m.Arch)+">")
		w.version(1, m)
		w.files(1, m.Files, false)
		w.line(0, "</package>")
	}
	w.WriteString("</filelists>") // no final newline, as createrepo_c
	return []byte(w.String())
}

// otherXML is other.xml: the changelogs.
func otherXML(pkgs []*Meta) []byte {
	var w xw
	w.line(0, xmlDecl)
	w.line(0, "<otherdata"+attrs("xmlns", nsOther, "packages", strconv.Itoa(len(pkgs)))+">")
	for _, m := range pkgs {
		w.line(0, "<package"+attrs("pkgid", m.Checksum, "name", m.Name, "arch", m.Arch)+">")
		w.version(1, m)
		for _, c := range m.Changelogs {
			w.line(1, "<changelog"+attrs("author", c.Author, "date", itoa(c.Date))+">"+escText(c.Text)+"</changelog>")
		}
		w.line(0, "</package>")
	}
	w.WriteString("</otherdata>") // no final newline, as createrepo_c
	return []byte(w.String())
}
