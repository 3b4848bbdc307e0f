package templates

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

func TestRenderUnit(t *testing.T) {
	out, err := Render("systemd.service.tmpl", Unit{Description: "Gateway", Binary: "/usr/bin/gw", Args: "--serve", Homepage: "https://example.org", User: true})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"ExecStart=/usr/bin/gw --serve\n", "WantedBy=default.target\n", "Description=Gateway\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("unit lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasPrefix(s, "[Unit]\n") {
		t.Errorf("unit does not start with [Unit]:\n%s", s)
	}
	if strings.Contains(s, "DynamicUser") {
		t.Error("a user unit cannot use DynamicUser")
	}
	if _, err := Render("nope.tmpl", nil); err == nil {
		t.Error("missing template must be an error")
	}
}

// unitFile is a unit file read back the way systemd reads it
// (systemd.syntax(7)): sections of key=value lines, # and ; comments,
// a trailing backslash joins the next line.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, text string) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	var cont string
	for n, line := range strings.Split(text, "\n") {
		line = cont + line
		cont = ""
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		l := strings.TrimSpace(line)
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			if !strings.HasSuffix(l, "]") {
				t.Fatalf("line %d: bad section header %q", n+1, l)
			}
			section = l[1 : len(l)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || section == "" {
				t.Fatalf("line %d: not a setting: %q", n+1, l)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u
}

// specifiers resolves % specifiers; the units here use only %%.
func specifiers(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends in a lone %%", s)
		}
		return "", fmt.Errorf("%q uses the specifier %%%c", s, s[i+1])
	}
	return b.String(), nil
}

// execWords splits an ExecStart= value into words as systemd does
// (extract_first_word with unquoting and C unescapes), then resolves the
// specifiers of each word.
func execWords(v string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i == len(v) {
			break
		}
		var w strings.Builder
		var quote byte
		for ; i < len(v); i++ {
			c := v[i]
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			switch {
			case c == '\\':
				if i+1 == len(v) {
					return nil, fmt.Errorf("%q ends in a backslash", v)
				}
				i++
				switch e := v[i]; e {
				case '\\', '"', '\'', ' ':
					w.WriteByte(e)
				case 'n':
					w.WriteByte('\n')
				case 't':
					w.WriteByte('\t')
				default:
					return nil, fmt.Errorf("%q: escape \\%c not handled by this reader", v, e)
				}
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			default:
				w.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, fmt.Errorf("%q: unbalanced quote", v)
		}
		s, err := specifiers(w.String())
		if err != nil {
			return nil, err
		}
		words = append(words, s)
	}
	return words, nil
}

// A binary path with a space, a %, a quote and a backslash is one word in
// ExecStart (argv[0] is exactly the path); a % in the description prints
// as itself; the packager's args keep their own quoting.
func TestUnitQuotesBinaryAndEscapesSpecifiers(t *testing.T) {
	for _, bin := range []string{
		"/opt/my gateway/bin/gw 100%",
		"/opt/odd;name/(x)/gw",
		"/opt/%n%h/gw",
		"/usr/bin/gw",
	} {
		u := Unit{Description: "Gateway, 100% sure", Binary: bin, Args: `--listen 0.0.0.0:80 --name "a b"`, Homepage: "https://example.org/a%20b"}
		out, err := Render("systemd.service.tmpl", u)
		if err != nil {
			t.Fatalf("%q: %v", bin, err)
		}
		f := parseUnit(t, string(out))
		exec := f["Service"]["ExecStart"]
		if len(exec) != 1 {
			t.Fatalf("%q: ExecStart %q\n%s", bin, exec, out)
		}
		argv, err := execWords(exec[0])
		if err != nil {
			t.Fatalf("%q: %v\n%s", bin, err, out)
		}
		want := []string{bin, "--listen", "0.0.0.0:80", "--name", "a b"}
		if fmt.Sprintf("%q", argv) != fmt.Sprintf("%q", want) {
			t.Errorf("ExecStart argv %q, want %q\n%s", argv, want, out)
		}
		desc, err := specifiers(strings.Join(f["Unit"]["Description"], ""))
		if err != nil || desc != u.Description {
			t.Errorf("Description reads back as %q (%v), want %q", desc, err, u.Description)
		}
		doc, err := specifiers(strings.Join(f["Unit"]["Documentation"], ""))
		if err != nil || doc != u.Homepage {
			t.Errorf("Documentation reads back as %q (%v), want %q", doc, err, u.Homepage)
		}
		var keys []string
		for k := range f["Service"] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, " "); got != "DynamicUser ExecStart NoNewPrivileges ProtectHome ProtectSystem Restart RestartSec Type" {
			t.Errorf("[Service] settings: %s", got)
		}
	}
}

