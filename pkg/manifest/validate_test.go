package manifest

import (
	"slices"
	"strings"
	"testing"
)

// TestValidateOrder holds Validate to the order it reports problems in,
// one part of the manifest after another (header, floor, service,
// distros, artifacts, inputs, partial fields, signing), with a bad field
// in each part; the order is what a user reads top to bottom.
func TestValidateOrder(t *testing.T) {
	m := &Manifest{
		Schema: 2, Product: "-bad", Version: "v1",
		Floor:   Floor{Glibc: "x", Families: map[string]string{"GLIBCXX": "y"}},
		Service: &Service{Unit: "u.service", Scope: "nobody"},
		Distros: []Distro{{ID: "Debian 12"}, {ID: "d"}, {ID: "d"}},
		Artifacts: []Artifact{{
			File: "a.deb", Size: -1, SHA256: "00", Kind: "deb", Arch: "x86_64", Distro: "el9",
			Sidecar:      &Sidecar{Path: "../x"},
			Repositories: []Repository{{Name: "epel", Enable: "rm -rf /; x"}},
		}},
		Inputs:    []Input{{File: "../in"}},
		Selectors: []string{"x86_64"},
		Signing:   &Signing{Fingerprint: "abc"},
	}
	err := m.Validate()
	ie, ok := err.(*InvalidError)
	if !ok {
		t.Fatalf("Validate = %v, want an *InvalidError", err)
	}
	var got []string
	for _, p := range ie.Problems {
		got = append(got, p.Field)
	}
	want := []string{
		"schema", "product", "version", "floor.glibc", "floor.families.GLIBCXX", "service.scope",
		"distros[0].id", "distros[2].id",
		"artifacts[0].size", "artifacts[0].sha256", "artifacts[0].distro",
		"artifacts[0].sidecar.path", "artifacts[0].repositories[0].enable",
		"inputs[0].file", "partial", "signing.fingerprint",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate reports the fields\n%q\nwant\n%q\n%v", got, want, err)
	}
}

// TestValidateDebug holds the debug-symbol fields to their grammar: a
// hex build-id, a build-id path for the debug file, and debug_for and
// debug_file on debug artifacts only.
func TestValidateDebug(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	sum := "0000000000000000000000000000000000000000000000000000000000000000"
	good := []Artifact{
		{File: "a.tar.gz", SHA256: sum, Kind: "tarball", Arch: "x86_64", BuildID: id, Debug: "a-debug.tar.gz"},
		{File: "a-debug.tar.gz", SHA256: sum, Kind: KindDebugTarball, Arch: "x86_64", BuildID: id, DebugFor: "a.tar.gz", DebugFile: ".build-id/01/23456789abcdef0123456789abcdef01234567.debug"},
		{File: "a-dbgsym_1_amd64.ddeb", SHA256: sum, Kind: KindDdeb, Arch: "x86_64", Distro: "d", BuildID: id, DebugFor: "a.tar.gz", DebugFile: "/usr/lib/debug/.build-id/01/23456789abcdef0123456789abcdef01234567.debug"},
	}
	for _, a := range good {
		var c checker
		c.debug("a.", a)
		c.artifact("a.", a, map[string]bool{"d": true})
		if len(c.e.Problems) > 0 {
			t.Errorf("%s: %v", a.File, &c.e)
		}
	}
	bad := map[string]Artifact{
		"a.build_id":   {Kind: "deb", BuildID: "ABCD"},
		"a.debug_file": {Kind: KindDdeb, BuildID: id, DebugFor: "x.deb", DebugFile: "/usr/lib/debug/../../etc/passwd"},
		"a.kind":       {Kind: KindDdeb, BuildID: id},
		"a.debug_for":  {Kind: "deb", DebugFor: "x.deb"},
		"a.debug":      {Kind: "deb", Debug: "../x"},
	}
	for field, a := range bad {
		var c checker
		c.debug("a.", a)
		if len(c.e.Problems) == 0 || c.e.Problems[0].Field != field {
			t.Errorf("%+v: problems %v, want %s first", a, &c.e, field)
		}
	}
	if Format(KindDdeb) != "deb" || Format(KindDebuginfo) != "rpm" || Format(KindDebugTarball) != "tarball" || Format("rpm") != "rpm" {
		t.Error("Format maps the debug kinds wrong")
	}
}

// TestValidateTool holds the tool record to its grammar, as hostile input:
// merge's refusal and the docs print it, so a line break, a shell
// character or another tool's name in it is refused with its field named.
func TestValidateTool(t *testing.T) {
	good := Tool{Name: ToolName, Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Go: "go1.26.0"}
	for _, ok := range []Tool{
		good,
		{Name: ToolName, Version: "dev", Go: "go1.26.0"},
		{Name: ToolName, Version: "v0.0.0-20261205144052-0123456789ab", Commit: "0123456-dirty", Go: "go1.26rc1 X:jsonv2"},
		{Name: ToolName, Version: "dev", Go: "devel go1.27-abcdef0 Tue Dec 1 10:00:00 2026 +0000"},
	} {
		var c checker
		c.tool(&ok)
		if len(c.e.Problems) > 0 {
			t.Errorf("tool %+v: %v", ok, &c.e)
		}
	}
	for _, c := range []struct {
		field string
		edit  func(*Tool)
	}{
		{"tool.name", func(t *Tool) { t.Name = "goreleaser" }},
		{"tool.version", func(t *Tool) { t.Version = "" }},
		{"tool.version", func(t *Tool) { t.Version = "1.0\n$(rm -rf ~)" }},
		{"tool.version", func(t *Tool) { t.Version = "-v1" }},
		{"tool.commit", func(t *Tool) { t.Commit = "ABCDEF0" }},
		{"tool.commit", func(t *Tool) { t.Commit = "abc" }},
		{"tool.commit", func(t *Tool) { t.Commit = "0123456789abcdef; echo" }},
		{"tool.go", func(t *Tool) { t.Go = "" }},
		{"tool.go", func(t *Tool) { t.Go = "1.26" }},
		{"tool.go", func(t *Tool) { t.Go = "go1.26`id`" }},
		{"tool.go", func(t *Tool) { t.Go = "go1.26\nrm" }},
	} {
		bad := good
		c.edit(&bad)
		m := &Manifest{Tool: &bad}
		err := m.Validate()
		ie, ok := err.(*InvalidError)
		if !ok || ie.Problems[len(ie.Problems)-1].Field != c.field || slices.ContainsFunc(ie.Problems, func(p FieldError) bool { return p.Field != c.field && strings.HasPrefix(p.Field, "tool.") }) {
			t.Errorf("tool %+v: Validate = %v, want the last problem in %s and no other tool field", bad, err, c.field)
		}
	}
}
