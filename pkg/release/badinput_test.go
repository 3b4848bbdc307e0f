package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"relpack/internal/clitest"
	"strings"
	"testing"
)

// TestBadInputs runs the CLI on one broken thing at a time: each must exit
// non-zero with a message naming the file and the fix, and leave no
// artifact (and no staging folder) in the output directory.
func TestBadInputs(t *testing.T) {
	bin := clitest.Bin(t)
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	base, err := os.ReadFile(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfgText := strings.ReplaceAll(string(base), "../fixtures/", fixtures+"/")
	gnuLine := "x86_64-unknown-linux-gnu: " + fixtures + "/demo/x86_64-unknown-linux-gnu/openshell-gateway"
	withGNU := func(p string) func(string) string {
		return func(s string) string { return strings.Replace(s, gnuLine, "x86_64-unknown-linux-gnu: "+p, 1) }
	}
	roDir := filepath.Join(t.TempDir(), "ro")
	os.MkdirAll(roDir, 0o755)

	cases := []struct {
		name    string
		edit    func(string) string
		args    []string // extra CLI args
		out     string   // output dir ("" = a fresh temp dir)
		want    []string
		setup   func(t *testing.T)
		cleanup func()
	}{
		{name: "missing file", edit: withGNU("/nonexistent/openshell-gateway"),
			want: []string{"input x86_64-unknown-linux-gnu (/nonexistent/openshell-gateway): the file does not exist", "fix inputs.x86_64-unknown-linux-gnu"}},
		{name: "directory", edit: withGNU(fixtures + "/demo"),
			want: []string{"(" + fixtures + "/demo): is a directory; give the binary inside it"}},
		{name: "not ELF", edit: withGNU(fixtures + "/demo/LICENSE"),
			want: []string{"/demo/LICENSE): not an ELF file", "give a compiled binary"}},
		{name: "wrong arch", edit: withGNU(fixtures + "/demo/aarch64-unknown-linux-gnu/openshell-gateway"),
			want: []string{"is built for aarch64, but x86_64-unknown-linux-gnu is an x86_64 triple"}},
		{name: "musl as gnu", edit: withGNU(fixtures + "/demo/x86_64-unknown-linux-musl/openshell-gateway"),
			want: []string{"not a dynamically linked glibc binary; give it as the -musl triple"}},
		{name: "floor violation", edit: withGNU(fixtures + "/x86_64/math-2.29"),
			want: []string{"breaks the promised floor (floor.glibc 2.28", "GLIBC_2.29: exp, exp2, log, log2, posix_spawn_file_actions_addchdir_np, pow", "libm.so.6]\nRebuild against an older glibc"}},
		{name: "z3 expectation", edit: withGNU(fixtures + "/x86_64/hello-2.28"),
			want: []string{"says z3: unbundled, but the binary is bundled"}},
		{name: "unmapped soname", edit: func(s string) string {
			return strings.Replace(s, "targets:\n", "targets:\n  - id: minimal\n    name: Minimal\n    format: deb\n    glibc: \"2.36\"\n    compression: xz\n    release_suffix: \"~min\"\n    arches: [x86_64]\n    libc_package: libc6\n    sonames: {}\n", 1)
		}, want: []string{"needs libz3.so.4, and distro target minimal has no package mapped for it", "add `libz3.so.4: <package that ships it on minimal>`"}},
		{name: "soname mismatch", edit: func(s string) string {
			return strings.Replace(s, "targets:\n", "targets:\n  - fedora41\n", 1)
		}, want: []string{"target fedora41", "needs libz3.so.4, but fedora41 ships libz3 as libz3.so.4.13 (package z3-libs)", "will not load there", "sidecar"}},
		{name: "bad version", args: []string{"--version", "1.2"},
			want: []string{`--version: version "1.2"`}},
		{name: "unknown config key", edit: func(s string) string { return strings.Replace(s, "z3: unbundled", "z3: unbundled\nz3_mode: x", 1) },
			want: []string{"packaging.yaml:", "unknown field z3_mode"}},
		{name: "output not writable", out: roDir,
			setup: func(t *testing.T) {
				if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", roDir).CombinedOutput(); err != nil {
					t.Fatalf("mount a read-only tmpfs (needs root): %v %s", err, out)
				}
			},
			cleanup: func() { exec.Command("umount", roDir).Run() },
			want:    []string{"output directory " + roDir + " is not writable", "read-only file system", "choose another --out"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			text := cfgText
			if c.edit != nil {
				text = c.edit(text)
				if text == cfgText {
					t.Fatal("edit did not apply")
				}
			}
			cfg := filepath.Join(dir, "packaging.yaml")
			os.WriteFile(cfg, []byte(text), 0o644)
			out := c.out
			if out == "" {
				out = filepath.Join(dir, "dist")
			}
			if c.setup != nil {
				c.setup(t)
				defer c.cleanup()
			}
			args := append([]string{"build", "-c", cfg, "--version", demoVer, "--out", out}, c.args...)
			o, e, err := run("", nil, bin, args...)
			if err == nil {
				t.Fatalf("exit 0:\n%s", o)
			}
			for _, w := range c.want {
				if !strings.Contains(e, w) {
					t.Errorf("stderr lacks %q:\n%s", w, e)
				}
			}
			entries, _ := os.ReadDir(out)
			if len(entries) > 0 {
				var names []string
				for _, en := range entries {
					names = append(names, en.Name())
				}
				t.Errorf("output directory not empty after a failed build: %v", names)
			}
		})
	}
}
