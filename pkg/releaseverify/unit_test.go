package releaseverify

import (
	"errors"
	"strings"
	"testing"

	"relpack/pkg/manifest"
	"relpack/pkg/provenance"
)

func TestParseSums(t *testing.T) {
	const (
		a = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		b = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	)
	for _, c := range []struct {
		name, in string
		want     []string // names in order; nil: refused
		problem  string
	}{
		{"two files", a + "  manifest.json\n" + b + "  demo_1.0-1_amd64.deb\n", []string{"manifest.json", "demo_1.0-1_amd64.deb"}, ""},
		{"no final newline", a + "  manifest.json", []string{"manifest.json"}, ""},
		// bufio.ScanLines drops the CR of a CRLF line; the bytes are still
		// the ones the signature covers.
		{"CRLF", a + "  manifest.json\r\n" + b + "  demo.rpm\r\n", []string{"manifest.json", "demo.rpm"}, ""},
		{"duplicate name", a + "  manifest.json\n" + b + "  manifest.json\n", nil, "line 2 lists manifest.json a second time"},
		{"name with a slash", a + "  sub/manifest.json\n", nil, "line 1 is not \"SHA256  FILE\""},
		{"dot dot", a + "  ..\n", nil, "line 1 is not"},
		{"dot dot prefix", a + "  ../demo.deb\n", nil, "line 1 is not"},
		{"hidden name", a + "  .demo.deb\n", nil, "line 1 is not"},
		{"one space", a + " manifest.json\n", nil, "line 1 is not"},
		{"binary-mode star", a + " *manifest.json\n", nil, "line 1 is not"},
		{"tab", a + "\tmanifest.json\n", nil, "line 1 is not"},
		{"non-hex sum", strings.Replace(a, "a", "g", 1) + "  manifest.json\n", nil, "line 1 is not"},
		{"upper-case hex", strings.ToUpper(a) + "  manifest.json\n", nil, "line 1 is not"},
		{"short sum", a[:63] + "  manifest.json\n", nil, "line 1 is not"},
		{"blank line", a + "  manifest.json\n\n" + b + "  demo.rpm\n", nil, "line 2 is not"},
		{"trailing space", a + "  manifest.json \n", nil, "line 1 is not"},
		{"empty", "", nil, "is empty"},
		{"line past 64 KiB", a + "  manifest.json\n" + a + "  " + strings.Repeat("x", 70000) + "\n" + b + "  demo.rpm\n", nil, "line 2: bufio.Scanner: token too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newTestVerifier("rel", false)
			sums, order, ok := v.parseSums([]byte(c.in))
			if c.want != nil {
				if !ok || len(v.r.Problems) > 0 || strings.Join(order, " ") != strings.Join(c.want, " ") || len(sums) != len(c.want) {
					t.Fatalf("ok %v, order %v, problems %v; want %v", ok, order, v.r.Problems, c.want)
				}
				return
			}
			if ok || len(v.r.Problems) != 1 {
				t.Fatalf("ok %v, problems %v; want refused with %q", ok, v.r.Problems, c.problem)
			}
			if p := v.r.Problems[0]; p.File != "rel/SHA256SUMS" || !strings.Contains(p.Message, c.problem) {
				t.Errorf("problem %s, want rel/SHA256SUMS: ...%s...", p, c.problem)
			}
		})
	}
}

