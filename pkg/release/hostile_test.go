package release

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
)

// These tests hold relpack build to "exit 0 is a sound release" against
// hostile and accidental input, through the CLI: each refusal exits
// non-zero with a message naming the file (and line) and leaves --out as it
// was.

// hostileDemo writes the demo configuration, with absolute fixture paths,
// into a fresh folder, edited by edit, and returns its path.
func hostileDemo(t *testing.T, edit func(string) string) string {
	t.Helper()
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	base, err := os.ReadFile(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(base), "../fixtures/", fixtures+"/")
	if edit != nil {
		edited := edit(text)
		if edited == text {
			t.Fatal("edit did not apply")
		}
		text = edited
	}
	cfg := filepath.Join(t.TempDir(), "packaging.yaml")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// treeState is a folder's file names and sha256 sums, hidden files
// included: "exactly the old release" means equal states.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			out[e.Name()+"/"] = "dir"
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out[e.Name()] = hex.EncodeToString(sum[:])
	}
	return out
}

func sameState(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for n, s := range want {
		if got[n] != s {
			t.Errorf("%s: %s changed or vanished (want %.12s, got %.12s)", what, n, s, got[n])
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: %s appeared", what, n)
		}
	}
}

func buildCLI(cfg, out string, env []string, extra ...string) (string, string, error) {
	args := append([]string{"build", "-c", cfg, "--version", demoVer, "--out", out}, extra...)
	return run("", env, clitestBin, args...)
}

var clitestBin string

func cli(t *testing.T) {
	t.Helper()
	clitestBin = clitest.Bin(t)
}

