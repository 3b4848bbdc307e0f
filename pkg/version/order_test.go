package version

import (
	"fmt"
	"testing"

	"github.com/Masterminds/semver/v3"

	"relpack/internal/testdeps"
)

// ascending is a release history in semver order, each strictly greater
// than the one before: dev builds, a final release, every prerelease shape
// Parse accepts (word, word.N, numbers compared as numbers), metadata on
// prereleases and on a final release.
var ascending = []string{
	"0.0.38-dev.9",
	"0.0.38-dev.108+g152d059",
	"0.0.38-dev.109+g0a1b2c3",
	"0.0.38",
	"v0.0.63",
	"1.2.0-alpha",
	"1.2.0-alpha.1",
	"1.2.0-beta.2",
	"1.2.0-rc.1",
	"1.2.0-rc.2",
	"1.2.0-rc.10",
	"1.2.0",
	"1.2.1-alpha",
	"1.10.0",
	"2.0.0-alpha",
	"2.0.0-alpha.1",
	"2.0.0-beta.2+build.5",
	"2.0.0",
	"2.0.1+build.1",
}

// TestOrderMatchesTools checks every pair of the history, in both
// directions and with itself, with semver, dpkg and rpm. It does so for the
// default release and for per-distro release suffixes from the distro
// catalogue (the release must never outweigh the version).
func TestOrderMatchesTools(t *testing.T) {
	testdeps.Tools(t, "dpkg", "rpm")
	vs := make([]Version, len(ascending))
	for i, s := range ascending {
		v, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}

	// semver's own order, as the semver library has it.
	for i := range vs {
		for j := range vs {
			a := semver.MustParse(vs[i].String())
			b := semver.MustParse(vs[j].String())
			if got, want := a.Compare(b), sign(i-j); got != want {
				t.Errorf("semver: %s %s %s, but the history says %s", ascending[i], word(got), ascending[j], word(want))
			}
		}
	}

	for _, rel := range []struct{ deb, rpm string }{{"1", "1"}, {"1~deb12", "1.el8"}, {"3~ubuntu24.04", "2.fc41"}} {
		t.Run(fmt.Sprintf("release=%s,%s", rel.deb, rel.rpm), func(t *testing.T) {
			var pairs [][2]string
			var want []int
			for i := range vs {
				for j := range vs {
					a, b := vs[i].NFPM("rpm", rel.rpm), vs[j].NFPM("rpm", rel.rpm)
					pairs = append(pairs, [2]string{a.Full("rpm"), b.Full("rpm")})
					want = append(want, sign(i-j))
				}
			}
			for k, got := range rpmCmp(t, pairs) {
				if got != want[k] {
					t.Errorf("rpm: %s %s %s, semver says %s", pairs[k][0], word(got), pairs[k][1], word(want[k]))
				}
			}
			// dpkg runs once per question; the pairs above and below the
			// diagonal are the same question, so ask one side and itself.
			for i := range vs {
				for j := i; j < len(vs); j++ {
					a, b := vs[i].Deb(rel.deb), vs[j].Deb(rel.deb)
					if got, want := dpkgCmp(t, a, b), sign(i-j); got != want {
						t.Errorf("dpkg: %s %s %s, semver says %s", a, word(got), b, word(want))
					}
				}
			}
		})
	}
}

