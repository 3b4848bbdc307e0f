package distro

import (
	"strings"
	"testing"

	"relpack/pkg/abi"
)

// catalogLimit computes, without PolicyFor, a family's limit for a floor
// from the catalog entries: the lowest version that any target listing
// arch with glibc >= floor ships, read from its captured library facts
// where it has them and from its runtime: entry otherwise. It returns the
// limit and the target that ships it.
func catalogLimit(t *testing.T, floor, arch, family string) (string, string) {
	t.Helper()
	lib := map[string]string{"GLIBCXX": "libstdc++.so.6", "CXXABI": "libstdc++.so.6", "GCC": "libgcc_s.so.1"}[family]
	low, who, whoGlibc := "", "", ""
	for _, d := range Catalog() {
		if !contains(d.Arches, arch) || abi.CompareVersions(d.Glibc, floor) < 0 {
			continue
		}
		v := map[string]string{"GLIBCXX": d.Runtime.GLIBCXX, "CXXABI": d.Runtime.CXXABI, "GCC": d.Runtime.GCC}[family]
		if l := d.Libraries[arch][lib]; l != nil {
			best := ""
			for _, def := range l.VersionDefs {
				if n, ok := strings.CutPrefix(def, family+"_"); ok && abi.ValidVersion(n) && (best == "" || abi.CompareVersions(n, best) > 0) {
					best = n
				}
			}
			if best != "" {
				v = best
			}
		}
		// Ties go to the target with the oldest glibc (the one the floor
		// reaches first).
		if v != "" && (low == "" || abi.CompareVersions(v, low) < 0 ||
			(abi.CompareVersions(v, low) == 0 && abi.CompareVersions(d.Glibc, whoGlibc) < 0)) {
			low, who, whoGlibc = v, d.ID, d.Glibc
		}
	}
	return low, who
}

