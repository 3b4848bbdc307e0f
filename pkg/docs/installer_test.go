package docs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
)

// shells the installer must run under.
var shells = []struct {
	name string
	argv []string
}{
	{"dash", []string{"dash"}},
	{"busybox", []string{"busybox", "sh"}},
}

// host describes one fake machine.
type host struct {
	machine   string // uname -m
	ldd       string // ldd --version output; "" = no ldd
	lddStderr bool   // musl's ldd prints to stderr and exits 1
	getconf   string // getconf GNU_LIBC_VERSION output; "" = no getconf
	osRelease string // /etc/os-release content; "" = no file
	tools     []string
	// which real tools to leave out of PATH (e.g. "curl" to force wget)
	without []string
	uid     string // fake `id -u`; "" = the real id
	// busybox makes every real tool a busybox applet (an Alpine-like
	// userland: busybox sed, tar, wget, sha256sum, ...).
	busybox bool
}

const (
	glibcLdd = "ldd (GNU libc) %s\nCopyright (C) 2018 Free Software Foundation, Inc.\n"
	debLdd   = "ldd (Debian GLIBC %s-9+deb12u4) %s\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
	ubLdd    = "ldd (Ubuntu GLIBC %s-0ubuntu3.1) %s\n"
	muslLdd  = "musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\nUsage: ldd [options] [--] pathname\n"
)

func osRel(id, version string) string {
	return fmt.Sprintf("NAME=\"%s\"\nID=%s\nVERSION_ID=\"%s\"\nPRETTY_NAME=\"%s %s\"\n", id, id, version, id, version)
}

// the real tools the installer may use; everything else on PATH is fake.
var realTools = []string{"sed", "head", "tr", "cut", "mktemp", "tar", "gzip", "sha256sum", "shasum", "curl", "wget", "cat", "rm", "mkdir", "cp", "mv", "chmod", "id", "perl"}

