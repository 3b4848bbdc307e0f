package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"relpack/pkg/abi"
)

// Library is what the release needs of one library (issue 10).
type Library struct {
	// MinVersion is the lowest upstream version the binary works with
	// ("4.8.17"): a target whose package ships less is refused (or, with
	// Private, served by the library the release ships itself), and
	// relations carry it (libz3-4 (>= 4.8.17), z3-libs >= 4.8.17).
	MinVersion string `yaml:"min_version"`
	// Why says where the minimum comes from, for messages and docs.
	Why string `yaml:"why"`
	// Files maps an architecture to the library file the release ships
	// where the library is private (and in sidecar tarballs).
	Files map[string]string `yaml:"files"`
	// Private lists the target ids whose packages ship Files under
	// /usr/lib/NAME/ (RUNPATH set there) instead of depending on the
	// distro's package; ["*"] means every target.
	Private []string `yaml:"private"`
}

type rawLibraries struct {
	Libraries map[string]Library `yaml:"libraries"`
}

// stemRE is a library's name stem: the soname before ".so" (libz3,
// libstdc++).
var stemRE = regexp.MustCompile(`^lib[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$`)

// libraries loads libraries: (by name stem: min_version, why, files per
// architecture, private targets). It adds Config.Libraries (paths made
// absolute) and the line of each file; whether private: names listed
// targets is checked once the targets are loaded (privateLibraries).
func (l *loader) libraries() {
	c := l.c
	c.Libraries = map[string]Library{}
	for _, stem := range slices.Sorted(maps.Keys(l.r.Libraries)) {
		lib := l.r.Libraries[stem]
		key := "libraries." + stem
		if !stemRE.MatchString(stem) || strings.Contains(stem, ".so") {
			l.fail(key, "libraries: %q is not a library name stem: write the soname before \".so\", e.g. libz3 for libz3.so.4", stem)
			continue
		}
		if lib.MinVersion != "" && !abi.ValidVersion(lib.MinVersion) {
			l.fail(key+".min_version", "%s.min_version %q is not a version such as 4.8.17", key, lib.MinVersion)
		}
		if msg := checkOneLine(key+".why", lib.Why); lib.Why != "" && msg != "" {
			l.fail(key+".why", "%s", msg)
		}
		lib.Files = l.libraryFiles(key, lib.Files)
		for _, id := range lib.Private {
			if id != "*" && checkOneLine(key+".private", id) != "" {
				l.fail(key+".private", "%s.private: %q is not a target id", key, id)
			}
		}
		if len(lib.Private) > 0 && len(lib.Files) == 0 {
			l.fail(key+".private", "%s.private needs %s.files: the library file to ship, per architecture", key, key)
		}
		c.Libraries[stem] = lib
	}
}

// libraryFiles checks libraries.STEM.files (key) and returns the good
// entries with their paths made absolute.
func (l *loader) libraryFiles(key string, given map[string]string) map[string]string {
	files := map[string]string{}
	for _, arch := range slices.Sorted(maps.Keys(given)) {
		fk := key + ".files." + arch
		if arch != "x86_64" && arch != "aarch64" {
			l.fail(fk, "%s.files: unknown architecture %q; use x86_64 or aarch64", key, arch)
			continue
		}
		if msg := checkPathText(fk, given[arch]); msg != "" {
			l.fail(fk, "%s", msg)
			continue
		}
		files[arch] = l.c.abs(given[arch])
		l.c.lines[fk] = lineOf(l.root, fk)
	}
	return files
}

// privateLibraries checks private: both ways once targets are loaded: a
// target's private: names a library with files, and libraries.STEM.private
// names listed targets. It reads Config.Targets, Config.Libraries and the
// ids the targets loader saw; it adds nothing.
func (l *loader) privateLibraries() {
	c := l.c
	for _, t := range c.Targets {
		for _, stem := range t.Private {
			lib, ok := c.Libraries[stem]
			if !ok {
				l.failAt(c.LineOfTarget(t.ID), "target %s: private: %q is not in libraries:; add `libraries: {%s: {files: {x86_64: PATH}}}` naming the library to ship", t.ID, stem, stem)
				continue
			}
			if len(lib.Files) == 0 {
				l.failAt(c.LineOfTarget(t.ID), "target %s: private: libraries.%s has no files: to ship; give the library file per architecture", t.ID, stem)
			}
		}
	}
	for stem, lib := range c.Libraries {
		for _, id := range lib.Private {
			if id == "*" {
				continue
			}
			if !l.seen[id] {
				l.fail("libraries."+stem+".private", "libraries.%s.private names target %q, which targets: does not list", stem, id)
			}
		}
	}
}
