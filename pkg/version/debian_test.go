package version

import (
	"os/exec"
	"testing"

	"relpack/internal/testdeps"
)

// TestCompareDebianAsDpkg: CompareDebian orders every pair as
// dpkg --compare-versions does.
func TestCompareDebianAsDpkg(t *testing.T) {
	testdeps.Tools(t, "dpkg")
	vs := []string{
		"0.1.0-1~deb11", "0.2.0-1~deb11", "0.1.0-1~deb12", "0.1.0-1", "0.1.0-1+b1", "0.1.0-2",
		"0.0.38~dev.108+g152d059-1", "0.0.38~dev.99+g0-1", "0.0.38-1", "0.0.38~rc.1-1",
		"1.2.0~rc.1-1", "1.2.0-1", "1.2.0+build.10-1", "1.2.0+build.2-1", "1:0.1-1", "2:0.1", "0:1.2.0-1",
		"1.0", "1.0~", "1.0~~", "1.0a", "1.0+", "1.0.", "1.00", "1.0-0", "1.0-a", "1.0-~",
		"10", "9", "0010", "1.0-1.2", "1.0-1.10", "1.0~a-1", "1.0~b-1", "a", "A", "1.0-1~bpo1",
	}
	for _, a := range vs {
		for _, b := range vs {
			got := CompareDebian(a, b)
			var op string
			switch {
			case got < 0:
				op = "lt"
			case got > 0:
				op = "gt"
			default:
				op = "eq"
			}
			if err := exec.Command("dpkg", "--compare-versions", a, op, b).Run(); err != nil {
				t.Errorf("CompareDebian(%q, %q) = %d, but dpkg does not agree that %s %s %s", a, b, got, a, op, b)
			}
		}
	}
}
