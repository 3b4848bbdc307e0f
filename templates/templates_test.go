package templates

import (
	"strings"
	"testing"
)

func TestRenderUnit(t *testing.T) {
	out, err := Render("systemd.service.tmpl", Unit{Description: "Gateway", Binary: "/usr/bin/gw", Args: "--serve", Homepage: "https://example.org", User: true})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"ExecStart=/usr/bin/gw --serve\n", "WantedBy=default.target\n", "Description=Gateway\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("unit lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "DynamicUser") {
		t.Error("a user unit cannot use DynamicUser")
	}
	if _, err := Render("nope.tmpl", nil); err == nil {
		t.Error("missing template must be an error")
	}
}
