package distro

import (
	"strings"
	"testing"

	"relpack/pkg/abi"
)

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
