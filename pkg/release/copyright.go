package release

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"relpack/pkg/config"
	"relpack/templates"
)

// commonLicenses maps SPDX identifiers to the texts every Debian system
// ships under /usr/share/common-licenses (base-files).
var commonLicenses = map[string]string{
	"Apache-2.0": "Apache-2.0", "CC0-1.0": "CC0-1.0", "MPL-2.0": "MPL-2.0", "MPL-1.1": "MPL-1.1",
	"GPL-2.0-only": "GPL-2", "GPL-2.0-or-later": "GPL-2", "GPL-3.0-only": "GPL-3", "GPL-3.0-or-later": "GPL-3",
	"LGPL-2.1-only": "LGPL-2.1", "LGPL-2.1-or-later": "LGPL-2.1", "LGPL-3.0-only": "LGPL-3", "LGPL-3.0-or-later": "LGPL-3",
	"Artistic-1.0": "Artistic", "GFDL-1.3-only": "GFDL-1.3", "GFDL-1.2-only": "GFDL-1.2",
}

// debCopyright renders /usr/share/doc/NAME/copyright for a deb.
func debCopyright(cfg *config.Config) ([]byte, error) {
	c := templates.Copyright{
		Name: cfg.Name, Maintainer: cfg.Maintainer, Homepage: cfg.Homepage,
		Copyright: cfg.Copyright, License: cfg.License, CommonLicense: commonLicenses[cfg.License],
	}
	if c.CommonLicense == "" {
		// cfg.LicenseFile is the build's copy: the message names the key.
		text, err := os.ReadFile(cfg.LicenseFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("license_file (%s): reading the build's copy: %w", cfg.Where("license_file"), err)
		}
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				b.WriteString(" .\n")
			} else {
				b.WriteString(" " + l + "\n")
			}
		}
		c.Text = strings.TrimRight(b.String(), "\n")
	}
	return templates.Render("deb-copyright.tmpl", c)
}