// sandbox writes the fake commands and returns the environment, the log
// file the fake package managers append to, and a scratch folder.
func (h host) sandbox(t *testing.T) (env []string, log, dir string) {
	t.Helper()
	dir = t.TempDir()
	fake := filepath.Join(dir, "fake")
	real := filepath.Join(dir, "real")
	for _, d := range []string{fake, real, filepath.Join(dir, "tmp"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	skip := map[string]bool{}
	for _, w := range h.without {
		skip[w] = true
	}
	applets := map[string]bool{}
	bb, _ := testdeps.LookPath(t, "busybox")
	if h.busybox {
		out, err := exec.Command(bb, "--list").Output()
		if err != nil {
			t.Fatalf("busybox --list: %v", err)
		}
		for _, a := range strings.Fields(string(out)) {
			applets[a] = true
		}
	}
	for _, tool := range realTools {
		if skip[tool] || (tool == "id" && h.uid != "") {
			continue
		}
		p, err := testdeps.LookPath(t, tool) // the list must name it, even when optional
		if h.busybox {
			p, err = bb, nil
			if !applets[tool] {
				continue
			}
		}
		if err != nil {
			continue // optional ones (wget, shasum) are asked for by the tests that need them
		}
		if err := os.Symlink(p, filepath.Join(real, tool)); err != nil {
			t.Fatal(err)
		}
	}
	log = filepath.Join(dir, "pm.log")
	script := func(name, body string) {
		if err := os.WriteFile(filepath.Join(fake, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script("uname", fmt.Sprintf("[ \"$1\" = -m ] && { echo %s; exit 0; }\necho Linux\n", h.machine))
	if h.ldd != "" {
		p := data("ldd.out", h.ldd)
		if h.lddStderr {
			script("ldd", fmt.Sprintf("cat '%s' >&2\nexit 1\n", p))
		} else {
			script("ldd", fmt.Sprintf("cat '%s'\n", p))
		}
	}
	if h.getconf != "" {
		script("getconf", fmt.Sprintf("[ \"$1\" = GNU_LIBC_VERSION ] || exit 1\necho '%s'\n", h.getconf))
	}
	if h.uid != "" {
		script("id", fmt.Sprintf("echo %s\n", h.uid))
	}
	// A package manager records its arguments and the sum of the file it
	// was given (relative to its working directory, as ./FILE).
	for _, pm := range h.tools {
		script(pm, fmt.Sprintf(`for a in "$@"; do
	case $a in
	*.deb | *.rpm) s=$( (sha256sum "$a" 2>/dev/null || shasum -a 256 "$a") | cut -d ' ' -f 1) ;;
	esac
done
echo "%s $* sha256=$s" >>'%s'
`, pm, log))
	}
	env = []string{
		"PATH=" + fake + ":" + real,
		"HOME=" + filepath.Join(dir, "home"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"LC_ALL=C",
	}
	if h.osRelease != "" {
		env = append(env, "RELPACK_OS_RELEASE="+data("os-release", h.osRelease))
	} else {
		env = append(env, "RELPACK_OS_RELEASE="+filepath.Join(dir, "no-os-release"))
	}
	return env, log, dir
}

type result struct {
	out, err string
	code     int
}

func runScript(t *testing.T, shell []string, script string, env []string, args ...string) result {
	t.Helper()
	sh := testdeps.Tool(t, shell[0])
	cmd := exec.Command(sh, append(append(shell[1:], script), args...)...)
	cmd.Env = env
	cmd.Dir = filepath.Dir(script)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{out: o.String(), err: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// server serves the demo dist/ on 127.0.0.1; tamper maps a file name to the
// bytes served instead of the real file.
func server(t *testing.T, dist string, tamper map[string][]byte) string {
	t.Helper()
	files := http.FileServer(http.Dir(dist))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := tamper[strings.TrimPrefix(r.URL.Path, "/rel/")]; ok {
			w.Write(b)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/rel/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/rel")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", srv.URL)
	}
	return srv.URL + "/rel"
}

// writeInstaller renders install.sh for the demo build with baseURL as its
// default.
func writeInstaller(t *testing.T, m *manifest.Manifest, baseURL string) string {
	t.Helper()
	b, err := Installer(m, baseURL)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "install.sh")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func planLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "plan: ") {
			return l
		}
	}
	return ""
}

// The decision table, in --dry-run, under dash and busybox sh.
func TestInstallerDecisions(t *testing.T) {
	testdeps.Tools(t, "dash", "busybox", "curl", "sha256sum", "tar", "gzip")
	dist, m := demoDist(t)
	base := server(t, dist, nil)
	script := writeInstaller(t, m, base)

	cases := []struct {
		name   string
		h      host
		args   []string
		plan   string // "" = no plan line
		code   int
		reason string // substring of the reason / error
	}{
		{"el8 rocky glibc 2.28 rpm", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.28"), osRelease: osRel("rocky", "8.9"), tools: []string{"rpm", "dnf"}},
			nil, "plan: rpm openshell-gateway-0.1.0-1.el8.x86_64.rpm", 0, "rocky 8.9 matches target el8"},
		{"el8 oracle aarch64", host{machine: "aarch64", ldd: fmt.Sprintf(glibcLdd, "2.28"), osRelease: osRel("ol", "8.10"), tools: []string{"rpm", "yum"}},
			nil, "plan: rpm openshell-gateway-0.1.0-1.el8.aarch64.rpm", 0, "target el8"},
		{"el9 almalinux via getconf", host{machine: "x86_64", getconf: "glibc 2.34", osRelease: osRel("almalinux", "9.4"), tools: []string{"rpm", "dnf"}},
			nil, "plan: rpm openshell-gateway-0.1.0-1.el9.x86_64.rpm", 0, "glibc 2.34 >= 2.28"},
		{"el9 rhel arm64 uname", host{machine: "arm64", ldd: fmt.Sprintf(glibcLdd, "2.34"), osRelease: osRel("rhel", "9.3"), tools: []string{"rpm"}},
			nil, "plan: rpm openshell-gateway-0.1.0-1.el9.aarch64.rpm", 0, "target el9"},
		{"el9 needs EPEL", host{machine: "x86_64", getconf: "glibc 2.34", osRelease: osRel("rocky", "9.4"), tools: []string{"rpm", "dnf"}},
			nil, "plan: rpm openshell-gateway-0.1.0-1.el9.x86_64.rpm", 0, "note: the package needs z3-libs from the EPEL 9 repository; if this host does not have it enabled, run: sudo dnf install epel-release"},
		{"ubuntu 24.04 needs universe", host{machine: "x86_64", ldd: fmt.Sprintf(ubLdd, "2.39", "2.39"), osRelease: osRel("ubuntu", "24.04"), tools: []string{"dpkg", "apt-get"}},
			nil, "plan: deb openshell-gateway_0.1.0-1~ubuntu24.04_amd64.deb", 0, "note: the package needs libz3-4 from the universe repository; if this host does not have it enabled, run: sudo add-apt-repository universe"},
		{"centos 7 glibc 2.17", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.17"), osRelease: osRel("centos", "7"), tools: []string{"rpm", "yum"}},
			nil, "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", 0, "glibc 2.17 is older than 2.28"},
		{"ubuntu 18.04 glibc 2.27", host{machine: "x86_64", ldd: fmt.Sprintf(ubLdd, "2.27", "2.27"), osRelease: osRel("ubuntu", "18.04"), tools: []string{"dpkg", "apt-get"}},
			nil, "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", 0, "glibc 2.27 is older than 2.28"},
		{"debian 11 glibc 2.31", host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.31", "2.31"), osRelease: osRel("debian", "11"), tools: []string{"dpkg", "apt-get"}},
			nil, "plan: deb openshell-gateway_0.1.0-1~deb11_amd64.deb", 0, "debian 11 matches target debian11"},
		{"debian 12 glibc 2.36 aarch64", host{machine: "aarch64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg", "apt-get"}},
			nil, "plan: deb openshell-gateway_0.1.0-1~deb12_arm64.deb", 0, "target debian12"},
		{"debian 12 with rpm installed too", host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg", "rpm"}},
			nil, "plan: deb openshell-gateway_0.1.0-1~deb12_amd64.deb", 0, "dpkg is present"},
		{"ubuntu 22.04 glibc 2.35", host{machine: "x86_64", ldd: fmt.Sprintf(ubLdd, "2.35", "2.35"), osRelease: osRel("ubuntu", "22.04"), tools: []string{"dpkg", "apt-get"}},
			nil, "plan: deb openshell-gateway_0.1.0-1~ubuntu22.04_amd64.deb", 0, "target ubuntu2204"},
		{"debian 10 glibc 2.28: no target", host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.28", "2.28"), osRelease: osRel("debian", "10"), tools: []string{"dpkg"}},
			nil, "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", 0, "target debian10) is not packaged for"},
		{"fedora 41: not in the demo", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.40"), osRelease: osRel("fedora", "41"), tools: []string{"rpm", "dnf"}},
			nil, "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", 0, "target fedora41) is not packaged for"},
		{"no os-release", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.36"), tools: []string{"dpkg"}},
			nil, "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", 0, "names no distro id/version"},
		{"glibc 2.36 no package manager", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.36"), osRelease: osRel("debian", "12")},
			nil, "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", 0, "neither dpkg nor rpm is present"},
		{"musl alpine", host{machine: "x86_64", ldd: muslLdd, lddStderr: true, osRelease: osRel("alpine", "3.19.1")},
			nil, "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", 0, "runs musl libc"},
		{"musl alpine aarch64", host{machine: "aarch64", ldd: strings.Replace(muslLdd, "x86_64", "aarch64", 1), lddStderr: true, osRelease: osRel("alpine", "3.19.1")},
			nil, "plan: musl openshell-gateway-aarch64-unknown-linux-musl.tar.gz", 0, "runs musl libc"},
		{"no libc at all", host{machine: "x86_64", osRelease: osRel("debian", "12"), tools: []string{"dpkg"}},
			nil, "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", 0, "no glibc found"},
		{"--static on debian 12", host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg"}},
			[]string{"--static"}, "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", 0, "--static"},
		{"--tarball on debian 12", host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg"}},
			[]string{"--tarball"}, "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", 0, "--tarball"},
		{"--tarball aarch64 debian 12", host{machine: "aarch64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg"}},
			[]string{"--tarball"}, "plan: sidecar openshell-gateway-aarch64-unknown-linux-gnu-z3.tar.gz", 0, "--tarball"},
		{"riscv64 unsupported", host{machine: "riscv64", ldd: fmt.Sprintf(glibcLdd, "2.36")},
			nil, "", 3, "unsupported architecture 'riscv64'"},
		{"unknown option", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.36")},
			[]string{"--frobnicate"}, "", 2, "unknown option '--frobnicate'"},
		{"--prefix without value", host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.36")},
			[]string{"--prefix"}, "", 2, "--prefix needs a directory"},
	}
	for _, sh := range shells {
		for _, c := range cases {
			t.Run(sh.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				env, log, _ := c.h.sandbox(t)
				r := runScript(t, sh.argv, script, env, append([]string{"--dry-run"}, c.args...)...)
				if r.code != c.code {
					t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.out, r.err)
				}
				if got := planLine(r.out); got != c.plan {
					t.Errorf("%q, want %q\n%s%s", got, c.plan, r.out, r.err)
				}
				if !strings.Contains(r.out+r.err, c.reason) {
					t.Errorf("output lacks %q:\n%s%s", c.reason, r.out, r.err)
				}
				if c.code == 0 && !strings.Contains(r.out, "dry run: nothing downloaded or installed") {
					t.Errorf("no dry-run line:\n%s", r.out)
				}
				if _, err := os.Stat(log); err == nil {
					t.Error("a dry run called the package manager")
				}
			})
		}
	}
}