// floorsOfCatalog are the floors to try: each target's glibc, one step
// below and above it, and the manylinux tables' floors.
func floorsOfCatalog() []string {
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, d := range Catalog() {
		add(d.Glibc)
		maj, min, _ := strings.Cut(d.Glibc, ".")
		n := 0
		for _, c := range min {
			n = n*10 + int(c-'0')
		}
		add(maj + "." + itoa(n+1))
		if n > 0 {
			add(maj + "." + itoa(n-1))
		}
	}
	for _, m := range abi.Manylinux {
		add(m.Glibc())
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// Every floor's limits are the catalog's: for each floor the catalog can
// answer, each family is the lowest the targets reaching it ship, and the
// source names that target; floors above every target and below every
// target (without a manylinux table) are refused.
func TestPolicyFollowsCatalog(t *testing.T) {
	oldest, newest := "", ""
	newestID := ""
	for _, d := range Catalog() {
		if oldest == "" || abi.CompareVersions(d.Glibc, oldest) < 0 {
			oldest = d.Glibc
		}
		if newest == "" || abi.CompareVersions(d.Glibc, newest) > 0 {
			newest, newestID = d.Glibc, d.ID
		}
	}
	checked := 0
	for _, floor := range floorsOfCatalog() {
		for _, arch := range []string{"x86_64", "aarch64"} {
			p, err := PolicyFor(floor, arch, nil)
			switch {
			case abi.CompareVersions(floor, newest) > 0:
				if err == nil || !strings.Contains(err.Error(), "no target in the catalog ships glibc "+floor+" or newer (the newest, "+newestID+", ships "+newest+")") {
					t.Errorf("floor %s above every target: %v", floor, err)
				}
				continue
			case abi.CompareVersions(floor, oldest) < 0:
				ml, ok := abi.ManylinuxPolicy(floor, arch)
				if !ok {
					if err == nil || !strings.Contains(err.Error(), "below every catalog target's glibc") {
						t.Errorf("floor %s below every target, no table: %v", floor, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("floor %s/%s: %v", floor, arch, err)
				}
				// The table, capped by the catalog.
				for _, fam := range []string{"GLIBCXX", "CXXABI", "GCC"} {
					want := ml.Families[fam]
					if c, _ := catalogLimit(t, floor, arch, fam); abi.CompareVersions(c, want) < 0 {
						want = c
					}
					if p.Families[fam] != want {
						t.Errorf("floor %s/%s %s = %s, want %s", floor, arch, fam, p.Families[fam], want)
					}
				}
				checked++
				continue
			}
			if err != nil {
				t.Fatalf("floor %s/%s: %v", floor, arch, err)
			}
			if p.Glibc() != floor || p.Arch != arch || p.Families["CXXABI_TM"] != "1" {
				t.Errorf("floor %s/%s: %+v", floor, arch, p)
			}
			for _, fam := range []string{"GLIBCXX", "CXXABI", "GCC"} {
				want, who := catalogLimit(t, floor, arch, fam)
				if p.Families[fam] != want {
					t.Errorf("floor %s/%s %s = %s, want %s (%s)", floor, arch, fam, p.Families[fam], want, who)
				}
				if !strings.Contains(p.Sources[fam], " "+who+" (") || !strings.Contains(p.Sources[fam], fam+"_"+want) {
					t.Errorf("floor %s/%s %s source %q does not name %s", floor, arch, fam, p.Sources[fam], who)
				}
			}
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("only %d floors checked", checked)
	}
	if _, err := PolicyFor("2.x", "x86_64", nil); err == nil || !strings.Contains(err.Error(), "not a glibc version") {
		t.Errorf("bad floor: %v", err)
	}
	if _, err := PolicyFor(oldest, "riscv64", nil); err == nil || !strings.Contains(err.Error(), "riscv64") {
		t.Errorf("bad arch: %v", err)
	}
	// Every captured libstdc++ defines CXXABI_TM_1 and no other
	// CXXABI_TM version: the derived limit of 1 holds.
	for _, d := range Catalog() {
		for arch, libs := range d.Libraries {
			if l := libs["libstdc++.so.6"]; l != nil && l.HighestDefined("CXXABI_TM") != "1" {
				t.Errorf("%s %s: libstdc++ CXXABI_TM is %q", d.ID, arch, l.HighestDefined("CXXABI_TM"))
			}
		}
	}
}

// A new target moves the limits by itself: a target with glibc 2.50 makes
// floor 2.50 derivable, and one shipping an older runtime at a glibc lowers
// that floor's limits.
func TestPolicyNewTarget(t *testing.T) {
	cat := Catalog()
	if _, err := DerivePolicy(cat, "2.50", "x86_64"); err == nil {
		t.Fatal("2.50 derivable without a target")
	}
	cat = append(cat, Distro{ID: "future", Name: "Future 1", Glibc: "2.50", Arches: []string{"x86_64"},
		Runtime: Runtime{GLIBCXX: "3.4.40", CXXABI: "1.3.20", GCC: "20.0.0"}})
	p, err := DerivePolicy(cat, "2.50", "x86_64")
	if err != nil || p.Families["GLIBCXX"] != "3.4.40" || !strings.Contains(p.Sources["GLIBCXX"], "future (Future 1, glibc 2.50)") {
		t.Fatalf("2.50: %+v %v", p, err)
	}
	if _, err := DerivePolicy(cat, "2.50", "aarch64"); err == nil {
		t.Error("2.50 on aarch64, which the new target does not list, must be refused")
	}
	cat = append(cat, Distro{ID: "oldcxx", Name: "Old C++", Glibc: "2.40", Arches: []string{"x86_64"},
		Runtime: Runtime{GLIBCXX: "3.4.20", CXXABI: "1.3.8", GCC: "4.8.0"}})
	p, err = DerivePolicy(cat, "2.36", "x86_64")
	if err != nil || p.Families["GLIBCXX"] != "3.4.20" || p.Families["GCC"] != "4.8.0" || !strings.Contains(p.Sources["GCC"], "oldcxx") {
		t.Errorf("2.36 with an old runtime at 2.40: %+v %v", p, err)
	}
}

// The manylinux tables cross-check the derived limits: each difference
// must be listed here with its reason.
func TestPolicyManylinuxCrossCheck(t *testing.T) {
	// floor/arch/family -> why the catalog's limit differs from
	// auditwheel's manylinux-policy.json (pypa/auditwheel 86154d1).
	known := map[string]string{
		// auditwheel's manylinux_2_28 lists GLIBCXX up to 3.4.24 on both
		// arches; RHEL 8's system libstdc++ is GCC 8 (libstdc++-8.5.0),
		// which defines GLIBCXX_3.4.25, and every other catalog target
		// with glibc >= 2.28 ships more. The catalog's limit is what the
		// oldest 2.28 target really ships; manylinux's is one step more
		// conservative.
		"2.28/x86_64/GLIBCXX":  "el8's GCC 8 defines GLIBCXX_3.4.25; manylinux_2_28 stops at 3.4.24",
		"2.28/aarch64/GLIBCXX": "el8's GCC 8 defines GLIBCXX_3.4.25; manylinux_2_28 stops at 3.4.24",
		// el9's aarch64 libgcc_s (GCC 11) defines GCC_11.0 (as
		// manylinux_2_34 says), but el9 is not captured: its runtime:
		// entry is the x86_64 value, GCC_7.0.0, so the derived aarch64
		// limit is the stricter 7.0.0.
		"2.34/aarch64/GCC": "el9's runtime is documented for x86_64 only (GCC_7.0.0); aarch64 GCC 11 defines GCC_11.0",
	}
	seen := map[string]bool{}
	for _, ml := range abi.Manylinux {
		if ml.Arch != "x86_64" && ml.Arch != "aarch64" {
			continue
		}
		d, err := PolicyFor(ml.Glibc(), ml.Arch, nil)
		if err != nil {
			t.Errorf("%s/%s: %v", ml.Glibc(), ml.Arch, err)
			continue
		}
		for _, fam := range []string{"GLIBCXX", "CXXABI", "CXXABI_TM", "GCC"} {
			key := ml.Glibc() + "/" + ml.Arch + "/" + fam
			if d.Families[fam] == ml.Families[fam] {
				continue
			}
			seen[key] = true
			if known[key] == "" {
				t.Errorf("%s: derived %s, manylinux %s, and no reason is listed", key, d.Families[fam], ml.Families[fam])
			}
		}
	}
	for key := range known {
		if !seen[key] {
			t.Errorf("%s is listed as a difference but derived and manylinux agree now: drop it", key)
		}
	}
}
