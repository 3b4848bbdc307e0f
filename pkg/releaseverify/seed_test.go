package releaseverify

import "testing"

// TestRelpackPackagesVerify: the packages relpack's own writer makes,
// signed and unsigned, in every compression, pass the package checks; the
// fuzzer's seeds start from these.
func TestRelpackPackagesVerify(t *testing.T) {
	for _, c := range []struct{ format, comp string }{{"deb", "gzip"}, {"deb", "xz"}, {"deb", "zstd"}, {"rpm", "gzip"}, {"rpm", "xz"}, {"rpm", "zstd"}} {
		for _, signed := range []bool{false, true} {
			t.Run(c.format+"-"+c.comp+map[bool]string{true: "-signed"}[signed], func(t *testing.T) {
				ps, err := checkBytes(t, t.TempDir(), testArtifact(c.format), signed, testPackage(t, c.format, c.comp, signed))
				if err != nil || len(ps) > 0 {
					t.Fatalf("err %v, problems:\n%s", err, problemsText(ps))
				}
			})
		}
	}
}
