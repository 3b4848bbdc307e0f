// Package templates embeds the text/template sources relpack renders: the
// systemd unit installed by packages, and (later) install docs.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed *.tmpl
var FS embed.FS

// Render executes the named embedded template with data.
func Render(name string, data any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").ParseFS(FS, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Unit is the data of systemd.service.tmpl.
type Unit struct {
	Description string
	Binary      string // absolute path of the installed binary
	Args        string
	Homepage    string
	User        bool // a user unit (systemctl --user) rather than a system one
}

// Copyright is the data of deb-copyright.tmpl: a machine-readable
// debian/copyright (DEP-5) for /usr/share/doc/NAME/copyright.
type Copyright struct {
	Name, Maintainer, Homepage, Copyright, License string
	// CommonLicense names the file under /usr/share/common-licenses that
	// holds the license text; Debian policy 12.5 says to refer to it
	// rather than repeat the text (lintian errors otherwise).
	CommonLicense string
	// Text is the license text, already indented for a DEP-5 field
	// (one space, "." for empty lines); used when CommonLicense is "".
	Text string
}
