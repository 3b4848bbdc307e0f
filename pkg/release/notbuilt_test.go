package release

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/pkg/abi"
	"relpack/pkg/config"
)

// TestNotBuiltWarnings builds the demo without its aarch64 gnu input and
// without musl inputs: the build succeeds, and each thing it did not build
// is named in one warning (the Debian/Ubuntu aarch64 packages, whose
// targets list aarch64; the unused aarch64 sidecar library; the static
// tarballs). EL targets keep their aarch64 packages (their own inputs).
func TestNotBuiltWarnings(t *testing.T) {
	cfg := loadDemo(t)
	for _, triple := range []string{"aarch64-unknown-linux-gnu", "x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"} {
		delete(cfg.Inputs, triple)
	}
	var warn bytes.Buffer
	out := filepath.Join(t.TempDir(), "dist")
	// A day every demo target was still supported: this test is about what
	// was not built (TestEveryCatalogTargetBuilds holds the support warnings).
	before := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch, Warn: &warn, Now: before})
	if err != nil {
		t.Fatal(err)
	}
	got := lines(warn.String())
	want := []string{
		"tarball.sidecar.libraries.aarch64 is not used: the release has no aarch64-unknown-linux-gnu input, so no aarch64 sidecar tarball carries it",
		"no aarch64 package was built for debian11, debian12, debian13, ubuntu2204, ubuntu2404: the targets list aarch64, but the release has no aarch64-unknown-linux-gnu input",
		"the release has no musl build (no x86_64-unknown-linux-musl or aarch64-unknown-linux-musl input): no static tarball was built",
	}
	if len(got) != len(want) {
		t.Errorf("%d warnings, want %d:\n%s", len(got), len(want), warn.String())
	}
	for _, w := range want {
		if !strings.Contains(warn.String(), w) {
			t.Errorf("no warning says %q:\n%s", w, warn.String())
		}
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "warning: ") || !strings.Contains(l, "packaging.yaml") {
			t.Errorf("warning without its prefix or file: %s", l)
		}
	}
	el8arm := false
	for _, a := range m.Artifacts {
		if a.Libc == "musl" || (a.Arch == "aarch64" && !strings.HasPrefix(a.Distro, "el")) {
			t.Errorf("built %s", a.File)
		}
		el8arm = el8arm || (a.Arch == "aarch64" && a.Distro == "el8")
	}
	if !el8arm {
		t.Error("the el8 aarch64 package (its own input) was not built")
	}
}

func fakeInput(triple string, needed ...string) *Input {
	arch, rest, _ := strings.Cut(triple, "-")
	in := &Input{Triple: triple, Machine: arch, Libc: abi.LibcGlibc, Facts: &abi.Facts{Needed: needed}}
	if strings.HasSuffix(rest, "musl") {
		in.Libc = abi.LibcMusl
	}
	for _, n := range needed {
		if strings.HasPrefix(n, "libz3.so") {
			in.Z3So = n
		}
	}
	return in
}

// TestNotBuiltCases: a sidecar no input needs, a missing musl build for
// one architecture, and a complete release (no warning at all).
func TestNotBuiltCases(t *testing.T) {
	demo := loadDemo(t)
	paths := func(ins []*Input) map[string]string {
		out := map[string]string{}
		for _, in := range ins {
			out[in.Triple] = "/x/" + in.Triple
		}
		return out
	}
	full := []*Input{
		fakeInput("x86_64-unknown-linux-gnu", "libz3.so.4", "libc.so.6"),
		fakeInput("aarch64-unknown-linux-gnu", "libz3.so.4", "libc.so.6"),
		fakeInput("x86_64-unknown-linux-musl"),
		fakeInput("aarch64-unknown-linux-musl"),
	}
	if w := notBuilt(demo, paths(full), full); len(w) != 0 {
		t.Errorf("a complete release warns: %q", w)
	}

	bundled, err := config.Load("../../testdata/demo/packaging-bundled.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bundled.Tarball.Sidecar = demo.Tarball.Sidecar
	ins := []*Input{fakeInput("x86_64-unknown-linux-gnu", "libc.so.6"), fakeInput("x86_64-unknown-linux-musl")}
	// The bundled demo is x86_64 only, while its targets list aarch64
	// too: that is said as well.
	w := notBuilt(bundled, paths(ins), ins)
	if len(w) != 2 || !strings.Contains(w[0], "tarball.sidecar is configured, but no gnu input needs a library beyond glibc and GCC's runtime") || !strings.Contains(w[0], "no sidecar tarball was built") ||
		!strings.Contains(w[1], "no aarch64 package was built for el8, debian12") {
		t.Errorf("unused sidecar: %q", w)
	}

	ins = full[:3]
	w = notBuilt(demo, paths(ins), ins)
	if len(w) != 1 || !strings.Contains(w[0], "the release has no aarch64-unknown-linux-musl build: no static aarch64 tarball was built") {
		t.Errorf("no aarch64 musl: %q", w)
	}
}

// TestUnusedPrivateLibrary: a library made private for a target whose
// binary does not need it (the bundled demo links Z3 in) is named in a
// warning; the build succeeds and ships no libz3.
func TestUnusedPrivateLibrary(t *testing.T) {
	cfg, err := config.Load("../../testdata/demo/packaging-bundled.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stub, _ := filepath.Abs("../../testdata/fixtures/x86_64/libz3.so.4")
	cfg.Libraries = map[string]config.Library{"libz3": {Files: map[string]string{"x86_64": stub}, Private: []string{"debian12"}}}
	var warn bytes.Buffer
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: t.TempDir(), Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "warning: "+cfg.File+": libz3 is private for target debian12, but no binary packaged for debian12 needs it: its packages ship no libz3") {
		t.Errorf("warnings:\n%s", warn.String())
	}
	if strings.Contains(warn.String(), "for target el8") {
		t.Errorf("el8 is not private:\n%s", warn.String())
	}
	for _, a := range m.Artifacts {
		if a.Sidecar != nil || a.Runpath != "" {
			t.Errorf("%s ships a library: %+v", a.File, a)
		}
	}
}
