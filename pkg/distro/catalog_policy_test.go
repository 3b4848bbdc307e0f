package distro_test

import (
	"strings"
	"testing"

	"relpack/internal/policytest"
	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

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
	for _, d := range distro.Catalog() {
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
	for _, d := range distro.Catalog() {
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
			p, err := distro.PolicyFor(floor, arch, nil)
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
					if c, _ := policytest.CatalogLimit(floor, arch, fam); abi.CompareVersions(c, want) < 0 {
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
				want, who := policytest.CatalogLimit(floor, arch, fam)
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
	if _, err := distro.PolicyFor("2.x", "x86_64", nil); err == nil || !strings.Contains(err.Error(), "not a glibc version") {
		t.Errorf("bad floor: %v", err)
	}
	if _, err := distro.PolicyFor(oldest, "riscv64", nil); err == nil || !strings.Contains(err.Error(), "riscv64") {
		t.Errorf("bad arch: %v", err)
	}
	// Every captured libstdc++ defines CXXABI_TM_1 and no other
	// CXXABI_TM version: the derived limit of 1 holds.
	for _, d := range distro.Catalog() {
		for arch, libs := range d.Libraries {
			if l := libs["libstdc++.so.6"]; l != nil && l.HighestDefined("CXXABI_TM") != "1" {
				t.Errorf("%s %s: libstdc++ CXXABI_TM is %q", d.ID, arch, l.HighestDefined("CXXABI_TM"))
			}
		}
	}
}
