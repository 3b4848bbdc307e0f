package pack

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/lifecycle"
)

// rpmlintFilterRE reads one addFilter line of rpmlintrc.
var rpmlintFilterRE = regexp.MustCompile(`(?m)^addFilter\(r"(.*)"\)\s*$`)

// rpmlintFilters are the regular expressions of rpmlintrc's filters.
func rpmlintFilters(t *testing.T, rc string) []*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	var out []*regexp.Regexp
	for _, m := range rpmlintFilterRE.FindAllStringSubmatch(string(data), -1) {
		re, err := regexp.Compile(m[1])
		if err != nil {
			t.Fatalf("%s: filter %q: %v", rc, m[1], err)
		}
		out = append(out, re)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no addFilter lines", rc)
	}
	return out
}

// rpmlintSummaryRE is rpmlint 2.x's last line.
var rpmlintSummaryRE = regexp.MustCompile(`(\d+) packages and \d+ specfiles checked; (\d+) errors, (\d+) warnings`)

// TestRPMLint runs rpmlint 2.4 on the fixture rpm with the scriptlets of
// a system service (pkg/lifecycle), for the el8 (xz) and el9 (zstd)
// payloads: with rpmlintrc, the one list of accepted messages, it must
// report nothing at all; without it, every filter of rpmlintrc must still
// be needed (it matches a message), so nothing is accepted that no
// package shows.
func TestRPMLint(t *testing.T) {
	rpmlint := testdeps.Tool(t, "rpmlint")
	filters := rpmlintFilters(t, "rpmlintrc")
	used := make([]bool, len(filters))
	sc, err := lifecycle.RPM(lifecycle.Service{Unit: fixtureName + ".service", Scope: "system", Enable: true, RestartOnUpgrade: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"xz", "zstd"} {
		f, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) { s.Scripts = Scripts(sc); s.Compression = comp })
		out, err := runErr(nil, rpmlint, "-r", "rpmlintrc", f)
		m := rpmlintSummaryRE.FindStringSubmatch(out)
		if m == nil || m[1] != "1" || m[2] != "0" || m[3] != "0" {
			t.Errorf("%s: rpmlint -r rpmlintrc reports (%v):\n%s", comp, err, out)
		}
		raw, _ := runErr(nil, rpmlint, f)
		for _, l := range strings.Split(raw, "\n") {
			if !strings.Contains(l, ": E: ") && !strings.Contains(l, ": W: ") {
				continue
			}
			for i, re := range filters {
				if re.MatchString(l) {
					used[i] = true
				}
			}
		}
		t.Logf("%s: rpmlint without filters:\n%s", comp, raw)
	}
	for i, re := range filters {
		if !used[i] {
			t.Errorf("rpmlintrc filter %q matches nothing rpmlint reports: remove it (and its row in docs/lint.md)", re)
		}
	}
}