// TestDivergenceFromSemver documents, with the real tools, every way dpkg
// and rpm can order two versions differently from semver, and what Parse
// does about it (see the package doc). Each row states the order semver,
// dpkg and rpm give; a change in any tool's behaviour fails here.
//
// Rows Parse rejects are compared in the form a naive mapping would have
// produced (prerelease after '~', as nfpm does, or '-' turned into '.'),
// to show the mis-order the rejection prevents.
func TestDivergenceFromSemver(t *testing.T) {
	testdeps.Tools(t, "dpkg", "rpm")
	rows := []struct {
		a, b string // semver
		// pa, pb: the upstream versions the tools compare for a rejected
		// row (rpa, rpb for rpm when it differs); for an accepted row they
		// are Deb/RPM of a and b.
		pa, pb, rpa, rpb  string
		semver, dpkg, rpm int
		accepted          bool // Parse accepts both a and b
		why               string
	}{
		// Agreement: what the accepted grammar relies on.
		{a: "1.2.0-rc.2", b: "1.2.0-rc.10", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "numeric identifiers are numbers in all three"},
		{a: "1.2.0-alpha", b: "1.2.0-alpha.1", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "a longer prerelease sorts after its prefix in all three"},
		{a: "1.2.0-rc.1", b: "1.2.0", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "'~' sorts before the end of the string"},
		{a: "1.2.0-rc.1", b: "1.2.0+build.1", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "'~' sorts before '+'"},
		{a: "1.2.0-RC.1", b: "1.2.0-alpha", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "all three compare letters as ASCII: upper case first"},
		{a: "1.2.0-rc.1+g152d059", b: "1.2.0-rc.1.1", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "metadata starting with a letter sorts before a further number (dpkg: '+' < '.'; rpm: letters < digits)"},
		{a: "1.2.0-rc+g152d059", b: "1.2.0-rc.1", semver: -1, dpkg: -1, rpm: -1, accepted: true,
			why: "same, after a bare word"},
		// Metadata: semver ignores it, the tools order by it. Not a
		// contradiction: semver calls these equal.
		{a: "1.2.0+build.2", b: "1.2.0+build.10", semver: 0, dpkg: -1, rpm: -1, accepted: true,
			why: "metadata is not part of semver precedence; dpkg and rpm compare it"},
		{a: "0.0.38-dev.108", b: "0.0.38-dev.108+g152d059", semver: 0, dpkg: -1, rpm: -1, accepted: true,
			why: "same: the build with metadata sorts after the one without"},

		// Rejected by Parse, because the tools contradict semver.
		{a: "1.2.0-rc2", b: "1.2.0-rc10", pa: "1.2.0~rc2", pb: "1.2.0~rc10", semver: 1, dpkg: -1, rpm: -1,
			why: "mixed identifier: semver compares rc2/rc10 as text, the tools the digits as numbers"},
		{a: "1.2.0-alpha-2", b: "1.2.0-alpha-10", pa: "1.2.0~alpha.2", pb: "1.2.0~alpha.10", semver: 1, dpkg: -1, rpm: -1,
			why: "hyphen: turning '-' into '.' (rpm cannot carry '-') makes the digits a number; semver compares alpha-2/alpha-10 as text"},
		{a: "1.2.0-alpha-2", b: "1.2.0-alpha-10", pa: "1.2.0~alpha-2", pb: "1.2.0~alpha-10", rpa: "1.2.0~alpha_2", rpb: "1.2.0~alpha_10",
			semver: 1, dpkg: -1, rpm: -1,
			why: "hyphen: nfpm's own mapping (deb keeps '-', rpm turns it into '_') mis-orders the same way"},
		{a: "1.2.0-1", b: "1.2.0-alpha", pa: "1.2.0~1", pb: "1.2.0~alpha", semver: -1, dpkg: -1, rpm: 1,
			why: "prerelease starting with a number: rpm sorts digits after letters, semver and dpkg before"},
		{a: "1.2.0-alpha.1", b: "1.2.0-alpha.beta", pa: "1.2.0~alpha.1", pb: "1.2.0~alpha.beta", semver: -1, dpkg: -1, rpm: 1,
			why: "word after the first identifier: same rpm rule"},

		// Accepted by Parse although a tool disagrees: the mis-order needs
		// a particular pair, which no check of one version can see. The
		// package doc says what to avoid.
		{a: "1.2.0-pre.1", b: "1.2.0-preview", semver: -1, dpkg: 1, rpm: -1, accepted: true,
			why: "dpkg: one word a prefix of another; dpkg sorts '.' after letters"},
		{a: "1.2.0-rc+g1", b: "1.2.0-rcx", semver: -1, dpkg: 1, rpm: -1, accepted: true,
			why: "dpkg: same with '+'"},
		{a: "1.2.0-rc+5", b: "1.2.0-rc.1", semver: -1, dpkg: -1, rpm: 1, accepted: true,
			why: "rpm: metadata starting with a digit is compared with the next prerelease number"},
	}

	var debPairs, rpmPairs [][2]string
	for i := range rows {
		r := &rows[i]
		va, errA := Parse(r.a)
		vb, errB := Parse(r.b)
		if r.accepted {
			if errA != nil || errB != nil {
				t.Fatalf("%s vs %s: documented as accepted, but Parse says %v / %v", r.a, r.b, errA, errB)
			}
			// What the tools compare is exactly what relpack ships.
			ra, _ := va.RPM()
			rb, _ := vb.RPM()
			r.pa, r.pb = ra, rb
			if va.Deb("1") != ra+"-1" || vb.Deb("1") != rb+"-1" {
				t.Fatalf("%s vs %s: deb and rpm upstream versions differ", r.a, r.b)
			}
		} else if errA == nil && errB == nil {
			t.Fatalf("%s vs %s: documented as rejected, but Parse accepts both", r.a, r.b)
		}
		debPairs = append(debPairs, [2]string{r.pa + "-1", r.pb + "-1"})
		if r.rpa == "" {
			r.rpa, r.rpb = r.pa, r.pb
		}
		rpmPairs = append(rpmPairs, [2]string{r.rpa + "-1", r.rpb + "-1"})
	}
	rpmGot := rpmCmp(t, rpmPairs)

	for i, r := range rows {
		name := fmt.Sprintf("%s vs %s", r.a, r.b)
		sa, err := semver.StrictNewVersion(r.a)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := semver.StrictNewVersion(r.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := sa.Compare(sb); got != r.semver {
			t.Errorf("%s: semver says %s, table says %s (%s)", name, word(got), word(r.semver), r.why)
		}
		if got := dpkgCmp(t, debPairs[i][0], debPairs[i][1]); got != r.dpkg {
			t.Errorf("%s: dpkg says %s %s %s, table says %s (%s)", name, debPairs[i][0], word(got), debPairs[i][1], word(r.dpkg), r.why)
		}
		if got := rpmGot[i]; got != r.rpm {
			t.Errorf("%s: rpm says %s %s %s, table says %s (%s)", name, rpmPairs[i][0], word(got), rpmPairs[i][1], word(r.rpm), r.why)
		}
		// A row where semver orders two versions and a tool reverses it is
		// a mis-order; it must be either rejected or one of the documented
		// pair hazards.
		misorder := r.semver != 0 && (r.dpkg != r.semver || r.rpm != r.semver)
		t.Logf("%-40s semver %s  dpkg %s  rpm %s  accepted=%-5v mis-order=%-5v %s",
			name, word(r.semver), word(r.dpkg), word(r.rpm), r.accepted, misorder, r.why)
	}
}