// The sha256 the script prints and checks is the manifest's.
func TestInstallerEmbedsManifestSums(t *testing.T) {
	_, m := demoDist(t)
	b, err := Installer(m, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		has := bytes.Contains(b, []byte(" "+a.SHA256+" "+a.File+"\n"))
		switch {
		case manifest.IsDebug(a.Kind) && has:
			t.Errorf("install.sh offers the debug artifact %s", a.File)
		case !manifest.IsDebug(a.Kind) && !has:
			t.Errorf("install.sh lacks the sum of %s", a.File)
		}
	}
}

func sumOf(t *testing.T, dist, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dist, file))
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Real runs (no --dry-run) against the demo dist/ on 127.0.0.1.
func TestInstallerInstalls(t *testing.T) {
	testdeps.Tools(t, "dash", "busybox", "curl", "wget", "shasum", "sha256sum", "tar", "gzip")
	dist, m := demoDist(t)
	base := server(t, dist, nil)
	deb12 := "openshell-gateway_0.1.0-1~deb12_amd64.deb"
	el8 := "openshell-gateway-0.1.0-1.el8.x86_64.rpm"
	musl := "openshell-gateway-x86_64-unknown-linux-musl.tar.gz"
	debian12 := host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12")}
	rocky8 := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.28"), osRelease: osRel("rocky", "8.9")}
	centos7 := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.17"), osRelease: osRel("centos", "7")}

	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Run("deb via apt-get", func(t *testing.T) {
				t.Parallel()
				h := debian12
				h.tools = []string{"dpkg", "apt-get"}
				env, log, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env)
				if r.code != 0 {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				pmLog(t, log, "apt-get install -y ./"+deb12+" sha256="+sumOf(t, dist, deb12))
			})
			t.Run("deb via dpkg -i", func(t *testing.T) {
				t.Parallel()
				h := debian12
				h.tools = []string{"dpkg"}
				env, log, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env)
				if r.code != 0 {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				pmLog(t, log, "dpkg -i ./"+deb12+" sha256="+sumOf(t, dist, deb12))
			})
			t.Run("rpm via dnf", func(t *testing.T) {
				t.Parallel()
				h := rocky8
				h.tools = []string{"rpm", "dnf"}
				env, log, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env)
				if r.code != 0 {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				pmLog(t, log, "dnf install -y ./"+el8+" sha256="+sumOf(t, dist, el8))
			})
			t.Run("rpm via rpm -U, wget and shasum", func(t *testing.T) {
				t.Parallel()
				h := rocky8
				h.tools = []string{"rpm"}
				h.without = []string{"curl", "sha256sum"}
				env, log, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env)
				if r.code != 0 {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				if !strings.Contains(r.out, "downloading (wget) ") || !strings.Contains(r.out, "verified (shasum -a 256): ") {
					t.Errorf("not downloaded with wget and checked with shasum:\n%s", r.out)
				}
				pmLog(t, log, "rpm -U ./"+el8+" sha256="+sumOf(t, dist, el8))
			})
			t.Run("musl tarball into a prefix, then run it", func(t *testing.T) {
				t.Parallel()
				h := centos7
				h.machine = hostMachine(t)
				env, _, dir := h.sandbox(t)
				prefix := filepath.Join(dir, "opt")
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env, "--prefix", prefix)
				if r.code != 0 {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				if planLine(r.out) != "plan: musl openshell-gateway-"+hostMachine(t)+"-unknown-linux-musl.tar.gz" {
					t.Errorf("plan: %q", planLine(r.out))
				}
				bin := filepath.Join(prefix, "bin", "openshell-gateway")
				out, err := exec.Command(bin, "--version").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "openshell-gateway demo 0.1.0\n") {
					t.Errorf("%s --version: %v: %q", bin, err, out)
				}
				for _, f := range []string{"share/doc/openshell-gateway/LICENSE", "share/doc/openshell-gateway/README.md"} {
					if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
						t.Error(err)
					}
				}
				if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
					t.Errorf("binary mode: %v %v", fi, err)
				}
				// A second run replaces the binary in place.
				if r := runScript(t, sh.argv, writeInstaller(t, m, base), env, "--prefix", prefix); r.code != 0 {
					t.Errorf("reinstall: exit %d\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("sidecar tarball into a prefix, then run it", func(t *testing.T) {
				t.Parallel()
				h := host{machine: hostMachine(t), ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg"}}
				env, log, dir := h.sandbox(t)
				prefix := filepath.Join(dir, "usr", "local")
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env, "--tarball", "--prefix", prefix)
				want := "plan: sidecar openshell-gateway-" + hostMachine(t) + "-unknown-linux-gnu-z3.tar.gz"
				if r.code != 0 || planLine(r.out) != want {
					t.Fatalf("exit %d, %q, want %q\n%s%s", r.code, planLine(r.out), want, r.out, r.err)
				}
				if _, err := os.Stat(log); err == nil {
					t.Error("--tarball called the package manager")
				}
				// The binary in PREFIX/bin loads the sidecar from PREFIX/lib
				// through RUNPATH $ORIGIN/../lib (the stub library says where
				// it was loaded from).
				lib := filepath.Join(prefix, "lib", "libz3.so.4")
				out, err := exec.Command(filepath.Join(prefix, "bin", "openshell-gateway"), "--version").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "openshell-gateway demo 0.1.0\n") || !strings.Contains(string(out), " from "+lib) {
					t.Errorf("--version: %v: %q, want the library from %s", err, out, lib)
				}
			})
			t.Run("busybox userland: musl tarball", func(t *testing.T) {
				t.Parallel()
				h := host{machine: "x86_64", ldd: muslLdd, lddStderr: true, osRelease: osRel("alpine", "3.19.1"), busybox: true}
				env, _, dir := h.sandbox(t)
				if _, err := os.Stat(filepath.Join(dir, "real", "curl")); err == nil {
					t.Fatal("curl in a busybox userland")
				}
				prefix := filepath.Join(dir, "usr", "local")
				r := runScript(t, sh.argv, writeInstaller(t, m, base), env, "--prefix", prefix)
				if r.code != 0 || !strings.Contains(r.out, "downloading (wget) ") || !strings.Contains(r.out, "verified (sha256sum): "+musl) {
					t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
				}
				out, err := exec.Command(filepath.Join(prefix, "bin", "openshell-gateway"), "--version").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "openshell-gateway demo 0.1.0\n") {
					t.Errorf("--version: %v: %q", err, out)
				}
			})
			t.Run("busybox userland: glibc versions parsed by busybox sed", func(t *testing.T) {
				t.Parallel()
				for ver, want := range map[string]string{
					"2.27": "plan: musl " + musl,
					"2.28": "plan: rpm " + el8,
				} {
					h := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, ver), osRelease: osRel("rocky", "8.9"), tools: []string{"rpm"}, busybox: true}
					env, _, _ := h.sandbox(t)
					r := runScript(t, sh.argv, writeInstaller(t, m, base), env, "--dry-run")
					if r.code != 0 || planLine(r.out) != want {
						t.Errorf("glibc %s: exit %d, %q, want %q\n%s%s", ver, r.code, planLine(r.out), want, r.out, r.err)
					}
				}
			})
			t.Run("base URL: env over rendered default, argument over env", func(t *testing.T) {
				t.Parallel()
				dead := "http://127.0.0.1:1/nothing-here"
				script := writeInstaller(t, m, dead)
				env, _, dir := centos7.sandbox(t)
				r := runScript(t, sh.argv, script, env, "--dry-run")
				if !strings.Contains(r.out, "url: "+dead+"/"+musl) {
					t.Errorf("default: %s", r.out)
				}
				r = runScript(t, sh.argv, script, append(env, "RELPACK_BASE_URL="+base), "--prefix", filepath.Join(dir, "a"))
				if r.code != 0 || !strings.Contains(r.out, "url: "+base+"/"+musl) {
					t.Errorf("RELPACK_BASE_URL: exit %d\n%s%s", r.code, r.out, r.err)
				}
				r = runScript(t, sh.argv, script, append(env, "RELPACK_BASE_URL="+dead), "--base-url", base+"/", "--prefix", filepath.Join(dir, "b"))
				if r.code != 0 || !strings.Contains(r.out, "url: "+base+"/"+musl) {
					t.Errorf("--base-url: exit %d\n%s%s", r.code, r.out, r.err)
				}
				if _, err := os.Stat(filepath.Join(dir, "b", "bin", "openshell-gateway")); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// hostMachine is this machine's architecture as the artifacts name it: the
// real-install tests start the installed binary here.
func hostMachine(t *testing.T) string {
	t.Helper()
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	t.Fatalf("the demo has no binary for %s: run the tests on x86_64 or aarch64", runtime.GOARCH)
	return ""
}

func pmLog(t *testing.T, log, want string) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the package manager was not called: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("package manager call:\n%s\nwant\n%s", got, want)
	}
}

