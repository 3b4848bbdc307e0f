package merge

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/pipeline"
	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	os.Exit(code)
}

const demoVersion = "0.1.0"

// demoConfig writes the demo's packaging.yaml into a folder of the test's
// own, with its paths made absolute, after edit; it returns its path.
func demoConfig(t *testing.T, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/demo/packaging.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "../fixtures", fixtures)
	if edit != nil {
		s = edit(s)
	}
	p := filepath.Join(t.TempDir(), "packaging.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkout makes a checkout of the demo at dir (demo/packaging.yaml and
// fixtures/ beside it, as in the repository) and returns dir.
func checkout(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if o, err := exec.Command("cp", "-a", "../../testdata/fixtures", filepath.Join(dir, "fixtures")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, o)
	}
	b, err := os.ReadFile("../../testdata/demo/packaging.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo", "packaging.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// relpack runs the CLI and fails the test unless it exits 0.
func relpack(t *testing.T, args ...string) string {
	t.Helper()
	o, e, code := clitest.Run(t, args...)
	if code != 0 {
		t.Fatalf("relpack %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
	}
	return o
}

// sameTree fails unless folders a and b hold the same file names with the
// same bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	names := func(d string) []string {
		es, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	na, nb := names(a), names(b)
	if !slices.Equal(na, nb) {
		t.Fatalf("%s holds %v\n%s holds %v", a, na, b, nb)
	}
	for _, n := range na {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the full build and the merge (%d and %d bytes)", n, len(x), len(y))
		}
	}
}

// TestSplitAndMerge builds the demo release three times, in full and as two
// partials (--only x86_64, --only aarch64), merges the partials and holds
// every file of the merge, manifest.json and SHA256SUMS included, to the
// full build's bytes. Then each mismatch merge must refuse is tried
// through the CLI: exit 1, a message naming the folders, --out untouched.
func TestSplitAndMerge(t *testing.T) {
	cfg := demoConfig(t, nil)
	dir := t.TempDir()
	full, px, pa := filepath.Join(dir, "full"), filepath.Join(dir, "x86_64"), filepath.Join(dir, "aarch64")
	// Each job runs in a checkout of the repository, at the same place
	// (a CI runner's work folder), so packaging.yaml's path and bytes,
	// which the provenance records, are the same. The x86_64 job's
	// checkout has no aarch64 binaries or libraries: it needs none.
	co := checkout(t, filepath.Join(dir, "checkout"))
	pcfg := filepath.Join(co, "demo", "packaging.yaml")
	relpack(t, "build", "-q", "-c", pcfg, "--version", demoVersion, "--out", full)
	relpack(t, "build", "-q", "-c", pcfg, "--version", demoVersion, "--only", "aarch64", "--out", pa)
	arm, _ := filepath.Glob(filepath.Join(co, "fixtures", "demo", "aarch64-*"))
	for _, p := range append(arm, filepath.Join(co, "fixtures", "aarch64")) {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, e, code := clitest.Run(t, "build", "-c", pcfg, "--version", demoVersion, "--out", filepath.Join(dir, "never")); code != 1 || !strings.Contains(e, "aarch64-unknown-linux-gnu/openshell-gateway): the file does not exist") {
		t.Fatalf("a full build without the aarch64 inputs: exit %d\n%s", code, e)
	}
	relpack(t, "build", "-q", "-c", pcfg, "--version", demoVersion, "--only", "x86_64", "--out", px)

	for _, p := range []string{px, pa} {
		m, err := manifest.ReadValid(filepath.Join(p, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		arch := filepath.Base(p)
		if !m.Partial || !slices.Equal(m.Selectors, []string{arch}) || len(m.Artifacts) == 0 || len(m.Planned) <= len(m.Artifacts) {
			t.Fatalf("%s: partial %v selectors %v, %d artifacts of %d planned", p, m.Partial, m.Selectors, len(m.Artifacts), len(m.Planned))
		}
		for _, a := range m.Artifacts {
			if a.Arch != arch {
				t.Errorf("%s holds %s (%s)", p, a.File, a.Arch)
			}
		}
		for _, in := range m.Inputs {
			if in.Machine != arch {
				t.Errorf("%s read input %s", p, in.Triple)
			}
		}
	}
	fm, err := manifest.ReadValid(filepath.Join(full, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fm.Partial || fm.Planned != nil || len(fm.ConfigDigest) != 64 {
		t.Fatalf("full build: partial %v, planned %v, config_digest %q", fm.Partial, fm.Planned, fm.ConfigDigest)
	}

	merged := filepath.Join(dir, "merged")
	relpack(t, "merge", px, pa, "--out", merged)
	sameTree(t, full, merged)
	sh := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	sh.Dir = merged
	if testdeps.Tools(t, "sha256sum"); true {
		if o, err := sh.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c in the merged release: %v\n%s", err, o)
		}
	}

	// The refusals. Each partial below differs from px/pa in one way.
	other := func(name string, args ...string) string {
		p := filepath.Join(dir, name)
		relpack(t, append([]string{"build", "-q", "--out", p}, args...)...)
		return p
	}
	pv := other("version", "-c", cfg, "--version", "0.1.1", "--only", "aarch64")
	pc := other("config", "-c", demoConfig(t, func(s string) string { return strings.Replace(s, "section: net", "section: admin", 1) }),
		"--version", demoVersion, "--only", "aarch64")
	pm := other("musl", "-c", cfg, "--version", demoVersion, "--only", "x86_64-unknown-linux-musl")
	copyDir := func(src, name string, change func(d string)) string {
		d := filepath.Join(dir, name)
		if o, err := exec.Command("cp", "-a", src, d).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, o)
		}
		change(d)
		return d
	}
	m, err := manifest.ReadValid(filepath.Join(px, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	victim := m.Artifacts[0].File
	gone := copyDir(px, "gone", func(d string) { os.Remove(filepath.Join(d, victim)) })
	flipped := copyDir(px, "flipped", func(d string) {
		p := filepath.Join(d, victim)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	// Another SOURCE_DATE_EPOCH; a manifest edited after the build; one
	// x86_64 input read as two different binaries by two partials (the
	// release input with a byte appended, through --bin).
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	pe := other("epoch", "-c", cfg, "--version", demoVersion, "--only", "aarch64")
	os.Unsetenv("SOURCE_DATE_EPOCH")
	edited := copyDir(px, "edited", func(d string) {
		p := filepath.Join(d, "manifest.json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Replace(b, []byte(`"summary": "`), []byte(`"summary": "Edited `), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	bin, err := os.ReadFile("../../testdata/fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway")
	if err != nil {
		t.Fatal(err)
	}
	grown := filepath.Join(dir, "grown-openshell-gateway")
	if err := os.WriteFile(grown, append(bin, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	pt := other("tarballs", "-c", cfg, "--version", demoVersion, "--only", "x86_64", "--only", "tarball")
	pd := other("debs", "-c", cfg, "--version", demoVersion, "--only", "x86_64", "--only", "deb", "--bin", "x86_64-unknown-linux-gnu="+grown)

	for _, c := range []struct {
		name string
		dirs []string
		want []string
	}{
		{"versions", []string{px, pv}, []string{"different versions", px, pv, "0.1.0", "0.1.1"}},
		{"configurations", []string{px, pc}, []string{"different configurations", px, pc, "config_digest"}},
		{"overlap", []string{px, pa, pm}, []string{px, pm, "both hold", "openshell-gateway-x86_64-unknown-linux-musl"}}, // its tarball, or first its debug tarball
		{"missing file", []string{gone, pa}, []string{filepath.Join(gone, victim), "is missing"}},
		{"changed file", []string{flipped, pa}, []string{filepath.Join(flipped, victim), "has sha256", "SHA256SUMS and manifest.json record", "changed after the build"}},
		{"missing artifacts", []string{px}, []string{px, "missing", "openshell-gateway-aarch64-unknown-linux-gnu.tar.gz"}},
		{"full release", []string{full, pa}, []string{full, "full release"}},
		{"same folder", []string{px, px}, []string{"same folder"}},
		{"epoch", []string{px, pe}, []string{"SOURCE_DATE_EPOCH", px, pe, "1700000000"}},
		{"edited manifest", []string{edited, pa}, []string{filepath.Join(edited, "manifest.json"), "does not match its SHA256SUMS"}},
		{"different inputs", []string{pt, pd, pa}, []string{pt, pd, "read different input binaries"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, e, code := clitest.Run(t, append([]string{"merge", "--out", out}, c.dirs...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, e)
			}
			for _, w := range c.want {
				if !strings.Contains(e, w) {
					t.Errorf("message lacks %q:\n%s", w, e)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out %s was created (%v)", out, err)
			}
		})
	}

	// A partial a build still writes (its lock held) is not read.
	t.Run("in use", func(t *testing.T) {
		f, err := os.Open(pa)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		out := filepath.Join(t.TempDir(), "out")
		_, e, code := clitest.Run(t, "merge", "--out", out, px, pa)
		if code != 1 || !strings.Contains(e, pa+" is in use by a relpack build") {
			t.Errorf("exit %d\n%s", code, e)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("--out %s was created (%v)", out, err)
		}
	})

	// An --out holding a release is left byte for byte as it was.
	t.Run("out untouched", func(t *testing.T) {
		out := copyDir(full, "kept", func(string) {})
		_, e, code := clitest.Run(t, "merge", "--clean", "--out", out, flipped, pa)
		if code != 1 || !strings.Contains(e, "changed after the build") {
			t.Fatalf("exit %d\n%s", code, e)
		}
		sameTree(t, full, out)
	})

	// A selector that is none of the release's is refused with the valid ones.
	_, e, code := clitest.Run(t, "build", "-c", cfg, "--version", demoVersion, "--only", "riscv64", "--out", filepath.Join(dir, "never"))
	for _, w := range []string{`"riscv64"`, "x86_64-unknown-linux-gnu", "aarch64", "debian12", "tarball", "rpm"} {
		if !strings.Contains(e, w) {
			t.Errorf("--only riscv64: exit %d, message lacks %q:\n%s", code, w, e)
		}
	}
	if code == 0 {
		t.Error("--only riscv64 succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); !os.IsNotExist(err) {
		t.Error("--only riscv64 created --out")
	}
}

// TestSignedSplitAndMerge signs as a CI matrix would: each arch's job
// builds and signs its packages (--only ARCH --sign), the merge job signs
// SHA256SUMS once; the release is byte-identical to one signed build, and
// merging signed partials unsigned (or unsigned partials with --sign) is
// refused.
func TestSignedSplitAndMerge(t *testing.T) {
	testdeps.Tools(t, "gpg")
	key := signtest.Generate(t, "rsa3072", "correct horse")
	t.Setenv(sign.PassphraseEnv, "correct horse")
	cfg := demoConfig(t, func(s string) string { return s + "signing:\n  key_file: " + key.SecretFile + "\n" })
	dir := t.TempDir()
	full, px, pa := filepath.Join(dir, "full"), filepath.Join(dir, "x86_64"), filepath.Join(dir, "aarch64")
	relpack(t, "build", "-q", "--sign", "-c", cfg, "--version", demoVersion, "--out", full)
	relpack(t, "build", "-q", "--sign", "-c", cfg, "--version", demoVersion, "--only", "x86_64", "--out", px)
	relpack(t, "build", "-q", "--sign", "-c", cfg, "--version", demoVersion, "--only", "aarch64", "--out", pa)

	_, e, code := clitest.Run(t, "merge", "--out", filepath.Join(dir, "unsigned"), px, pa)
	if code != 1 || !strings.Contains(e, "pass --sign") {
		t.Errorf("merging signed partials without --sign: exit %d\n%s", code, e)
	}
	merged := filepath.Join(dir, "merged")
	relpack(t, "merge", "--sign", "-c", cfg, "--out", merged, px, pa)
	sameTree(t, full, merged)
	home := signtest.VerifierHome(t, filepath.Join(merged, "KEY.asc"))
	if st, err := signtest.Verify(home, filepath.Join(merged, "SHA256SUMS.asc"), filepath.Join(merged, "SHA256SUMS")); err != nil || !strings.Contains(st, "VALIDSIG "+key.Fingerprint) {
		t.Errorf("gpg --verify SHA256SUMS.asc: %v\n%s", err, st)
	}
}

// TestStagesNamed holds the stage lists to what pipeline.Run and
// docs/architecture.md need: every stage named once and runnable.
func TestStagesNamed(t *testing.T) {
	seen := map[string]bool{}
	for _, list := range [][]pipeline.Stage[*job]{stages, stagingStages} {
		for _, s := range list {
			if s.Name == "" || s.Run == nil {
				t.Errorf("stage %q has no name or no function", s.Name)
			}
			if seen[s.Name] {
				t.Errorf("stage %q listed twice", s.Name)
			}
			seen[s.Name] = true
		}
	}
	if got, want := len(Stages()), len(stages)+len(stagingStages); got != want {
		t.Errorf("Stages() lists %d stages, want %d: %q", got, want, Stages())
	}
}