// A line break in any field would add settings (ExecStartPre=, User=root);
// Render refuses it, and so does CheckUnitFields, naming the field.
func TestUnitRefusesInjection(t *testing.T) {
	ok := Unit{Description: "Gateway", Binary: "/usr/bin/gw", Args: "--serve", Homepage: "https://example.org"}
	cases := []struct {
		name, want string
		edit       func(*Unit)
	}{
		{"newline in args", "args: \"--serve\\nExecStartPre=/bin/sh -c 'id'\\nUser=root\" holds the control character U+000A", func(u *Unit) {
			u.Args = "--serve\nExecStartPre=/bin/sh -c 'id'\nUser=root"
		}},
		{"carriage return in args", "args:", func(u *Unit) { u.Args = "--serve\rUser=root" }},
		{"trailing backslash in args", "line continuation", func(u *Unit) { u.Args = `--serve \` }},
		{"newline in description", "description:", func(u *Unit) { u.Description = "Gateway\n[Service]\nUser=root" }},
		{"trailing backslash in description", "description:", func(u *Unit) { u.Description = `Gateway\` }},
		{"newline in binary", "binary:", func(u *Unit) { u.Binary = "/usr/bin/gw\nUser=root" }},
		{"relative binary", "not an absolute path", func(u *Unit) { u.Binary = "-gw" }},
		{"empty binary", "binary: empty", func(u *Unit) { u.Binary = "" }},
		{"dollar in binary", "holds $", func(u *Unit) { u.Binary = "/opt/$HOME/gw" }},
		{"quote in binary", "holds a quote", func(u *Unit) { u.Binary = `/opt/"gw"` }},
		{"backslash in binary", "holds a quote or a backslash", func(u *Unit) { u.Binary = `/opt/g\w` }},
		{"newline in homepage", "homepage:", func(u *Unit) { u.Homepage = "https://example.org\nUser=root" }},
	}
	for _, c := range cases {
		u := ok
		c.edit(&u)
		out, err := Render("systemd.service.tmpl", u)
		if err == nil {
			t.Errorf("%s: rendered:\n%s", c.name, out)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "systemd unit: ") {
			t.Errorf("%s: error %q, want it to contain %q", c.name, err, c.want)
		}
		if c.name != "newline in homepage" { // not a CheckUnitFields field
			if err := CheckUnitFields(u.Description, u.Binary, u.Args); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: CheckUnitFields: %v, want %q", c.name, err, c.want)
			}
		}
		if _, err := Render("systemd.service.tmpl", &u); err == nil {
			t.Errorf("%s: *Unit rendered", c.name)
		}
	}
	if err := CheckUnitFields(ok.Description, ok.Binary, ok.Args); err != nil {
		t.Errorf("a plain unit: %v", err)
	}
}

// systemd itself reads the rendered unit: the binary at a path with a
// space and a % in it is found and executable (systemd-analyze verify
// checks ExecStart's path), and a path one byte off is reported under its
// exact name.
func TestUnitSystemdAnalyze(t *testing.T) {
	sa := testdeps.Tool(t, "systemd-analyze") // this test has systemd read the rendered unit
	dir := filepath.Join(t.TempDir(), "my gateway 100%")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gw x")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	verify := func(binary string) (string, error) {
		out, err := Render("systemd.service.tmpl", Unit{Description: "Gateway 100% sure", Binary: binary, Args: "--serve %%", Homepage: "https://example.org/"})
		if err != nil {
			t.Fatal(err)
		}
		unit := filepath.Join(t.TempDir(), "relpack-test.service")
		if err := os.WriteFile(unit, out, 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
		return string(o) + "\n" + string(out), err
	}
	if out, err := verify(bin); err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	missing := bin + "%x"
	out, err := verify(missing)
	if err == nil || !strings.Contains(out, "Command "+missing+" is not executable") {
		t.Errorf("a missing binary: want systemd to name %q:\n%s", missing, out)
	}
}

func TestEscapers(t *testing.T) {
	for _, c := range []struct {
		fn       func(string) string
		in, want string
	}{
		{MarkdownText, "OpenShell gateway server (relpack demo build)", "OpenShell gateway server (relpack demo build)"},
		{MarkdownText, "Debian 12\n# Pwned", `Debian 12 # Pwned`},
		{MarkdownText, "# head", `\# head`},
		{MarkdownText, "1. one", `1\. one`},
		{MarkdownText, "12) one", `12\) one`},
		{MarkdownText, "0.1.0", `0.1.0`},
		{MarkdownText, "- item", `\- item`},
		{MarkdownText, "---", `\---`},
		{MarkdownText, "x86_64 _em_ a__b", `x86_64 \_em\_ a\_\_b`},
		{MarkdownText, "> quote", `\> quote`},
		{MarkdownText, "    code", "code"},
		{MarkdownText, "a *b* [c](d) <e> `f` |g| ~h~ \\", "a \\*b\\* \\[c\\](d) \\<e\\> \\`f\\` \\|g\\| \\~h\\~ \\\\"},
		{CodeSpan, "plain", "`plain`"},
		{CodeSpan, "a`b", "``a`b``"},
		{CodeSpan, "`x", "`` `x ``"},
		{CodeSpan, "a\nb", "`a b`"},
		{CodeCell, "a|b", "`a\\|b`"},
		{CodeLine, "```", "    ```"},
		{CodeLine, "lib/x", "lib/x"},
		{Autolink, "https://openshell.dev", "<https://openshell.dev>"},
		{Autolink, "https://x.org/a b", `https://x.org/a b`},
		{ShellQuote, "./openshell-gateway_0.1.0-1~deb11_amd64.deb", "./openshell-gateway_0.1.0-1~deb11_amd64.deb"},
		{ShellQuote, "./$(touch /tmp/x).deb", `'./$(touch /tmp/x).deb'`},
		{ShellQuote, "~root", `'~root'`},
		{ShellQuote, "it's", `'it'\''s'`},
		{ShellQuote, "", `''`},
		{ShellInSingleQuotes, "a'b", `a'\''b`},
		{ShellComment, "a\nrm -rf /", "a?rm -rf /"},
	} {
		if got := c.fn(c.in); got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}
