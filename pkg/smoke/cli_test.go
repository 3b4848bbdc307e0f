package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/clitest"
)

// The CLI is tested here, against the real binary, because `relpack smoke`
// only renders what Run returns: exit codes 0/1/2, text and --json.

func relpack(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return clitest.Run(t, args...)
}

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	os.Exit(code)
}

func TestCLI(t *testing.T) {
	root := bullseye(t)

	out, errOut, code := relpack(t, "smoke", "--root", root, "--mode", "loader", fx+"x86_64/hello-2.28")
	if code != 0 || !strings.HasPrefix(out, "PASS: "+fx+"x86_64/hello-2.28 on "+root+" (loader mode, x86_64") || !strings.Contains(out, "(1 args)") {
		t.Errorf("pass: exit %d\n%s%s", code, out, errOut)
	}

	// Program arguments after --.
	out, _, code = relpack(t, "smoke", "--root", root, fx+"x86_64/hello-2.28", "--", "one", "--two")
	if code != 0 || !strings.Contains(out, "(2 args)") {
		t.Errorf("args after --: exit %d\n%s", code, out)
	}

	out, errOut, code = relpack(t, "smoke", "--root", root, "--mode", "chroot", fx+"x86_64/hello-bookworm")
	if code != 1 || !strings.HasPrefix(out, "FAIL: ") || !strings.Contains(out, "loader:    /tmp/relpack-smoke-") ||
		!strings.Contains(out, "version `GLIBC_2.34' not found") || !strings.Contains(errOut, "relpack: smoke test failed: "+fx+"x86_64/hello-bookworm") {
		t.Errorf("fail: exit %d\n%s%s", code, out, errOut)
	}

	// --json: one object with the documented keys.
	for _, c := range []struct {
		file string
		code int
		ok   bool
	}{{fx + "x86_64/hello-2.28", 0, true}, {fx + "x86_64/hello-bookworm", 1, false}} {
		out, errOut, code = relpack(t, "smoke", "--json", "--root", root, "--mode", "loader", c.file)
		if code != c.code || errOut != "" {
			t.Errorf("--json %s: exit %d, want %d; stderr %q", c.file, code, c.code, errOut)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(out), &obj); err != nil {
			t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
		}
		for _, k := range []string{"file", "root", "mode", "machine", "command", "exit_code", "stdout", "stderr", "ok", "loader_error"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("--json lacks %q: %s", k, out)
			}
		}
		if obj["file"] != c.file || obj["root"] != root || obj["mode"] != "loader" || obj["machine"] != "x86_64" || obj["ok"] != c.ok {
			t.Errorf("--json values: %s", out)
		}
		if cmd, _ := obj["command"].([]any); len(cmd) < 3 || !slices.Contains(cmd, any("--inhibit-cache")) {
			t.Errorf("--json command: %v", obj["command"])
		}
		if c.ok && obj["loader_error"] != "" || !c.ok && !strings.Contains(obj["loader_error"].(string), "GLIBC_2.34") {
			t.Errorf("--json loader_error: %q", obj["loader_error"])
		}
	}

	// Bad input: exit 2 and a message naming the file and the fix.
	arm := arm64Sysroot(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"smoke", "--root", root, "../../README.md"}, "README.md: not an ELF executable"},
		{[]string{"smoke", "--root", arm, fx + "x86_64/hello-2.28"}, "is an aarch64 root"},
		{[]string{"smoke", "--root", root}, "smoke takes one FILE or ARTIFACT"},
		{[]string{"smoke", "--root", root, fx + "x86_64/hello-2.28", fx + "x86_64/hello-2.28"}, "smoke takes one FILE"},
		{[]string{"smoke", fx + "x86_64/hello-2.28"}, "no root given"},
	} {
		_, errOut, code := relpack(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}

	// An artifact: the sidecar layout passes, --json names the binary.
	out, errOut, code = relpack(t, "smoke", "--json", "--root", root, sidecarTarball(t, true))
	if code != 0 || !strings.Contains(out, `"binary": "bin/openshell-gateway"`) || !strings.Contains(out, `z3 4.99.1.0`) {
		t.Errorf("artifact: exit %d\n%s%s", code, out, errOut)
	}
}

// Issue 18, section 4: the first SIGINT stops relpack smoke within the
// bound, in loader and chroot mode: the program under test (here the
// root's own sleep, told to sleep far longer than the test) is killed with
// its process group, the scratch folder is removed, and relpack exits 130.
func TestCLIInterrupt(t *testing.T) {
	root := privateBullseye(t, "bullseye")
	sleep, err := resolveIn(root, "bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	for i, mode := range []string{"loader", "chroot"} {
		// A duration no other process on the machine is running with,
		// to find a left-over sleep by its command line.
		arg := fmt.Sprintf("4%d.%d", i, time.Now().UnixNano()%1000000)
		tmp := t.TempDir()
		cmd := exec.Command(clitest.Bin(t), "smoke", "--root", root, "--mode", mode, sleep, "--", arg)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		var e bytes.Buffer
		cmd.Stderr = &e
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		// Wait until the program runs (its scratch folder is made first).
		deadline := time.Now().Add(20 * time.Second)
		self := cmd.Process.Pid
		// One sighting is enough: a second look could fall in the middle
		// of an execve (unshare, sh, chroot, sleep), when /proc/PID/cmdline
		// reads empty.
		started := running(arg, self)
		for !started && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			started = running(arg, self)
		}
		if !started {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("%s: sleep %s never started\n%s", mode, arg, e.String())
		}
		sent := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		after := time.Since(sent)
		if code := cmd.ProcessState.ExitCode(); code != 130 || after > 3*time.Second {
			t.Errorf("%s: exit %d %v after SIGINT, want 130 within 3s\n%s", mode, code, after.Round(time.Millisecond), e.String())
		}
		left := false
		for i := 0; i < 4 && !left; i++ { // a look mid-execve reads nothing
			left = running(arg, self)
			time.Sleep(50 * time.Millisecond)
		}
		if left {
			t.Errorf("%s: sleep %s still runs after relpack exited", mode, arg)
		}
		if ents, _ := os.ReadDir(tmp); mode == "loader" && len(ents) != 0 {
			t.Errorf("%s: the scratch folder is left in TMPDIR: %v", mode, ents)
		}
		if ents, _ := filepath.Glob(filepath.Join(root, "tmp", "relpack-smoke-*")); len(ents) != 0 {
			t.Errorf("%s: the scratch folder is left in the root: %v", mode, ents)
		}
	}
}

// running reports whether a process other than relpack itself (pid self,
// whose command line holds arg too) runs with arg in its command line.
func running(arg string, self int) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if p == fmt.Sprintf("/proc/%d/cmdline", self) {
			continue
		}
		b, err := os.ReadFile(p)
		if err == nil && slices.Contains(strings.Split(string(b), "\x00"), arg) {
			return true
		}
	}
	return false
}
