package config

import "strings"

// rawProduct is the product's own fields: what the packages say about it.
type rawProduct struct {
	Name        string `yaml:"name"`
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
	Maintainer  string `yaml:"maintainer"`
	Vendor      string `yaml:"vendor"`
	Homepage    string `yaml:"homepage"`
	License     string `yaml:"license"`
	LicenseFile string `yaml:"license_file"`
	Copyright   string `yaml:"copyright"`
	Section     string `yaml:"section"`
	Priority    string `yaml:"priority"`
	Group       string `yaml:"group"`
}

// product loads name, summary, description, maintainer, vendor, homepage,
// license, copyright, section, priority and group, and requires
// license_file (its path text is checked beside binary:, where it always
// was). It adds those fields to the Config, with their defaults.
func (l *loader) product() {
	r, c := &l.r.rawProduct, l.c
	c.Name, c.Summary, c.Description = r.Name, r.Summary, strings.TrimSpace(r.Description)
	c.Maintainer, c.Vendor, c.Homepage, c.License = r.Maintainer, r.Vendor, r.Homepage, r.License
	c.Copyright, c.Section, c.Priority, c.Group = r.Copyright, r.Section, r.Priority, r.Group

	if !pkgNameRE.MatchString(c.Name) {
		l.fail("name", "name %q is not a package name: lower-case letters, digits, '.', '+' or '-' (e.g. openshell-gateway)", c.Name)
	}
	// In the order of docs/config.md, so a configuration missing several
	// gets the same messages in the same order every run.
	for _, f := range [...]struct{ key, val string }{{"summary", c.Summary}, {"maintainer", c.Maintainer}, {"homepage", c.Homepage}, {"license", c.License}} {
		if key, val := f.key, f.val; strings.TrimSpace(val) == "" {
			l.fail(key, "%s is required (packages without it fail lintian/rpmlint); see docs/config.md", key)
		}
	}
	l.productText()
	if c.Section == "" {
		c.Section = "net"
	}
	if c.Priority == "" {
		c.Priority = "optional"
	}
	if c.Group == "" {
		c.Group = "System Environment/Daemons"
	}
	if c.Vendor == "" {
		c.Vendor = c.Name
	}
	if c.Copyright == "" {
		l.fail("copyright", "copyright is required: the copyright notice for the DEP-5 copyright file, e.g. \"2025 The OpenShell authors\"")
	}
	if r.LicenseFile == "" {
		l.fail("license", "license_file is required: the license text (rpms install it as %%license, debs get a DEP-5 copyright file)")
	} else {
		c.LicenseFile = c.abs(r.LicenseFile)
	}
}

// productText holds every one-line field to the grammar of the files it
// reaches (fields.go); the summary gets a hint of its own.
func (l *loader) productText() {
	c := l.c
	if _, bad := controlChar(c.Summary, ""); bad {
		l.fail("summary", "summary must be one line without control characters; put the rest in description")
	}
	for _, f := range []struct{ key, val string }{
		{"maintainer", c.Maintainer}, {"vendor", c.Vendor}, {"homepage", c.Homepage}, {"license", c.License},
		{"copyright", c.Copyright}, {"section", c.Section}, {"priority", c.Priority}, {"group", c.Group},
	} {
		if msg := checkTextField(f.key, f.val); msg != "" {
			l.fail(f.key, "%s", msg)
		}
	}
	if msg := checkDescription(c.Description); msg != "" {
		l.fail("description", "%s", msg)
	}
}
