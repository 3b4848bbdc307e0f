package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"relpack/internal/clitest"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	os.Exit(code)
}

const fx = "../../testdata/fixtures/"

func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return clitest.Run(t, args...)
}

func TestVerifyDoneWhen(t *testing.T) {
	out, _, code := cli(t, "verify", "--floor", "2.28", fx+"x86_64/math-2.29")
	if code != 1 {
		t.Errorf("math-2.29: exit %d, want 1", code)
	}
	for _, want := range []string{"FAIL: " + fx + "x86_64/math-2.29 does not meet glibc-2.28", "highest: GLIBC_2.29", "GLIBC_2.29: exp, exp2, log, log2, posix_spawn_file_actions_addchdir_np, pow"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = cli(t, "verify", "--floor", "2.28", fx+"x86_64/gettid-2.30")
	if code != 1 || !strings.Contains(out, "GLIBC_2.30: gettid, pthread_cond_clockwait") {
		t.Errorf("gettid-2.30: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, "verify", "--floor", "2.28", fx+"x86_64/hello-2.28")
	if code != 0 || strings.TrimSpace(out) != "ok: "+fx+"x86_64/hello-2.28 meets glibc-2.28 (highest: GLIBC_2.2.5)" {
		t.Errorf("hello-2.28: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, "verify", fx+"x86_64/hello-musl-static")
	if code != 0 || !strings.Contains(out, "statically linked") {
		t.Errorf("musl static: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, "verify", "--floor", "2.28", fx+"x86_64/hello-bookworm")
	if code != 1 || !strings.Contains(out, "GLIBC_2.34: __libc_start_main") {
		t.Errorf("bookworm: exit %d\n%s", code, out)
	}
	// The C++ runtime families have floors too.
	out, _, code = cli(t, "verify", "--floor", "2.28", fx+"x86_64/cxx-hello")
	if code != 1 || !strings.Contains(out, "GLIBCXX_3.4.") {
		t.Errorf("cxx-hello (bookworm libstdc++): exit %d\n%s", code, out)
	}
	if _, _, code = cli(t, "verify", "--floor", "2.34", "--glibcxx", "3.4.30", "--cxxabi", "1.3.13", fx+"x86_64/cxx-hello"); code != 0 {
		t.Errorf("cxx-hello with raised floors: exit %d", code)
	}
	// A floor may be passed for aarch64 too: its base version is 2.17.
	if out, _, code = cli(t, "verify", fx+"aarch64/hello-2.28"); code != 0 {
		t.Errorf("aarch64 hello: %d %s", code, out)
	}
}

func TestVerifyJSON(t *testing.T) {
	out, _, code := cli(t, "verify", "--json", fx+"x86_64/math-2.29", fx+"x86_64/hello-2.28")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var rep struct {
		OK      bool
		Results []struct {
			Path       string
			OK         bool
			Violations []struct {
				Name    string
				Symbols []string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.OK || len(rep.Results) != 2 || rep.Results[0].OK || !rep.Results[1].OK {
		t.Fatalf("verdicts %+v", rep)
	}
	v := rep.Results[0].Violations
	if len(v) != 1 || v[0].Name != "GLIBC_2.29" || strings.Join(v[0].Symbols, ",") != "exp,exp2,log,log2,posix_spawn_file_actions_addchdir_np,pow" {
		t.Errorf("violations %+v", v)
	}
}

func TestInspect(t *testing.T) {
	out, _, code := cli(t, "inspect", "--json", fx+"x86_64/runpath", fx+"x86_64/rpath", fx+"x86_64/libdemo.so")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var facts []struct {
		Type, Libc, Soname string
		Needed, Runpath    []string
		Rpath              []string
	}
	if err := json.Unmarshal([]byte(out), &facts); err != nil {
		t.Fatal(err)
	}
	if facts[0].Runpath[0] != "$ORIGIN/../lib" || len(facts[0].Rpath) != 0 {
		t.Errorf("runpath fixture: %+v", facts[0])
	}
	if facts[1].Rpath[0] != "$ORIGIN/../lib" || len(facts[1].Runpath) != 0 {
		t.Errorf("rpath fixture: %+v", facts[1])
	}
	if facts[2].Type != "shared-library" || facts[2].Soname != "libdemo.so.1" {
		t.Errorf("libdemo: %+v", facts[2])
	}
	text, _, _ := cli(t, "inspect", fx+"x86_64/z3-user")
	for _, want := range []string{"needed:      libz3.so.4", "interpreter: /lib64/ld-linux-x86-64.so.2", "libc:        glibc (dynamic)"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect text lacks %q:\n%s", want, text)
		}
	}
}

func TestUnreadableInputs(t *testing.T) {
	dir := t.TempDir()
	trunc := filepath.Join(dir, "truncated")
	b, _ := os.ReadFile(fx + "x86_64/hello-2.28")
	os.WriteFile(trunc, b[:200], 0o755)
	text := filepath.Join(dir, "script.sh")
	os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755)
	for _, c := range []struct{ file, want string }{
		{trunc, trunc + ": malformed or truncated ELF file"},
		{text, text + `: not an ELF file (starts with "#!/b")`},
		{filepath.Join(dir, "missing"), filepath.Join(dir, "missing") + ": cannot open"},
		{dir, dir + ": is a directory"},
	} {
		for _, cmd := range []string{"verify", "inspect"} {
			_, stderr, code := cli(t, cmd, c.file)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("%s %s: exit %d, stderr %q (want %q)", cmd, c.file, code, stderr, c.want)
			}
		}
	}
	if _, stderr, code := cli(t, "verify", "--floor", "2.99", fx+"x86_64/hello-2.28"); code != 2 || !strings.Contains(stderr, "no target in the catalog ships glibc 2.99 or newer") {
		t.Errorf("unsupported floor: %d %s", code, stderr)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	if out, _, code := cli(t, "version"); code != 0 || !strings.HasPrefix(out, "relpack ") {
		t.Errorf("version: %d %q", code, out)
	}
	if out, _, code := cli(t, "completion", "bash"); code != 0 || !strings.Contains(out, "__start_relpack") {
		t.Errorf("completion bash: %d", code)
	}
}
