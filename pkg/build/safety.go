package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"relpack/pkg/config"
	"relpack/pkg/manifest"
)

// A packager writes files that become root-owned on every user's machine.
// These checks keep what goes in to what the configuration names, and what
// comes out from silently replacing an earlier release.

// confinement is the folder a source path must stay inside once symbolic
// links are followed: the configuration's folder for paths below it, else
// the folder the path itself names.
func confinement(cfgDir, p string) string {
	if rel, err := filepath.Rel(cfgDir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return cfgDir
	}
	return filepath.Dir(p)
}

// checkConfined refuses a source whose symbolic links lead outside its
// folder: `files: [{src: docs/README}]` must not ship /etc/shadow because
// docs/README is a link to it.
func checkConfined(cfg *config.Config, what, p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil // missing files are reported by the existence checks, with their own message
	}
	folder := confinement(cfg.Dir, abs)
	realFolder, err := filepath.EvalSymlinks(folder)
	if err != nil {
		realFolder = folder
	}
	if real == realFolder || strings.HasPrefix(real, realFolder+string(filepath.Separator)) {
		return nil
	}
	return fmt.Errorf("%s: %s %s is a symbolic link to %s, outside %s; copy the file into that folder or name its real path in the configuration",
		cfg.File, what, p, real, folder)
}

// modeWarnings lists modes in the configuration that nobody should ship
// without noticing: setuid, setgid and world-writable files.
func modeWarnings(cfg *config.Config) []string {
	var out []string
	for i, f := range cfg.Files {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil {
			continue
		}
		var what []string
		if m&0o4000 != 0 {
			what = append(what, "setuid")
		}
		if m&0o2000 != 0 {
			what = append(what, "setgid")
		}
		if m&0o002 != 0 {
			what = append(what, "world-writable")
		}
		if len(what) > 0 {
			out = append(out, fmt.Sprintf("%s: files[%d] (%s) has mode %s: %s; packages install it that way on every host",
				cfg.File, i, f.Dst, f.Mode, strings.Join(what, ", ")))
		}
	}
	return out
}

// earlierBuild reports artifacts of an earlier build in dir: its
// manifest.json and SHA256SUMS and every release-like file. It returns the
// names and the earlier manifest (nil if none could be read).
func earlierBuild(dir string) ([]string, *manifest.Manifest) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if n == "manifest.json" || n == "SHA256SUMS" || strings.HasSuffix(n, ".asc") || strings.HasSuffix(n, ".deb") || strings.HasSuffix(n, ".rpm") || strings.HasSuffix(n, ".tar.gz") {
			names = append(names, n)
		}
	}
	m, _ := manifest.Read(filepath.Join(dir, "manifest.json"))
	return names, m
}

// removeStale deletes the files an earlier build listed that the new one
// did not write again (only files the earlier manifest names).
func removeStale(dir string, old *manifest.Manifest, written map[string]bool, warn io.Writer) {
	if old == nil {
		return
	}
	for _, a := range old.Artifacts {
		if written[a.File] || strings.ContainsAny(a.File, "/\\") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, a.File)); err != nil && !os.IsNotExist(err) && warn != nil {
			fmt.Fprintf(warn, "warning: could not remove stale %s: %v\n", a.File, err)
		}
	}
}