// TestHostileConfigRefused: every case is refused at load or plan time, with
// file:line, and --out is never created.
func TestHostileConfigRefused(t *testing.T) {
	cli(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	readme := "src: " + fixtures + "/demo/README.md\n    dst: /usr/share/doc/openshell-gateway/README.md"
	cases := []struct {
		name       string
		edit       func(string) string
		env        []string
		args       []string
		want       []string
		configFile string // instead of the edited demo
	}{
		{name: "maintainer injects fields",
			edit: repl("maintainer: OpenShell maintainers <maintainers@openshell.dev>", `maintainer: "A <a@b.org>\nPre-Depends: evil\nEssential: yes"`),
			want: []string{"packaging.yaml:14: maintainer holds a newline"}},
		{name: "maintainer block scalar",
			edit: repl("maintainer: OpenShell maintainers <maintainers@openshell.dev>", "maintainer: |\n  OpenShell maintainers <maintainers@openshell.dev>"),
			want: []string{"packaging.yaml:14: maintainer holds a newline", "block scalar"}},
		{name: "homepage", edit: repl("homepage: https://openshell.dev", `homepage: "https://openshell.dev\nX: y"`), want: []string{"packaging.yaml:16: homepage holds a newline"}},
		{name: "section", edit: repl("section: net", `section: "net\nEssential: yes"`), want: []string{"packaging.yaml:20: section holds a newline"}},
		{name: "priority", edit: repl("section: net", "section: net\npriority: \"optional\\nEssential: yes\""), want: []string{"packaging.yaml:21: priority holds a newline"}},
		{name: "license", edit: repl("license: Apache-2.0", `license: "Apache-2.0\nEssential: yes"`), want: []string{"packaging.yaml:17: license holds a newline"}},
		{name: "copyright", edit: repl("copyright: 2025 The OpenShell authors", `copyright: "2025\nFiles: *"`), want: []string{"packaging.yaml:19: copyright holds a newline"}},
		{name: "vendor", edit: repl("vendor: OpenShell", `vendor: "OpenShell\nX: y"`), want: []string{"packaging.yaml:15: vendor holds a newline"}},
		{name: "group", edit: repl("section: net", "section: net\ngroup: \"a\\nb\""), want: []string{"packaging.yaml:21: group holds a newline"}},
		{name: "summary cr", edit: repl("summary: OpenShell gateway server (relpack demo build)", `summary: "OpenShell\rgateway"`), want: []string{"packaging.yaml:10: summary must be one line"}},
		{name: "unit args", edit: repl("  args: serve", "  args: \"serve\\nExecStartPre=/bin/sh -c id\\nUser=root\""), want: []string{"packaging.yaml:36: systemd.args holds a newline"}},
		{name: "unit description", edit: repl("  args: serve", "  args: serve\n  description: \"x\\nUser=root\""), want: []string{"packaging.yaml:37: systemd.description holds a newline"}},
		{name: "binary space", edit: repl("binary: /usr/bin/openshell-gateway", "binary: /usr/bin/open shell"), want: []string{"packaging.yaml:29: binary:", `the part "open shell" may hold only`}},
		{name: "binary percent", edit: repl("binary: /usr/bin/openshell-gateway", "binary: /usr/bin/gw%h"), want: []string{"packaging.yaml:29: binary:", `"gw%h"`}},
		{name: "conffile dst newline", edit: repl("dst: /usr/share/doc/openshell-gateway/README.md", "dst: \"/etc/gw.conf\\n/etc/passwd\"\n    config: true"),
			want: []string{"packaging.yaml:32: files[0].dst:", `holds a newline`}},
		{name: "dst /usr/bin", edit: repl("dst: /usr/share/doc/openshell-gateway/README.md", "dst: /usr/bin"), want: []string{"packaging.yaml:32: files[0].dst:", "a directory the base system owns"}},
		{name: "dst parent of another", edit: repl(readme, readme+"\n  - src: "+fixtures+"/demo/README.md\n    dst: /usr/share/doc/openshell-gateway/README.md/x"),
			want: []string{"is a file, but /usr/share/doc/openshell-gateway/README.md/x (files[1].dst) is inside it"}},
		{name: "dst duplicate", edit: repl(readme, readme+"\n  - "+readme),
			want: []string{"packaging.yaml:34: files[1].dst: /usr/share/doc/openshell-gateway/README.md is already files[0].dst"}},
		{name: "mode 0", edit: repl("dst: /usr/share/doc/openshell-gateway/README.md", "dst: /usr/share/doc/openshell-gateway/README.md\n    mode: \"0\""),
			want: []string{"packaging.yaml:33: files[0].mode \"0\" gives the owner no read permission"}},
		{name: "fifo src", edit: repl("src: "+fixtures+"/demo/README.md", "src: "+fifo),
			want: []string{"packaging.yaml:31: files[0].src " + fifo + " is a named pipe, not a regular file"}},
		{name: "device src", edit: repl("src: "+fixtures+"/demo/README.md", "src: /dev/zero"),
			want: []string{"packaging.yaml:31: files[0].src /dev/zero is a device, not a regular file"}},
		{name: "fifo input", edit: repl(fixtures+"/demo/x86_64-unknown-linux-musl/openshell-gateway", fifo),
			want: []string{"input x86_64-unknown-linux-musl (" + fifo + "): is a named pipe, not a regular file"}},
		{name: "device input", edit: repl(fixtures+"/demo/x86_64-unknown-linux-musl/openshell-gateway", "/dev/zero"),
			want: []string{"input x86_64-unknown-linux-musl (/dev/zero): is a device, not a regular file"}},
		{name: "target name heading", edit: repl("  - debian11", "  - id: debian11\n    name: \"Debian 11\\n# injected\""),
			want: []string{"target debian11: name", "goes into install docs"}},
		{name: "epoch past 2^32", env: []string{"SOURCE_DATE_EPOCH=4294967296"},
			want: []string{`SOURCE_DATE_EPOCH="4294967296" is not a number of seconds between 0 (1970) and 4294967295`}},
		{name: "epoch year 10000", env: []string{"SOURCE_DATE_EPOCH=253402300800"},
			want: []string{`SOURCE_DATE_EPOCH="253402300800" is not a number of seconds`}},
		{name: "long version", args: []string{"--version", "1.0.0-" + strings.Repeat("a", 250)},
			want: []string{"over the 230 a file name can take here", "shorten it"}},
		{name: "version 1..0", args: []string{"--version", "1..0"}, want: []string{`--version: version "1..0": a number is empty (two dots in a row`}},
		{name: "config is /dev/zero", configFile: "/dev/zero", want: []string{"/dev/zero: is a device, not a regular file"}},
		{name: "config is a fifo", configFile: fifo, want: []string{fifo + ": is a named pipe, not a regular file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.configFile
			if cfg == "" {
				cfg = hostileDemo(t, c.edit)
			}
			out := filepath.Join(t.TempDir(), "dist")
			args := []string{"build", "-c", cfg, "--version", demoVer, "--out", out}
			args = append(args, c.args...)
			done := make(chan struct{})
			var o, e string
			var err error
			go func() { o, e, err = run("", c.env, clitestBin, args...); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("relpack build hung (a FIFO or device opened for reading?)")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("want a non-zero exit, got %v\n%s%s", err, o, e)
			}
			for _, w := range c.want {
				if !strings.Contains(e, w) {
					t.Errorf("stderr lacks %q:\n%s", w, e)
				}
			}
			if strings.Contains(e, "goroutine ") || strings.Contains(e, "panic:") || strings.Contains(e, "strconv.") {
				t.Errorf("a Go stack trace instead of a message:\n%s", e)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out %s exists after a refused build: %v", out, treeState(t, out))
			}
		})
	}
}

// withInput replaces the release's input for triple.
func withInput(triple, path string) func(string) string {
	return func(s string) string {
		i := strings.Index(s, "  "+triple+": ")
		j := i + strings.Index(s[i:], "\n")
		return s[:i] + "  " + triple + ": " + path + s[j:]
	}
}

func repl(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

// TestFriendlyFieldsReadBack builds with values that are unusual but
// legal (non-ASCII maintainer, '+' and '@' in paths, '%' in the
// description and args) and reads each one back with the real tools:
// dpkg-deb -f, rpm -qp --qf, and the unit file in the package.
func TestFriendlyFieldsReadBack(t *testing.T) {
	cli(t)
	testdeps.Tools(t, "dpkg-deb", "rpm", "rpm2cpio", "cpio")
	maint := "Zoë Ünïcode-O'Brien <zoe+pkg@openshell.dev>"
	cfg := hostileDemo(t, func(s string) string {
		return strings.NewReplacer(
			"maintainer: OpenShell maintainers <maintainers@openshell.dev>", `maintainer: "`+maint+`"`,
			"license: Apache-2.0", `license: "MIT OR Apache-2.0"`,
			"section: net", "section: contrib/net\npriority: extra\ngroup: Applications/Internet",
			"binary: /usr/bin/openshell-gateway", "binary: /usr/libexec/openshell/gw+v2@edge",
			"  args: serve", "  args: serve --rate=100%%\n  description: Gateway at 100% (x)",
		).Replace(s)
	})
	out := filepath.Join(t.TempDir(), "dist")
	if o, e, err := buildCLI(cfg, out, nil); err != nil {
		t.Fatalf("%v\n%s%s", err, o, e)
	}
	deb := filesIn(t, out, "*_amd64.deb")[0]
	for field, want := range map[string]string{"Maintainer": maint, "Section": "contrib/net", "Priority": "extra"} {
		if got := strings.TrimSpace(sh(t, "", "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("deb %s = %q, want %q", field, got, want)
		}
	}
	fields := strings.Split(sh(t, "", "dpkg-deb", "-f", deb), "\n")
	for _, l := range fields {
		if strings.HasPrefix(l, "Essential") || strings.HasPrefix(l, "Pre-Depends") {
			t.Errorf("unexpected control field %q", l)
		}
	}
	rpm := filesIn(t, out, "*.el9.x86_64.rpm")[0]
	got := sh(t, "", "rpm", "-qp", "--qf", "%{PACKAGER}|%{LICENSE}|%{GROUP}", rpm)
	if want := maint + "|MIT OR Apache-2.0|Applications/Internet"; got != want {
		t.Errorf("rpm tags = %q, want %q", got, want)
	}
	if files := sh(t, "", "rpm", "-qpl", rpm); !strings.Contains(files, "/usr/libexec/openshell/gw+v2@edge\n") {
		t.Errorf("rpm file list lacks the binary:\n%s", files)
	}
	x := t.TempDir()
	sh(t, "", "dpkg-deb", "-x", deb, x)
	unit, err := os.ReadFile(filepath.Join(x, "usr/lib/systemd/user/openshell-gateway.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Description=Gateway at 100%% (x)\n", "ExecStart=/usr/libexec/openshell/gw+v2@edge serve --rate=100%%\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
}

// bigInput returns a copy of the demo's x86_64 gnu binary with mb MiB of
// random bytes appended (past every section: the ELF is unchanged, and xz
// takes seconds over it), so a build is still compressing when a test
// signals it.
func bigInput(t *testing.T, mb int) string {
	t.Helper()
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	data, err := os.ReadFile(fixtures + "/demo/x86_64-unknown-linux-gnu/openshell-gateway")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "openshell-gateway")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	if _, err := io.CopyN(f, rand.Reader, int64(mb)<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Chmod(p, 0o755)
	return p
}

// waitWriting waits until a build is inside its artifact writes: a
// temporary artifact file exists in its staging folder.
func waitWriting(t *testing.T, out string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(out, ".relpack-staging-*", ".relpack-tmp-*"))
		if len(m) > 0 {
			return
		}
		if cmd.ProcessState != nil {
			t.Fatal("the build ended before it wrote anything")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the build never started writing")
}

// oldRelease builds the demo into a fresh folder and returns it with its
// state: the release a failed or interrupted rebuild must leave as it is.
func oldRelease(t *testing.T) (string, map[string]string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	if o, e, err := buildCLI(hostileDemo(t, nil), out, nil); err != nil {
		t.Fatalf("%v\n%s%s", err, o, e)
	}
	return out, treeState(t, out)
}

// TestInterruptLeavesOldRelease: SIGINT during compression stops the build
// within a second or two, exit 130, and --out holds exactly the old
// release; no staging folder, no temporary file anywhere.
func TestInterruptLeavesOldRelease(t *testing.T) {
	cli(t)
	out, before := oldRelease(t)
	cfg := hostileDemo(t, withInput("x86_64-unknown-linux-gnu", bigInput(t, 48)))
	tmp := t.TempDir()
	cmd := exec.Command(clitestBin, "build", "-c", cfg, "--version", "9.9.9", "--out", out, "--clean")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWriting(t, out, cmd)
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	took := time.Since(sent)
	t.Logf("stopped %v after SIGINT", took)
	if took > 3*time.Second {
		t.Errorf("the build took %v to stop after SIGINT; it must stop mid-compression", took)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "build interrupted") || !strings.Contains(stderr.String(), "holds what it held before") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if m, _ := filepath.Glob(filepath.Join(out, ".relpack-staging-*")); len(m) > 0 {
		ls, _ := exec.Command("find", m[0]).CombinedOutput()
		t.Logf("left: %s", ls)
	}
	sameState(t, "after SIGINT", treeState(t, out), before)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the build left %d entries in TMPDIR", len(left))
	}
}

// TestKilledBuildIsCleanedUp: SIGKILL mid-write leaves a staging folder;
// the next build into the same --out removes it (and writes nothing to
// TMPDIR at any point).
func TestKilledBuildIsCleanedUp(t *testing.T) {
	cli(t)
	cfg := hostileDemo(t, withInput("x86_64-unknown-linux-gnu", bigInput(t, 48)))
	out := filepath.Join(t.TempDir(), "dist")
	tmp := t.TempDir()
	cmd := exec.Command(clitestBin, "build", "-c", cfg, "--version", demoVer, "--out", out)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWriting(t, out, cmd)
	cmd.Process.Kill()
	cmd.Wait()
	if m, _ := filepath.Glob(filepath.Join(out, ".relpack-staging-*")); len(m) == 0 {
		t.Fatal("SIGKILL left no staging folder; the test did not kill mid-write")
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the killed build had written %d entries to TMPDIR", len(left))
	}
	o, e, err := buildCLI(hostileDemo(t, nil), out, []string{"TMPDIR=" + tmp})
	if err != nil {
		t.Fatalf("%v\n%s%s", err, o, e)
	}
	for n := range treeState(t, out) {
		if strings.HasPrefix(n, ".") {
			t.Errorf("%s left in --out after the next build", n)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d entries left in TMPDIR", len(left))
	}
	sh(t, out, "sha256sum", "--strict", "-c", "SHA256SUMS")
}

// TestOutIsLocked: while one build holds --out, a second is refused at once
// and writes nothing.
func TestOutIsLocked(t *testing.T) {
	cli(t)
	out, before := oldRelease(t)
	// Hold the lock as a running build does: flock on the folder.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	_, e, err := buildCLI(hostileDemo(t, nil), out, nil, "--clean")
	if err == nil || !strings.Contains(e, "output directory "+out+" is in use by another relpack build") {
		t.Fatalf("second build: %v\n%s", err, e)
	}
	sameState(t, "after a refused concurrent build", treeState(t, out), before)

	// And two real builds at once: the first holds the lock while it
	// compresses a 16 MiB input (seconds); the second starts only once the
	// test sees the folder locked, so the two overlap for certain. The
	// second is refused, the first publishes, and the folder is one whole
	// release, never a mix.
	f.Close()
	slow := hostileDemo(t, withInput("x86_64-unknown-linux-gnu", bigInput(t, 16)))
	type res struct {
		err    error
		stderr string
	}
	first := make(chan res, 1)
	go func() {
		_, e, err := buildCLI(slow, out, nil, "--version", "1.0.0", "--clean") // the last --version wins
		first <- res{err, e}
	}()
	// Whether some process holds a flock on out, read from /proc/locks
	// ("1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF") rather than by
	// trying the lock, which would refuse the build if it came that instant.
	var st syscall.Stat_t
	if err := syscall.Stat(out, &st); err != nil {
		t.Fatal(err)
	}
	locked := func() bool {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			fs := strings.Fields(l)
			if len(fs) >= 6 && fs[1] == "FLOCK" && strings.HasSuffix(fs[5], fmt.Sprintf(":%d", st.Ino)) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	for !locked() {
		select {
		case r := <-first:
			t.Fatalf("the first build ended before the test saw it hold the lock: %v\n%s", r.err, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the first build never locked the folder")
		}
		time.Sleep(time.Millisecond)
	}
	_, e2, err2 := buildCLI(hostileDemo(t, nil), out, nil, "--version", "2.0.0", "--clean")
	stillLocked := locked()
	r := <-first
	if r.err != nil {
		t.Fatalf("the first build: %v\n%s", r.err, r.stderr)
	}
	if err2 == nil || !strings.Contains(e2, "is in use by another relpack build") {
		t.Errorf("the second build, started while the first held the lock (still held after it: %v): %v\n%s", stillLocked, err2, e2)
	}
	sh(t, out, "sha256sum", "--strict", "-c", "SHA256SUMS")
	m, err := manifest.Read(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.0.0" {
		t.Errorf("the folder holds release %s, want the first build's 1.0.0", m.Version)
	}
	for n := range treeState(t, out) {
		if strings.HasSuffix(n, ".deb") && !strings.Contains(n, "_"+m.Version+"-") {
			t.Errorf("%s is not of the published version %s: a mixed folder", n, m.Version)
		}
	}
}

// TestCraftedManifestCannotDeleteOutputs: --clean trusts no name in the
// earlier manifest.json that is not an artifact relpack wrote.
func TestCraftedManifestCannotDeleteOutputs(t *testing.T) {
	cli(t)
	out := filepath.Join(t.TempDir(), "dist")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine\n"), 0o644)
	os.WriteFile(filepath.Join(out, "keep.deb"), []byte("not relpack's\n"), 0o644)
	crafted := `{"schema": 1, "artifacts": [{"file": "manifest.json"}, {"file": "SHA256SUMS"}, {"file": "notes.txt"}, {"file": "../x.deb"}, {"file": "keep.deb", "sha256": "00"}]}`
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(crafted), 0o644)
	o, e, err := buildCLI(hostileDemo(t, nil), out, nil, "--clean")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, o, e)
	}
	for _, n := range []string{"manifest.json", "SHA256SUMS", "notes.txt", "keep.deb"} {
		if _, err := os.Stat(filepath.Join(out, n)); err != nil {
			t.Errorf("%s is gone: %v", n, err)
		}
	}
	sh(t, out, "sha256sum", "--strict", "-c", "SHA256SUMS")
}

// TestPublishFailureRollsBack: a rename failing midway through publishing
// leaves exactly the old release (its SHA256SUMS checks), for every
// position of the failure.
func TestPublishFailureRollsBack(t *testing.T) {
	cli(t)
	old, before := oldRelease(t)
	cfg := loadDemo(t)
	defer func() { renameFile = os.Rename }()
	for _, failAt := range []int{1, 3, 10, 22, 25} {
		t.Run(fmt.Sprint(failAt), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "dist")
			sh(t, "", "cp", "-a", old, out)
			calls := 0
			renameFile = func(a, b string) error {
				calls++
				if calls == failAt {
					return &os.LinkError{Op: "rename", Old: a, New: b, Err: syscall.EIO}
				}
				return os.Rename(a, b)
			}
			_, err := Run(Options{Config: cfg, Version: "7.7.7", OutDir: out, Epoch: DefaultEpoch, Clean: true})
			renameFile = os.Rename
			if calls < failAt {
				t.Fatalf("publishing took only %d renames; the failure position is past the end", calls)
			}
			if err == nil || !strings.Contains(err.Error(), "holds the previous release unchanged") {
				t.Fatalf("err = %v", err)
			}
			sameState(t, "after a failed publish", treeState(t, out), before)
			sh(t, out, "sha256sum", "--strict", "-c", "SHA256SUMS")
		})
	}
}

// TestPackagedBytesAreVerifiedBytes: an input replaced after relpack read
// it (here: by a GLIBC_2.29 binary, over a 2.28 floor) does not reach any
// artifact; every artifact holds the bytes whose facts the manifest lists.
func TestPackagedBytesAreVerifiedBytes(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "tar")
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	in := filepath.Join(t.TempDir(), "gw")
	sh(t, "", "cp", fixtures+"/demo/x86_64-unknown-linux-gnu/openshell-gateway", in)
	orig, _ := os.ReadFile(in)
	cfg := loadDemo(t)
	// Packaged as given, byte for byte (a split build packages a stripped
	// copy of the same snapshot: TestDemoDebugSymbols checks its build-id).
	cfg.DebugSymbols = nil
	afterSnapshot = func() {
		bad, _ := os.ReadFile(fixtures + "/x86_64/math-2.29")
		if err := os.WriteFile(in, bad, 0o755); err != nil {
			t.Error(err)
		}
	}
	defer func() { afterSnapshot = nil }()
	out := filepath.Join(t.TempDir(), "dist")
	m, err := Run(Options{Config: cfg, Version: demoVer, OutDir: out, Epoch: DefaultEpoch,
		Bins: map[string]string{"x86_64-unknown-linux-gnu": in}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(orig)
	for _, i := range m.Inputs {
		if i.Triple == "x86_64-unknown-linux-gnu" && i.File == "gw" && i.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest input sha256 %s is not the verified file's", i.SHA256)
		}
	}
	x := t.TempDir()
	sh(t, "", "tar", "-xzf", filepath.Join(out, "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz"), "-C", x)
	if got, _ := os.ReadFile(filepath.Join(x, "openshell-gateway")); !bytes.Equal(got, orig) {
		t.Error("the tarball holds the replaced binary, not the verified one")
	}
	for _, deb := range filesIn(t, out, "*_amd64.deb") {
		d := t.TempDir()
		sh(t, "", "dpkg-deb", "-x", deb, d)
		if got, _ := os.ReadFile(filepath.Join(d, "usr/bin/openshell-gateway")); !bytes.Equal(got, orig) {
			t.Errorf("%s holds the replaced binary", filepath.Base(deb))
		}
	}
}

// TestStaticGlibcInput: one rule for static glibc binaries, the same under
// either triple.
func TestStaticGlibcInput(t *testing.T) {
	cli(t)
	testdeps.Tools(t, "gcc")
	testdeps.File(t, "/usr/lib/x86_64-linux-gnu/libc.a")
	dir := t.TempDir()
	src := filepath.Join(dir, "s.c")
	os.WriteFile(src, []byte("int main(void){return 0;}\n"), 0o644)
	bin := filepath.Join(dir, "static-glibc")
	sh(t, "", "gcc", "-static", "-o", bin, src)
	for _, triple := range []string{"x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"} {
		out := filepath.Join(t.TempDir(), "dist")
		_, e, err := buildCLI(hostileDemo(t, nil), out, nil, "--bin", triple+"="+bin)
		if err == nil || !strings.Contains(e, "is a statically linked glibc binary") || !strings.Contains(e, "build it with musl") {
			t.Errorf("%s: %v\n%s", triple, err, e)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: --out created", triple)
		}
	}
}
