package release

import (
	"strings"
	"testing"

	"relpack/pkg/docs"
)

// TestInstallDocsSayWhereZ3ComesFrom: per distro, the install docs say
// whether the package pulls in the distro's Z3 (and which version), or
// carries its own under /usr/lib/NAME.
func TestInstallDocsSayWhereZ3ComesFrom(t *testing.T) {
	_, m := privateDist(t)
	md, err := docs.Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	if !strings.Contains(text, "Pulls in nothing for Z3: the package carries its own, `/usr/lib/openshell-gateway/libz3.so.4`, which the binary finds through its RUNPATH") {
		t.Errorf("the private packages' section does not say where Z3 comes from:\n%s", text)
	}
	demo, err := docs.Markdown(readManifest(t, demoDist(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(demo), "Pulls in `libz3-4` from the distro") || !strings.Contains(string(demo), "`libz3-4 (>= 4.8.12)`") {
		t.Errorf("the demo's debian12 section does not name libz3-4 and its version:\n%s", demo)
	}
}
