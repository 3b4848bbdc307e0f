package apt

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

const goodControl = "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: A <a@example.org>\nDescription: demo\n A demo.\n .\n More.\n"

// TestParseStanzaHostile feeds control files that would break or forge a
// Packages stanza, and checks each is refused with a message saying why.
func TestParseStanzaHostile(t *testing.T) {
	for _, c := range []struct {
		name, control, want string
	}{
		{"blank line starts a forged stanza", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: libc6\nVersion: 99\n", "line 4 is blank"},
		{"whitespace-only line", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nDescription: x\n \t\n y\n", "line 5 is blank"},
		{"carriage return", "Package: demo\r\nVersion: 1.0-1\nArchitecture: amd64\n", "control character U+000D"},
		{"NUL", "Package: demo\nVersion: 1.0-1\x00\nArchitecture: amd64\n", "U+0000"},
		{"escape sequence", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nDescription: \x1b[31mred\n", "U+001B"},
		{"DEL", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nX: \x7f\n", "U+007F"},
		{"C1 control", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nX: \u0085\n", "U+0085"},
		{"invalid UTF-8", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nX: \xff\n", "not valid UTF-8"},
		{"continuation first", " Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n", "continuation line before any field"},
		{"line without colon", "Package: demo\nVersion: 1.0-1\nArchitecture amd64\n", "line 3 is neither a field"},
		{"comment", "Package: demo\n# hi\nVersion: 1.0-1\nArchitecture: amd64\n", "comment"},
		{"blank in field name", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nMy Field: x\n", "printable ASCII without blanks"},
		{"empty field name", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n: x\n", "no name"},
		{"field name starting with -", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n-X: x\n", "starts with"},
		{"duplicate field, other case", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\npackage: libc6\n", "field package is given twice (first on line 1)"},
		{"forged Filename", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nFilename: pool/evil.deb\n", "Filename field"},
		{"forged SHA256", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nSHA256: 00\n", "SHA256 field"},
		{"forged MD5sum other case", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nMD5Sum: 00\n", "MD5sum field"},
		{"no Package", "Version: 1.0-1\nArchitecture: amd64\n", "no Package field"},
		{"bad Package", "Package: Demo_x\nVersion: 1.0-1\nArchitecture: amd64\n", "Package \"Demo_x\" is not a valid"},
		{"Version with blank", "Package: demo\nVersion: 1.0 -1\nArchitecture: amd64\n", "Version \"1.0 -1\""},
		{"Version not starting with a digit", "Package: demo\nVersion: v1.0\nArchitecture: amd64\n", "Version \"v1.0\""},
		{"Architecture path", "Package: demo\nVersion: 1.0-1\nArchitecture: ../../x\n", "Architecture \"../../x\""},
		{"two Architectures", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64 arm64\n", "Architecture \"amd64 arm64\""},
		{"multi-line Architecture", "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n arm64\n", "Architecture \"amd64\\n arm64\""},
		{"empty", "\n\n", "empty"},
	} {
		_, err := ParseStanza([]byte(c.control))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

func TestParseStanzaKeepsFields(t *testing.T) {
	s, err := ParseStanza([]byte("\n" + goodControl + "Conffiles:\n /etc/demo.conf 0123\nX-Tab:\tv  \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Stanza{{"Package", "demo"}, {"Version", "1.0-1"}, {"Architecture", "amd64"},
		{"Maintainer", "A <a@example.org>"}, {"Description", "demo\n A demo.\n .\n More."},
		{"Conffiles", "\n /etc/demo.conf 0123"}, {"X-Tab", "v"}}
	if len(s) != len(want) {
		t.Fatalf("got %q", s)
	}
	for i := range want {
		if s[i] != want[i] {
			t.Errorf("field %d: got %q, want %q", i, s[i], want[i])
		}
	}
	var buf bytes.Buffer
	s.appendTo(&buf)
	if got := buf.String(); got != goodControl+"Conffiles:\n /etc/demo.conf 0123\nX-Tab: v\n" {
		t.Errorf("rendered:\n%s", got)
	}
}

// TestReadControlHostileDebNamed: a deb with a hostile control file is
// refused, naming the file and the fix.
func TestReadControlHostileDebNamed(t *testing.T) {
	dir := t.TempDir()
	p := handDeb(t, dir, "evil_1.0_amd64.deb", []byte("Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: libc6\n"))
	_, err := ReadControl(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "rebuild the package") {
		t.Errorf("ReadControl: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.deb"), []byte("!<arch>\nnot really"), 0o644)
	if _, err := ReadControl(filepath.Join(dir, "x.deb")); err == nil || !strings.Contains(err.Error(), "x.deb") {
		t.Errorf("ReadControl of a broken ar: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "y.deb"), []byte("PK\x03\x04"), 0o644)
	if _, err := ReadControl(filepath.Join(dir, "y.deb")); err == nil || !strings.Contains(err.Error(), "not a Debian binary package") {
		t.Errorf("ReadControl of a zip: %v", err)
	}
}

// TestReadControlCompressions: for every control.tar compression dpkg-deb
// writes (and so any deb builder may), ReadControl reads what dpkg-deb -f
// reads.
func TestReadControlCompressions(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "ar")
	for _, z := range []string{"gzip", "xz", "zstd", "none"} {
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755)
		os.MkdirAll(filepath.Join(src, "usr/share/doc/demo"), 0o755)
		os.WriteFile(filepath.Join(src, "usr/share/doc/demo/README"), []byte("hi\n"), 0o644)
		os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte(goodControl), 0o644)
		deb := filepath.Join(dir, "demo.deb")
		if o, err := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+z, "--build", src, deb).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -Z%s: %v\n%s", z, err, o)
		}
		members, _ := exec.Command("ar", "t", deb).Output()
		s, err := ReadControl(deb)
		if err != nil {
			t.Fatalf("-Z%s (%s): %v", z, strings.Fields(string(members)), err)
		}
		want, err := exec.Command("dpkg-deb", "-f", deb).Output()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		s.appendTo(&buf)
		if buf.String() != string(want) {
			t.Errorf("-Z%s (%s): ReadControl gives\n%s\ndpkg-deb -f gives\n%s", z, strings.Fields(string(members)), buf.String(), want)
		}
	}
}
