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