func TestDataName(t *testing.T) {
	for name, want := range map[string]string{
		"./":                "",
		"./usr/":            "",
		"./usr/bin/demo":    "",
		"./usr/lib/a.b..c":  "",
		"./etc/demo/":       "",
		"/etc/passwd":       "an absolute name",
		"/":                 "an absolute name",
		"usr/bin/demo":      "a name not starting with ./",
		".":                 "a name not starting with ./",
		"":                  "a name not starting with ./",
		"../etc/passwd":     "a name not starting with ./",
		"./..":              `a ".." part`,
		"./../etc/passwd":   `a ".." part`,
		"./usr/../../etc":   `a ".." part`,
		"./usr/bin/..":      `a ".." part`,
		"./usr/bin/../":     `a ".." part`,
		"./usr//bin":        `an empty or "." part`,
		".//":               `an empty or "." part`,
		"./.":               `an empty or "." part`,
		"./usr/./bin":       `an empty or "." part`,
		"./usr/bin/.":       `an empty or "." part`,
		"./usr/bin//":       `an empty or "." part`,
		"././usr":           `an empty or "." part`,
		"./usr/bin/demo/./": `an empty or "." part`,
	} {
		got := dataName(name)
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, want) {
			t.Errorf("dataName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestReportErr(t *testing.T) {
	r := &Report{Dir: "dist"}
	if !r.OK() || r.Err() != nil {
		t.Fatalf("no problems: OK %v, Err %v", r.OK(), r.Err())
	}
	r.Problems = []Problem{{File: "dist/SHA256SUMS.asc", Message: "is missing"}}
	if got, want := r.Err().Error(), "release dist does not verify (1 problem; nothing was written):\n  dist/SHA256SUMS.asc: is missing"; got != want {
		t.Errorf("one problem:\n%s\nwant\n%s", got, want)
	}
	r.Problems = append(r.Problems, Problem{File: "dist/demo.deb", Message: "control says Package: x, manifest.json says demo"})
	if got, want := r.Err().Error(), "release dist does not verify (2 problems; nothing was written):\n  dist/SHA256SUMS.asc: is missing\n  dist/demo.deb: control says Package: x, manifest.json says demo"; got != want {
		t.Errorf("two problems:\n%s\nwant\n%s", got, want)
	}
	if r.OK() || errors.Unwrap(r.Err()) != nil {
		t.Errorf("OK %v; Err wraps %v", r.OK(), errors.Unwrap(r.Err()))
	}
	for n, want := range map[int]string{0: "0 problems", 1: "1 problem", 2: "2 problems", 11: "11 problems"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// The statement must name the relpack manifest.json names (tool): a
// statement carried over from another relpack's build is not this
// release's.
func TestMatchReleaseTool(t *testing.T) {
	tool := &manifest.Tool{Name: "relpack", Version: "v1.2.3", Commit: "0123456", Go: "go1.26.0"}
	good := provenance.Release{Product: testProduct, Version: "1.0", Tool: "relpack v1.2.3", ToolCommit: "0123456", ToolGo: "go1.26.0"}
	for _, c := range []struct {
		name string
		edit func(r *provenance.Release)
		want string // "" when it matches
	}{
		{"the same relpack", func(*provenance.Release) {}, ""},
		{"another version", func(r *provenance.Release) { r.Tool = "relpack v1.2.4" }, `tool "relpack v1.2.4", commit "0123456", go "go1.26.0" (manifest.json: relpack v1.2.3 (commit 0123456, go1.26.0))`},
		{"another commit", func(r *provenance.Release) { r.ToolCommit = "0123456-dirty" }, `commit "0123456-dirty"`},
		{"another Go", func(r *provenance.Release) { r.ToolGo = "go1.26.1" }, `go "go1.26.1"`},
		{"none recorded", func(r *provenance.Release) { r.ToolCommit, r.ToolGo = "", "" }, `commit "", go ""`},
	} {
		v := newTestVerifier("rel", false)
		v.m.Tool = tool
		r := good
		c.edit(&r)
		v.matchRelease("provenance.intoto.json", r)
		switch {
		case c.want == "" && len(v.r.Problems) > 0:
			t.Errorf("%s: %v", c.name, v.r.Problems)
		case c.want != "" && (len(v.r.Problems) != 1 || !strings.Contains(v.r.Problems[0].Message, c.want) || !strings.Contains(v.r.Problems[0].Message, "the statement is not this release's")):
			t.Errorf("%s: problems %v, want one saying %q", c.name, v.r.Problems, c.want)
		}
	}
	// A release that records no tool (before relpack recorded one) holds
	// the statement to nothing more than before.
	v := newTestVerifier("rel", false)
	v.matchRelease("provenance.intoto.json", provenance.Release{Product: testProduct, Version: "1.0", Tool: "relpack dev"})
	if len(v.r.Problems) > 0 {
		t.Errorf("no tool record: %v", v.r.Problems)
	}
}
