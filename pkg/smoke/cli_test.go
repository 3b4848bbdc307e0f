package smoke

import (
	"encoding/json"
	"os"
	"relpack/internal/clitest"
	"slices"
	"strings"
	"testing"
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
