package config

import (
	"fmt"
	"strconv"
)

// File is one extra file installed by the packages.
type File struct {
	Src  string `yaml:"src"`
	Dst  string `yaml:"dst"`
	Mode string `yaml:"mode"` // octal, e.g. "0644"; default 0644
	// Config marks a file the admin may edit (deb conffile, rpm %config).
	Config bool `yaml:"config"`
}

// rawInstall is what the packages install besides the unit.
type rawInstall struct {
	Binary string `yaml:"binary"`
	Files  []File `yaml:"files"`
}

// binary loads binary: (default /usr/bin/NAME, a clean install path) and
// checks license_file's path text. It adds Config.Binary and both lines.
func (l *loader) binary() {
	c := l.c
	c.Binary = l.r.Binary
	if c.Binary == "" {
		c.Binary = "/usr/bin/" + c.Name
	}
	if msg := checkInstallPath(c.Binary); msg != "" {
		l.fail("binary", "binary: %s", msg)
	}
	c.lines["binary"] = lineOf(l.root, "binary")
	if msg := checkPathText("license_file", l.r.LicenseFile); msg != "" {
		l.fail("license_file", "%s", msg)
	}
	c.lines["license_file"] = lineOf(l.root, "license_file")
}

// files loads files: (src, dst, mode; mode 0644 by default). It adds
// Config.Files (src made absolute) and the line of each src.
func (l *loader) files() {
	c := l.c
	for i, f := range l.r.Files {
		key := fmt.Sprintf("files[%d]", i)
		if f.Src == "" {
			l.fail(key, "files[%d] has no src", i)
		} else if msg := checkPathText(key+".src", f.Src); msg != "" {
			l.fail(key+".src", "%s", msg)
		}
		if msg := checkInstallPath(f.Dst); msg != "" {
			l.fail(key+".dst", "files[%d].dst: %s", i, msg)
		}
		if f.Mode == "" {
			f.Mode = "0644"
		}
		if m, err := strconv.ParseUint(f.Mode, 8, 32); err != nil || m > 0o7777 {
			l.fail(key+".mode", "files[%d].mode %q is not an octal mode such as \"0644\"", i, f.Mode)
		} else if m&0o400 == 0 {
			// Mode 0 (or 0044) is no mode a file can be shipped in: dpkg
			// and rpm install it unreadable even for its owner.
			l.fail(key+".mode", "files[%d].mode %q gives the owner no read permission; use 0644 for data, 0755 for programs, 0600 for secrets", i, f.Mode)
		}
		c.lines[key+".src"] = lineOf(l.root, key+".src")
		f.Src = c.abs(f.Src)
		c.Files = append(c.Files, f)
	}
}

// layout checks the package's paths together (checkLayout in fields.go):
// binary, unit, generated files and files: entries. It adds nothing.
func (l *loader) layout() {
	for _, e := range checkLayout(l.c) {
		l.fail(e.key, "%s", e.msg)
	}
}
