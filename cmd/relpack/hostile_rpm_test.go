package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/clitest"
	"relpack/internal/rpmtag"
	"relpack/internal/rpmtest"
	"relpack/pkg/manifest"
	"relpack/pkg/sign/signtest"
)

// Issue 18, section 3: the rpm header reader grew with file count x
// directory-name length (a 269 KB rpm took relpack repo 1.7 GB, a 1.2 MB
// one crashed it) and with entries sharing one data region. A release
// holding such an rpm in place of its el8 package, with manifest.json and
// SHA256SUMS made to agree (as whoever can write the folder can), is
// refused by relpack repo and relpack verify-release: exit 1, the rpm
// named, the command's peak RSS under refusedRSS, --out not created, the
// release's folder as it was.
//
// The long-directory rpms carry the right NAME, VERSION, RELEASE, ARCH
// and OS and digests that agree with their bytes (rpmtest.Sealed), so
// the verifier, which reads no file list, passes them and they reach
// rpm-md's reader (rpmmd.ReadMeta), where the file names blew up; repo
// runs it on the release's file before the tree is touched, so the
// message names that file, not a copy in --out. The shared-data rpm is
// refused by the header reader both commands run.
func TestRepoRefusesHostileRPM(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	dist := demoVersion(t, "0.1.0")
	rpm := artifactNamed(t, dist, ".el8.x86_64.rpm")
	m, err := manifest.Read(filepath.Join(dist, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var version, release string
	for _, a := range m.Artifacts {
		if a.File == rpm {
			i := strings.LastIndex(a.PackageVersion, "-")
			version, release = a.PackageVersion[:i], a.PackageVersion[i+1:]
		}
	}
	if version == "" {
		t.Fatalf("manifest.json lists no %s", rpm)
	}
	sealedLongDir := func(dirLen, files int) []byte {
		return rpmtest.Sealed([]byte("payload"), append(rpmtest.LongDirTags(dirLen, files),
			rpmtest.Tag{Tag: rpmtag.Name, Type: rpmtag.TypeString, Value: m.Product},
			rpmtest.Tag{Tag: rpmtag.Version, Type: rpmtag.TypeString, Value: version},
			rpmtest.Tag{Tag: rpmtag.Release, Type: rpmtag.TypeString, Value: release},
			rpmtest.Tag{Tag: rpmtag.Arch, Type: rpmtag.TypeString, Value: "x86_64"},
			rpmtest.Tag{Tag: rpmtag.OS, Type: rpmtag.TypeString, Value: "linux"})...)
	}
	for _, c := range []struct {
		name       string
		rpm        []byte
		repo, veri string // what repo and verify-release say of the rpm ("" verify-release passes it)
	}{
		{"16000 files in one 32 KiB directory", sealedLongDir(32<<10, 16000), "file names add up to more than", ""},
		{"100000 files in one 64 KiB directory", sealedLongDir(64<<10, 100000), "file names add up to more than", ""},
		{"40 tags sharing 1 MiB of NULs", rpmtest.SharedData(1 << 20), "entries may not share data", "entries may not share data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := copyTree(t, dist)
			if err := os.WriteFile(filepath.Join(d, rpm), c.rpm, 0o644); err != nil {
				t.Fatal(err)
			}
			// Its SBOMs and provenance would name the genuine rpm.
			stripSBOMs(t, d)
			reseal(t, d, nil, nil)
			parent := filepath.Dir(d)
			before := stateOfTree(t, parent)
			named := filepath.Join(d, rpm) + ": "

			out := filepath.Join(t.TempDir(), "repo")
			_, stderr, code, rss := clitest.RunMeasured(t, 2*time.Minute, "repo", d, "--allow-unsigned-release", "--out", out, "--url", "https://example.org/r", "-c", cfg)
			if code != 1 || !strings.Contains(stderr, named) || !strings.Contains(stderr, c.repo) || strings.Contains(stderr, out) {
				t.Errorf("repo: exit %d, want 1 naming %s (not a copy in --out) with %q\n%s", code, named, c.repo, stderr)
			}
			if rss > refusedRSS {
				t.Errorf("repo of a %d-byte hostile rpm: peak RSS %d KiB, over %d KiB", len(c.rpm), rss, refusedRSS)
			}
			t.Logf("repo, %d-byte rpm: peak RSS %d KiB", len(c.rpm), rss)
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("a refused repo run created %s", out)
			}
			sameTree(t, "the release's folder", parent, before)

			_, stderr, code, rss = clitest.RunMeasured(t, 2*time.Minute, "verify-release", d)
			if code != 1 || !strings.Contains(stderr, "is NOT what its signature vouches for") {
				t.Errorf("verify-release: exit %d, want 1\n%s", code, stderr)
			}
			if c.veri != "" && (!strings.Contains(stderr, named) || !strings.Contains(stderr, c.veri)) {
				t.Errorf("verify-release does not name %s with %q:\n%s", rpm, c.veri, stderr)
			}
			if rss > refusedRSS {
				t.Errorf("verify-release of a %d-byte hostile rpm: peak RSS %d KiB, over %d KiB", len(c.rpm), rss, refusedRSS)
			}
			t.Logf("verify-release, %d-byte rpm: peak RSS %d KiB", len(c.rpm), rss)
			sameTree(t, "the release's folder", parent, before)
		})
	}
}
