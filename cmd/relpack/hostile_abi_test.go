package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/clitest"
	"relpack/pkg/abi/abitest"
)

// CLI cases of hostile and unreadable input (issue 9): each must end
// quickly, in bounded memory and output, with exit 2 (1 for build) and a
// message naming the file.

// cappedBuffer keeps the first max bytes written and counts the rest: a
// relpack that prints gigabytes must not take the test down with it.
type cappedBuffer struct {
	buf   bytes.Buffer
	max   int
	total int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.total += len(p)
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// hostileRun runs relpack under a 4 GB address-space limit (ulimit -v) and
// a timeout, so that the old behaviours (out of memory, blocked forever)
// fail the test instead of the machine. It returns the output, the total
// bytes written to stdout, and the exit code (-1 when killed at timeout).
func hostileRun(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, stdoutBytes, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `ulimit -v 4000000 && exec "$0" "$@"`, clitest.Bin(t)}, args...)...)
	o, e := &cappedBuffer{max: 1 << 20}, &cappedBuffer{max: 1 << 20}
	cmd.Stdout, cmd.Stderr = o, e
	err := cmd.Run()
	if ctx.Err() != nil {
		return o.buf.String(), e.buf.String(), o.total, -1
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.buf.String(), e.buf.String(), o.total, code
}