// Refusals: each with its exit code and nothing installed.
func TestInstallerRefusals(t *testing.T) {
	testdeps.Tools(t, "dash", "busybox", "curl", "sha256sum", "tar", "gzip")
	dist, m := demoDist(t)
	deb12 := "openshell-gateway_0.1.0-1~deb12_amd64.deb"
	musl := "openshell-gateway-x86_64-unknown-linux-musl.tar.gz"
	tamper := func(file string) []byte {
		b, err := os.ReadFile(filepath.Join(dist, file))
		if err != nil {
			t.Fatal(err)
		}
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0xff
		return b
	}
	evil := server(t, dist, map[string][]byte{deb12: tamper(deb12), musl: tamper(musl)})
	good := server(t, dist, nil)
	debian12 := host{machine: "x86_64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg", "apt-get"}}
	centos7 := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.17"), osRelease: osRel("centos", "7")}

	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Run("tampered deb", func(t *testing.T) {
				t.Parallel()
				env, log, _ := debian12.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, evil), env)
				if r.code != 7 || !strings.Contains(r.err, "checksum mismatch for "+deb12) || !strings.Contains(r.err, "nothing was installed") {
					t.Errorf("exit %d, want 7\n%s%s", r.code, r.out, r.err)
				}
				if _, err := os.Stat(log); err == nil {
					t.Error("the package manager ran on a tampered file")
				}
			})
			t.Run("tampered tarball", func(t *testing.T) {
				t.Parallel()
				env, _, dir := centos7.sandbox(t)
				prefix := filepath.Join(dir, "opt")
				r := runScript(t, sh.argv, writeInstaller(t, m, evil), env, "--prefix", prefix)
				if r.code != 7 || !strings.Contains(r.err, "checksum mismatch for "+musl) {
					t.Errorf("exit %d, want 7\n%s%s", r.code, r.out, r.err)
				}
				if _, err := os.Stat(prefix); !os.IsNotExist(err) {
					t.Errorf("%s exists after a refused install", prefix)
				}
				if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "*")); len(left) != 0 {
					t.Errorf("temporary files left: %v", left)
				}
			})
			t.Run("download fails", func(t *testing.T) {
				t.Parallel()
				env, _, _ := centos7.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, good+"/missing"), env, "--prefix", t.TempDir())
				if r.code != 6 || !strings.Contains(r.err, "cannot download") {
					t.Errorf("exit %d, want 6\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("no base URL", func(t *testing.T) {
				t.Parallel()
				env, _, _ := centos7.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, ""), env)
				if r.code != 2 || !strings.Contains(r.err, "no base URL") {
					t.Errorf("exit %d, want 2\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("no curl or wget", func(t *testing.T) {
				t.Parallel()
				h := centos7
				h.without = []string{"curl", "wget"}
				env, _, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, good), env)
				if r.code != 5 || !strings.Contains(r.err, "neither curl nor wget") {
					t.Errorf("exit %d, want 5\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("no sha256 tool", func(t *testing.T) {
				t.Parallel()
				h := centos7
				h.without = []string{"sha256sum", "shasum"}
				env, _, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, good), env)
				if r.code != 5 || !strings.Contains(r.err, "cannot verify the download") {
					t.Errorf("exit %d, want 5\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("package needs root", func(t *testing.T) {
				t.Parallel()
				h := debian12
				h.uid = "1000"
				env, log, _ := h.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, m, good), env)
				if r.code != 9 || !strings.Contains(r.err, "needs root") {
					t.Errorf("exit %d, want 9\n%s%s", r.code, r.out, r.err)
				}
				if _, err := os.Stat(log); err == nil {
					t.Error("the package manager ran")
				}
			})
			t.Run("no musl tarball for an old glibc", func(t *testing.T) {
				t.Parallel()
				mm := clone(t, m)
				kept := mm.Artifacts[:0]
				for _, a := range mm.Artifacts {
					if a.Libc != "musl" {
						kept = append(kept, a)
					}
				}
				mm.Artifacts = kept
				env, _, _ := centos7.sandbox(t)
				r := runScript(t, sh.argv, writeInstaller(t, mm, good), env, "--dry-run")
				if r.code != 4 || !strings.Contains(r.err, "glibc 2.17 is older than 2.28") || !strings.Contains(r.err, "no static musl tarball for x86_64") {
					t.Errorf("exit %d, want 4\n%s%s", r.code, r.out, r.err)
				}
			})
			t.Run("prefix not writable", func(t *testing.T) {
				t.Parallel()
				env, _, dir := centos7.sandbox(t)
				file := filepath.Join(dir, "file")
				if err := os.WriteFile(file, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				r := runScript(t, sh.argv, writeInstaller(t, m, good), env, "--prefix", file)
				if r.code != 8 || !strings.Contains(r.err, "cannot create "+file+"/bin") {
					t.Errorf("exit %d, want 8\n%s%s", r.code, r.out, r.err)
				}
			})
		})
	}
}

