package pack

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// TestReproducible writes every fixture artifact twice, here (umask 022,
// the inherited TZ) and in a child process (umask 077, TZ +14:00,
// GOMAXPROCS=1, input files with other modes and mtimes), and requires
// identical bytes.
func TestReproducible(t *testing.T) {
	const zone = "Pacific/Kiritimati" // UTC+14, no DST: as far from UTC as it gets
	if _, err := os.Stat(filepath.Join("/usr/share/zoneinfo", zone)); err != nil {
		t.Fatalf("time zone data for %s is missing (%v); install the tzdata package", zone, err)
	}
	elf := buildELF(t)

	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	in1, out1 := t.TempDir(), t.TempDir()
	if err := writeFixtureInputs(in1, elf); err != nil {
		t.Fatal(err)
	}
	if err := writeFixtures(in1, out1); err != nil {
		t.Fatal(err)
	}

	out2 := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envChildOut+"="+out2, envChildELF+"="+elf, envChildUmask+"=077",
		"TZ="+zone, "GOMAXPROCS=1", "SOURCE_DATE_EPOCH=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	env, err := os.ReadFile(filepath.Join(out2, "child-env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(env), "tz_offset=50400 umask=77\n"; got != want {
		t.Fatalf("the child did not run in the environment asked for: got %q, want %q", got, want)
	}
	os.Remove(filepath.Join(out2, "child-env.txt"))

	a, b := listFiles(t, out1), listFiles(t, out2)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("different artifact sets:\n%s\nvs\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	// tarball + 4 deb and 4 rpm compressions, 2 arches each
	if len(a) != 1+2*4*2 {
		t.Fatalf("expected 17 artifacts, got %d:\n%s", len(a), strings.Join(a, "\n"))
	}
	for _, rel := range a {
		s1, _, err := SHA256File(filepath.Join(out1, rel))
		if err != nil {
			t.Fatal(err)
		}
		s2, _, err := SHA256File(filepath.Join(out2, rel))
		if err != nil {
			t.Fatal(err)
		}
		if s1 != s2 {
			t.Errorf("%s differs between the two builds:\n  umask 022, TZ=%q: %s\n  umask 077, TZ=%q: %s", rel, os.Getenv("TZ"), s1, zone, s2)
		}
		for _, dir := range []string{out1, out2} {
			st, err := os.Stat(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != ArtifactMode {
				t.Errorf("%s has mode %v, want %v whatever the umask", filepath.Join(dir, rel), st.Mode().Perm(), fs.FileMode(ArtifactMode))
			}
		}
	}
}

// listFiles lists the regular files under dir, relative, sorted; it fails
// on leftover temporary files.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".relpack-tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
