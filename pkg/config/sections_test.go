package config

import (
	"strings"
	"testing"
)

// TestSectionsOrder holds Parse's loaders to their order: it is the
// order of messages reported on one line, which users and tests see.
func TestSectionsOrder(t *testing.T) {
	want := "product, floor, signing, inputs, binary, files, systemd, tarball files, libraries, tarball sidecar, layout, targets, private libraries, targets given, sbom and provenance, debug symbols"
	if got := strings.Join(Sections(), ", "); got != want {
		t.Errorf("Sections() = %s\nwant %s", got, want)
	}
}

// TestSameLineErrorsInSectionOrder: problems that land on one line (the
// first, where a missing key is reported) come in section order.
func TestSameLineErrorsInSectionOrder(t *testing.T) {
	const cfg = `license_file: "LICENSE\a"
name: gw
summary: The gateway
maintainer: A B <a@example.org>
homepage: https://example.org/gw
license: MIT
copyright: 2025 A B
libraries: {libz3: {private: [el9], files: {x86_64: lib/libz3.so.4}}}
`
	_, err := Parse("packaging.yaml", "/cfg", []byte(cfg))
	if err == nil {
		t.Fatal("accepted a configuration without floor, inputs and targets")
	}
	want := []string{ // line 8's message sorts after every line-1 message
		"packaging.yaml:1: floor.glibc is required",
		"packaging.yaml:1: inputs is empty",
		`packaging.yaml:1: license_file holds the control character U+0007`,
		"packaging.yaml:1: targets is empty",
		`packaging.yaml:8: libraries.libz3.private names target "el9", which targets: does not list`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("message %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

// TestRequiredFieldsInDocOrder: a configuration missing every required
// product field gets one message each, in docs/config.md's order, on every
// run (they were checked over a map once, and came out in any order).
func TestRequiredFieldsInDocOrder(t *testing.T) {
	const cfg = "name: gw\ncopyright: 2025 A B\n"
	var first string
	for i := 0; i < 20; i++ {
		_, err := Parse("packaging.yaml", "/cfg", []byte(cfg))
		if err == nil {
			t.Fatal("accepted a configuration without summary, maintainer, homepage and license")
		}
		var required []string
		for _, line := range strings.Split(err.Error(), "\n") {
			if k, ok := strings.CutPrefix(line, "packaging.yaml:1: "); ok && strings.Contains(k, " is required (packages without it") {
				required = append(required, strings.Fields(k)[0])
			}
		}
		if got := strings.Join(required, " "); got != "summary maintainer homepage license" {
			t.Fatalf("run %d: required-field messages for %q, want summary maintainer homepage license:\n%s", i, got, err)
		}
		if i == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("run %d gave other messages than run 0:\n%s\n---\n%s", i, err, first)
		}
	}
}