// The installer prefers the sidecar tarball over the plain gnu tarball when
// the host meets the sidecar's own floor (its library can raise it), falls
// back to the gnu tarball otherwise, and uses the gnu tarball (with a note
// about Z3) when a release has no sidecar.
func TestInstallerSidecarFloor(t *testing.T) {
	testdeps.Tools(t, "dash", "busybox")
	_, demo := demoDist(t)
	m := clone(t, demo)
	for i := range m.Artifacts {
		if IsSidecar(m.Artifacts[i]) {
			m.Artifacts[i].Floor = "2.34"
		}
	}
	noSidecar := clone(t, demo)
	kept := noSidecar.Artifacts[:0]
	for _, a := range noSidecar.Artifacts {
		if !IsSidecar(a) {
			kept = append(kept, a)
		}
	}
	noSidecar.Artifacts = kept
	raised := writeInstaller(t, m, "http://127.0.0.1:1")
	plain := writeInstaller(t, noSidecar, "http://127.0.0.1:1")
	cases := []struct {
		script, glibc, want, says string
	}{
		{raised, "2.36", "plan: sidecar openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", ""},
		{raised, "2.31", "plan: gnu openshell-gateway-x86_64-unknown-linux-gnu.tar.gz", "note: this tarball loads the Z3 library from the host"},
		{raised, "2.27", "plan: musl openshell-gateway-x86_64-unknown-linux-musl.tar.gz", ""},
		{plain, "2.36", "plan: gnu openshell-gateway-x86_64-unknown-linux-gnu.tar.gz", "note: this tarball loads the Z3 library from the host"},
	}
	for _, sh := range shells {
		for _, c := range cases {
			h := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, c.glibc), osRelease: osRel("arch", "")}
			env, _, _ := h.sandbox(t)
			r := runScript(t, sh.argv, c.script, env, "--dry-run")
			if r.code != 0 || planLine(r.out) != c.want || !strings.Contains(r.out, c.says) {
				t.Errorf("%s glibc %s: exit %d, %q, want %q\n%s%s", sh.name, c.glibc, r.code, planLine(r.out), c.want, r.out, r.err)
			}
		}
	}
}
