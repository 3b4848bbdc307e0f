package abi

import "testing"

func TestCompareVersions(t *testing.T) {
	ordered := []string{"2.2.5", "2.3", "2.3.4", "2.17", "2.28", "2.29", "2.30", "2.34"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareVersions(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if CompareVersions("2.28", "2.28.0") != 0 {
		t.Error("2.28 and 2.28.0 should be equal")
	}
	if CompareVersions("3.4.9", "3.4.10") != -1 {
		t.Error("3.4.9 < 3.4.10 (numeric, not lexical)")
	}
}

func TestSplitVersionName(t *testing.T) {
	cases := []struct {
		in, fam, num string
		ok           bool
	}{
		{"GLIBC_2.2.5", "GLIBC", "2.2.5", true},
		{"GLIBCXX_3.4.29", "GLIBCXX", "3.4.29", true},
		{"CXXABI_1.3.13", "CXXABI", "1.3.13", true},
		{"CXXABI_TM_1", "CXXABI_TM", "1", true},
		{"GCC_3.0", "GCC", "3.0", true},
		{"LIBSELINUX_1.0", "LIBSELINUX", "1.0", true},
		{"GLIBC_PRIVATE", "", "", false},
		{"GLIBC_ABI_DT_RELR", "", "", false},
		{"GLIBC_2.", "", "", false},
		{"_1.0", "", "", false},
		{"NOVERSION", "", "", false},
	}
	for _, c := range cases {
		fam, num, ok := SplitVersionName(c.in)
		if fam != c.fam || num != c.num || ok != c.ok {
			t.Errorf("SplitVersionName(%q) = %q, %q, %v; want %q, %q, %v", c.in, fam, num, ok, c.fam, c.num, c.ok)
		}
	}
}
