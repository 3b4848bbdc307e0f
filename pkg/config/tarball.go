package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
)

// Tarball configures the tarballs.
type Tarball struct {
	// Files are extra files placed at the archive root (LICENSE, README).
	Files []string `yaml:"files"`
	// Sidecar, when set, adds for every gnu input that needs libz3 a
	// tarball carrying the library: bin/NAME with RUNPATH $ORIGIN/../lib
	// and lib/SONAME.
	Sidecar *Sidecar `yaml:"sidecar"`
}

// Sidecar configures the sidecar tarballs.
type Sidecar struct {
	// Libraries maps an architecture (x86_64, aarch64) to the libz3 to
	// ship beside the binary. Its soname must be the one the binary needs.
	Libraries map[string]string `yaml:"libraries"`
	// Suffix is appended to the tarball name: NAME-TRIPLE-SUFFIX.tar.gz
	// (default "z3").
	Suffix string `yaml:"suffix"`
}

type rawTarball struct {
	Tarball Tarball `yaml:"tarball"`
}

// sidecarSuffixRE is the alphabet of tarball.sidecar.suffix.
var sidecarSuffixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// tarballFiles loads tarball.files: (file names fit for an archive and
// the manifest). It adds Config.Tarball.Files (made absolute) and their
// lines.
func (l *loader) tarballFiles() {
	c := l.c
	for i, f := range l.r.Tarball.Files {
		key := fmt.Sprintf("tarball.files[%d]", i)
		if msg := checkPathText(key, f); msg != "" {
			l.fail(key, "%s", msg)
		} else if base := filepath.Base(f); !baseNameRE.MatchString(base) {
			l.fail(key, "%s: the file name %q goes into the tarball and the manifest as it is; rename it to letters, digits and . _ + ~ @ - (e.g. LICENSE, README.md)", key, base)
		}
		c.lines[key] = lineOf(l.root, key)
		c.Tarball.Files = append(c.Tarball.Files, c.abs(f))
	}
}

// sidecar loads tarball.sidecar: (suffix, libraries per architecture; a
// library to carry, here or in libraries:). It reads the raw libraries:
// and adds Config.Tarball.Sidecar and the line of each library.
func (l *loader) sidecar() {
	sc, c := l.r.Tarball.Sidecar, l.c
	if sc == nil {
		return
	}
	out := &Sidecar{Libraries: map[string]string{}, Suffix: sc.Suffix}
	if out.Suffix == "" {
		out.Suffix = "z3"
	}
	if !sidecarSuffixRE.MatchString(out.Suffix) {
		l.fail("tarball.sidecar", "tarball.sidecar.suffix %q: use lower-case letters, digits, '.' or '-'", out.Suffix)
	}
	withFiles := false
	for _, lib := range l.r.Libraries {
		withFiles = withFiles || len(lib.Files) > 0
	}
	if len(sc.Libraries) == 0 && !withFiles {
		l.fail("tarball.sidecar", "tarball.sidecar has no library to carry: map x86_64 and/or aarch64 to the libz3 to bundle in tarball.sidecar.libraries, or give libraries.STEM.files")
	}
	for _, arch := range slices.Sorted(maps.Keys(sc.Libraries)) {
		if arch != "x86_64" && arch != "aarch64" {
			l.fail("tarball.sidecar.libraries."+arch, "tarball.sidecar.libraries: unknown architecture %q; use x86_64 or aarch64", arch)
			continue
		}
		out.Libraries[arch] = c.abs(sc.Libraries[arch])
	}
	c.Tarball.Sidecar = out
	for arch := range out.Libraries {
		c.lines["tarball.sidecar.libraries."+arch] = lineOf(l.root, "tarball.sidecar.libraries."+arch)
	}
}