// writeCrafted writes a crafted file into the test's temporary directory.
func writeCrafted(t *testing.T, name string, data []byte, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fx + rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildArgs runs the demo release job with one input replaced.
func buildArgs(t *testing.T, input string) []string {
	return []string{"build", "-c", "../../testdata/demo/packaging.yaml", "--version", "1.0.0",
		"--bin", "x86_64-unknown-linux-gnu=" + input, "--out", filepath.Join(t.TempDir(), "dist")}
}

// A 262 KB file whose Verneed/Vernaux chains overlap ran verify, inspect
// and build out of memory (the walk grew with the square of the size).
func TestHostileVerneedCLI(t *testing.T) {
	data, err := abitest.OverlappingVerneed(fixture(t, "x86_64/hello-2.28"), 16384)
	p := writeCrafted(t, "verneed-chains", data, err)
	for _, args := range [][]string{{"verify", p}, {"inspect", p}, {"inspect", "--json", p}, buildArgs(t, p)} {
		_, stderr, n, code := hostileRun(t, 60*time.Second, args...)
		want := 2
		if args[0] == "build" {
			want = 1
		}
		if code != want || !strings.Contains(stderr, p) || !strings.Contains(stderr, "overlaps an entry read before") {
			t.Errorf("%s: exit %d (want %d), stderr %.400q", args[0], code, want, stderr)
		}
		if n > 4096 {
			t.Errorf("%s: printed %d bytes for a file it refused", args[0], n)
		}
	}
}

// Symbol names at overlapping offsets of one long string: inspect of a
// 1 MB file printed gigabytes.
func TestHostileNamesCLI(t *testing.T) {
	data, err := abitest.OverlappingNames(fixture(t, "x86_64/hello-2.28"), 1<<19, 21845)
	p := writeCrafted(t, "overlapping-names", data, err)
	for _, args := range [][]string{{"inspect", p}, {"inspect", "--json", p}, {"verify", p}} {
		_, stderr, n, code := hostileRun(t, 60*time.Second, args...)
		if code != 2 || !strings.Contains(stderr, p) || !strings.Contains(stderr, "add up to more than") {
			t.Errorf("%v: exit %d, stderr %.400q", args[:len(args)-1], code, stderr)
		}
		if limit := 16*len(data) + 64<<10; n > limit {
			t.Errorf("%v: printed %d bytes for a %d-byte file (bound %d)", args[:len(args)-1], n, len(data), limit)
		}
	}
}

// A FIFO blocked open(2) forever; /dev/null was read as an empty file.
// Both are refused by name, and the readable file given with them is
// still reported.
func TestSpecialFilesCLI(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	good := fx + "x86_64/hello-2.28"
	for _, cmd := range []string{"verify", "inspect"} {
		stdout, stderr, _, code := hostileRun(t, 20*time.Second, cmd, fifo, "/dev/null", good)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", cmd, code, stderr)
		}
		for _, want := range []string{
			fifo + ": is a named pipe (FIFO), not an ELF file",
			"/dev/null: is a character device, not an ELF file",
			"relpack reads only regular files",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
		if !strings.Contains(stdout, good) {
			t.Errorf("%s: the readable file is not reported:\n%s", cmd, stdout)
		}
	}
	_, stderr, _, code := hostileRun(t, 20*time.Second, buildArgs(t, fifo)...)
	// The config check may refuse it before abi.Inspect does; either way
	// build ends at once, naming the pipe.
	if code != 1 || !strings.Contains(stderr, fifo) || !strings.Contains(stderr, "named pipe") {
		t.Errorf("build with a FIFO input: exit %d, stderr %q", code, stderr)
	}
}

// One unreadable file hid the verdicts of all the others. Now every
// readable file is reported, the unreadable one is named with what to do,
// and the exit status is 2.
func TestVerifyReportsEveryFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	args := []string{fx + "x86_64/hello-2.28", missing, fx + "x86_64/math-2.29"}
	stdout, stderr, code := cli(t, append([]string{"verify"}, args...)...)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"ok: " + args[0] + " meets glibc-2.28", "FAIL: " + args[2] + " does not meet glibc-2.28", "GLIBC_2.29: exp, exp2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if want := missing + ": cannot open: no such file or directory; check the path"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}

	stdout, _, code = cli(t, append([]string{"verify", "--json"}, args...)...)
	var rep struct {
		OK      bool
		Results []struct{ Path string }
		Errors  []struct{ Path, Error string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, stdout)
	}
	if code != 2 || rep.OK || len(rep.Results) != 2 || len(rep.Errors) != 1 || rep.Errors[0].Path != missing || !strings.Contains(rep.Errors[0].Error, "check the path") {
		t.Errorf("verify --json: exit %d, %+v", code, rep)
	}

	stdout, stderr, code = cli(t, "inspect", args[0], missing)
	if code != 2 || !strings.Contains(stdout, "interpreter: /lib64/ld-linux-x86-64.so.2") || !strings.Contains(stderr, missing+": cannot open") {
		t.Errorf("inspect: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// Escape sequences in PT_INTERP and in a symbol name reached the terminal
// raw. Human output quotes them; JSON escapes them and gives them back.
func TestEscapesCLI(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[2J"
	data, err := abitest.ReplaceString(fixture(t, "x86_64/math-2.29"), "/lib64/ld-linux-x86-64.so.2", "/lib64/"+evil)
	if err == nil {
		data, err = abitest.ReplaceString(data, "exp2", "e\x1b[m")
	}
	p := writeCrafted(t, "escapes", data, err)
	rawControl := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) >= 0
	}
	stdout, _, code := cli(t, "inspect", p)
	if code != 0 || rawControl(stdout) || !strings.Contains(stdout, `interpreter: "/lib64/\x1b]0;pwned\a\x1b[2J"`) || !strings.Contains(stdout, `"e\x1b[m"`) {
		t.Errorf("inspect: exit %d\n%q", code, stdout)
	}
	stdout, _, code = cli(t, "verify", p)
	if code != 1 || rawControl(stdout) || !strings.Contains(stdout, `GLIBC_2.29: "e\x1b[m", exp, log`) {
		t.Errorf("verify: exit %d\n%q", code, stdout)
	}
	for _, cmd := range []string{"inspect", "verify"} {
		stdout, _, _ = cli(t, cmd, "--json", p)
		if rawControl(strings.NewReplacer("\n", "", "\t", "").Replace(stdout)) || !strings.Contains(stdout, `\u001b`) {
			t.Errorf("%s --json: raw or missing escape:\n%q", cmd, stdout)
		}
	}
	var facts []struct{ Interpreter string }
	stdout, _, _ = cli(t, "inspect", "--json", p)
	if err := json.Unmarshal([]byte(stdout), &facts); err != nil || len(facts) != 1 || facts[0].Interpreter != "/lib64/"+evil {
		t.Errorf("inspect --json does not give back the interpreter: %v %+v", err, facts)
	}
}

// A malformed family floor was reported under --floor, and 1..0 got no
// hint of the accepted form.
func TestFloorFlagErrorsCLI(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--floor", "1..0"}, "relpack: --floor: 1..0 is not a glibc version (dotted decimal numbers such as 2.28)"},
		{[]string{"--glibcxx", "1..0"}, "relpack: --glibcxx: floor for GLIBCXX: 1..0 is not a version: give dotted decimal numbers such as 3.4.24"},
		{[]string{"--cxxabi", "1.3.x"}, "relpack: --cxxabi: floor for CXXABI: 1.3.x is not a version: give dotted decimal numbers such as 1.3.11"},
		{[]string{"--gcc", "7..0"}, "relpack: --gcc: floor for GCC: 7..0 is not a version: give dotted decimal numbers such as 7.0.0"},
	} {
		_, stderr, code := cli(t, append(append([]string{"verify"}, c.args...), fx+"x86_64/hello-2.28")...)
		if code != 2 || !strings.HasPrefix(stderr, c.want) {
			t.Errorf("verify %v: exit %d, stderr %q (want %q)", c.args, code, stderr, c.want)
		}
	}
}
