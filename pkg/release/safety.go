package release

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"relpack/pkg/config"
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

// checkConfinedReal refuses a source whose symbolic links lead outside its
// folder: `files: [{src: docs/README}]` must not ship /etc/shadow because
// docs/README is a link to it. real is where p leads, read from the opened
// descriptor (snapshot.take), so the check and the read see the same file.
// The message starts with at, where the configuration names the file.
func checkConfinedReal(cfg *config.Config, at, what, p, real string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
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
		at, what, cfg.Given(p), real, folder)
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
