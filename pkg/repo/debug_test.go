package repo

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sign"
)

// debugELF builds a small Go program with a GNU build-id (-B gobuildid)
// and its DWARF, once per test binary: the debug file the constructed
// debug packages carry (an ELF file debuginfod indexes as debuginfo), and
// its build-id in hex.
func debugELF(t *testing.T) (path, buildID string) {
	t.Helper()
	relMu.Lock()
	defer relMu.Unlock()
	if p, ok := releases["debug-elf"]; ok {
		return p, releases["debug-elf-id"]
	}
	dir := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"gateway\") }\n"
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module gw\n\ngo 1.22\n"), 0o644)
	if relRoot == "" {
		d, err := os.MkdirTemp("", "relpack-repo-releases-")
		if err != nil {
			t.Fatal(err)
		}
		relRoot = d
	}
	path = filepath.Join(relRoot, "gw.debug")
	cmd := exec.Command("go", "build", "-ldflags=-B=gobuildid", "-o", path, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-trimpath")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatal("go build -B gobuildid wrote no .note.gnu.build-id")
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("build-id note: %v", err)
	}
	namesz, descsz := binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
	off := 12 + (namesz+3)&^3
	buildID = hex.EncodeToString(b[off : off+descsz])
	releases["debug-elf"], releases["debug-elf-id"] = path, buildID
	return path, buildID
}

// debugPackage writes the debug package of package a (a ddeb or a
// debuginfo rpm) into dir with pkg/pack's DebugSpec and writer, as relpack
// build makes it, and returns its manifest record.
func debugPackage(t *testing.T, dir, product string, a manifest.Artifact, debugFile, id string, key *sign.Key) manifest.Artifact {
	t.Helper()
	ver, rel, _ := strings.Cut(a.PackageVersion, "-")
	binary := "/usr/bin/" + product
	main := pack.PackageSpec{
		Format: a.Kind, Name: product, Arch: map[string]string{"x86_64": "amd64", "aarch64": "arm64"}[a.Arch],
		Version: ver, Release: rel, Maintainer: "Test <test@example.org>", License: "Apache-2.0",
		Summary: product, MTime: time.Unix(1700000000, 0), TempDir: t.TempDir(),
		Files: []pack.PackageFile{{Data: []byte("#!/bin/sh\n"), Dst: binary, Mode: 0o755}}, Signing: key,
	}
	spec, err := pack.DebugSpec(main, pack.DebugPackage{BuildID: id, DebugFile: debugFile, Binary: binary})
	if err != nil {
		t.Fatal(err)
	}
	d := manifest.Artifact{Triple: a.Triple, Arch: a.Arch, Libc: a.Libc, Distro: a.Distro, PackageVersion: a.PackageVersion,
		BuildID: id, DebugFor: a.File, DebugFile: "/usr/lib/debug/.build-id/" + id[:2] + "/" + id[2:] + ".debug",
		Kind: manifest.KindDebuginfo}
	if a.Kind == "deb" {
		d.Kind, d.Relations = manifest.KindDdeb, spec.Depends
	}
	p, err := pack.WritePackage(spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	d.File = filepath.Base(p)
	sum, size, err := pack.SHA256File(p)
	if err != nil {
		t.Fatal(err)
	}
	d.SHA256, d.Size = sum, size
	return d
}

// debugRelease is a private copy of the demo release at version with a
// debug package beside every deb and rpm: the demo's own when its
// configuration splits debug symbols, otherwise constructed
// (addDebugPackages).
func debugRelease(t *testing.T, version string) string {
	t.Helper()
	return addDebugPackages(t, copyRelease(t, demoRelease(t, version, "")), nil)
}

// addDebugPackages returns dir, a release folder, with a debug package
// beside every deb and rpm. A release that has them (relpack build with
// debug_symbols) is kept as built. Otherwise they are made with pkg/pack's
// DebugSpec (debugPackage), signed with key (nil: unsigned; SHA256SUMS.asc
// is then signed again with it), the manifest and SHA256SUMS written again
// as a build would; the provenance statement, which would not list them,
// is left out.
func addDebugPackages(t *testing.T, dir string, key *sign.Key) string {
	t.Helper()
	if slices.ContainsFunc(readManifest(t, dir).Artifacts, func(a manifest.Artifact) bool { return manifest.IsDebug(a.Kind) }) {
		return dir
	}
	debugFile, id := debugELF(t)
	m := readManifest(t, dir)
	os.Remove(filepath.Join(dir, manifest.ProvenanceFile))
	os.Remove(filepath.Join(dir, manifest.ProvenanceFile+".asc"))
	// SHA256SUMS lists neither KEY.asc nor SHA256SUMS.asc: out of the way
	// while editManifest lists the folder, KEY.asc back after.
	keyAsc, _ := os.ReadFile(filepath.Join(dir, "KEY.asc"))
	os.Remove(filepath.Join(dir, "KEY.asc"))
	os.Remove(filepath.Join(dir, "SHA256SUMS.asc"))
	defer func() {
		if keyAsc != nil {
			os.WriteFile(filepath.Join(dir, "KEY.asc"), keyAsc, 0o644)
		}
	}()
	var extra []manifest.Artifact
	for _, a := range m.Artifacts {
		if a.Kind == "deb" || a.Kind == "rpm" {
			extra = append(extra, debugPackage(t, dir, m.Product, a, debugFile, id, key))
		}
	}
	editManifest(t, dir, func(m *manifest.Manifest) {
		m.Provenance = nil
		for i := range m.Artifacts {
			if j := slices.IndexFunc(extra, func(d manifest.Artifact) bool { return d.DebugFor == m.Artifacts[i].File }); j >= 0 {
				m.Artifacts[i].BuildID, m.Artifacts[i].Debug = id, extra[j].File
			}
		}
		m.Artifacts = append(m.Artifacts, extra...)
	})
	if key != nil {
		sums, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		defer sums.Close()
		var asc bytes.Buffer
		if err := sign.DetachSign(key, sums, &asc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS.asc"), asc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// debugOf is the debug package of kind for target and arch in the
// release in dir.
func debugOf(t *testing.T, dir, kind, target, arch string) manifest.Artifact {
	t.Helper()
	return artifactOf(t, dir, kind, target, arch)
}

// fileBuildID is the GNU build-id of the ELF file at p (hex), "" when it
// has none.
func fileBuildID(t *testing.T, p string) string {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("%s: build-id note: %v", p, err)
	}
	namesz, descsz := f.ByteOrder.Uint32(b[0:]), f.ByteOrder.Uint32(b[4:])
	off := 12 + (namesz+3)&^3
	if uint32(len(b)) < off+descsz {
		t.Fatalf("%s: short build-id note", p)
	}
	return hex.EncodeToString(b[off : off+descsz])
}

// relpack repo publishes ddebs in each suite's debug suite SUITE-debug
// (signed like the suite, listing only them) and debuginfo rpms in a
// debuginfo repository per target and arch (rpm/TARGET/ARCH/debug, its
// own signed repodata), records their build-ids, writes their set-up
// files, and a second run over the same release changes nothing.
func TestRepoPublishesDebugPackages(t *testing.T) {
	key := testKey(t)
	dir := debugRelease(t, "0.1.0")
	out := filepath.Join(t.TempDir(), "repo")
	res := mustRun(t, opts(key, out, dir))
	listed := checkTree(t, out)
	m := readManifest(t, dir)
	nDdeb, nDebuginfo := 0, 0
	for _, a := range m.Artifacts {
		switch a.Kind {
		case manifest.KindDdeb:
			nDdeb++
		case manifest.KindDebuginfo:
			nDebuginfo++
		}
	}
	if nDdeb == 0 || nDebuginfo == 0 {
		t.Fatalf("the constructed release has %d ddebs and %d debuginfo rpms", nDdeb, nDebuginfo)
	}
	gotDdeb, gotDebuginfo := 0, 0
	for idx, files := range listed {
		debugIndex := strings.Contains(idx, "-debug/") || strings.Contains(idx, "/debug/repodata/")
		for _, f := range files {
			isDebug := strings.HasSuffix(f, ".ddeb") || strings.Contains(f, "-debuginfo-")
			if isDebug != debugIndex {
				t.Errorf("%s lists %s", idx, f)
			}
			if strings.HasSuffix(f, ".ddeb") {
				gotDdeb++
			} else if isDebug {
				gotDebuginfo++
			}
		}
	}
	if gotDdeb != nDdeb || gotDebuginfo != nDebuginfo {
		t.Errorf("the debug indexes list %d ddebs and %d debuginfo rpms, the release has %d and %d", gotDdeb, gotDebuginfo, nDdeb, nDebuginfo)
	}
	checkDebugResult(t, out, res, m)
	again := mustRun(t, opts(key, out, dir))
	if !again.Unchanged {
		t.Error("adding the same release again changed the tree")
	}
}

// checkDebugResult holds the Result, the record and the set-up files to
// the debug packages published.
func checkDebugResult(t *testing.T, out string, res *Result, m *manifest.Manifest) {
	t.Helper()
	for _, s := range res.Suites {
		if s.Debug == nil || s.Debug.Suite != s.Suite+"-debug" || s.Debug.Packages == 0 {
			t.Errorf("suite %s: debug suite %+v", s.Suite, s.Debug)
			continue
		}
		for _, f := range []string{s.Debug.Index + "/InRelease", s.Debug.Index + "/Release.gpg", s.Debug.Sources, s.Debug.List} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Error(err)
			}
		}
		src, _ := os.ReadFile(filepath.Join(out, s.Debug.Sources))
		if !strings.Contains(string(src), "Suites: "+s.Suite+"-debug\n") {
			t.Errorf("%s:\n%s", s.Debug.Sources, src)
		}
	}
	for _, r := range res.Repos {
		if r.Debug == nil || len(r.Debug.Dirs) != len(r.Arches) {
			t.Errorf("rpm target %s: debuginfo repository %+v", r.Target, r.Debug)
			continue
		}
		for _, d := range r.Debug.Dirs {
			if _, err := os.Stat(filepath.Join(out, d, "repodata", "repomd.xml.asc")); err != nil {
				t.Error(err)
			}
		}
		repoFile, _ := os.ReadFile(filepath.Join(out, r.RepoFile))
		want := "[openshell-gateway-debuginfo]\nname=openshell-gateway debug symbols (" + r.Target + ", $basearch)\nbaseurl=" + testURL + "/rpm/" + r.Target + "/$basearch/debug/\nenabled=0\n"
		if !strings.Contains(string(repoFile), want) {
			t.Errorf("%s lacks\n%s\nit holds:\n%s", r.RepoFile, want, repoFile)
		}
	}
	st, err := ReadState(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range st.Releases[0].Artifacts {
		if a.Kind == manifest.KindDdeb || a.Kind == manifest.KindDebuginfo {
			n++
			i := slices.IndexFunc(m.Artifacts, func(b manifest.Artifact) bool { return b.File == a.File })
			if i < 0 || a.BuildID == "" || a.BuildID != m.Artifacts[i].BuildID || a.DebugFor != m.Artifacts[i].DebugFor || a.Path != Layout(st.Product, a) {
				t.Errorf("record of %s: %+v", a.File, a)
			}
			if a.Kind == manifest.KindDebuginfo && !strings.HasPrefix(a.Path, DebugRepoDir(a.Distro, distro.ArchName(a.Arch, "rpm"))+"/Packages/") {
				t.Errorf("%s is at %s", a.File, a.Path)
			}
		}
	}
	if n == 0 {
		t.Error("the record holds no debug package")
	}
}

// A debug package whose package is not in the release, or whose build-id
// differs from its package's, is refused before the tree is touched.
func TestRepoRefusesUnpairedDebugPackage(t *testing.T) {
	key := testKey(t)
	dir := debugRelease(t, "0.1.0")
	editManifest(t, dir, func(m *manifest.Manifest) {
		for i := range m.Artifacts {
			if m.Artifacts[i].Kind == manifest.KindDdeb {
				m.Artifacts[i].BuildID = strings.Repeat("ab", 20)
				m.Artifacts[i].DebugFile = "/usr/lib/debug/.build-id/ab/" + strings.Repeat("ab", 19) + ".debug"
				break
			}
		}
	})
	out := filepath.Join(t.TempDir(), "repo")
	refused(t, opts(key, out, dir), "has build-id abab", "whose symbols it holds, has build-id")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created for a refused release", out)
	}
}

// debuginfod, serving the repository tree on loopback (it scans the
// ddebs and rpms itself), answers a query for the build-id with the debug
// file the packages carry.
func TestDebuginfodServesRepoTree(t *testing.T) {
	testdeps.Tools(t, "debuginfod", "debuginfod-find", "bsdtar")
	key := testKey(t)
	dir := debugRelease(t, "0.1.0")
	out := filepath.Join(t.TempDir(), "repo")
	mustRun(t, opts(key, out, dir))
	for _, d := range []manifest.Artifact{debugOf(t, dir, manifest.KindDdeb, "debian12", "x86_64"), debugOf(t, dir, manifest.KindDebuginfo, "el8", "aarch64")} {
		got := debuginfodFind(t, out, d.BuildID)
		if id := fileBuildID(t, got); id != d.BuildID {
			t.Errorf("debuginfod-find debuginfo %s (%s) returned a file of build-id %q", d.BuildID, d.File, id)
		}
	}
}

// debuginfodFind serves tree with debuginfod (-U: .deb/.ddeb, -R: .rpm)
// on a free loopback port and returns the path of what debuginfod-find
// debuginfo id fetches from it, retrying while the first scan runs.
func debuginfodFind(t *testing.T, tree, id string) string {
	t.Helper()
	tmp := t.TempDir()
	port := freePort(t)
	// -U: .deb and .ddeb (read with bsdtar), -R: .rpm; no -F, so only
	// what the packages hold is indexed; -t 0: one scan, no rescans.
	srv := exec.Command("debuginfod", "-p", fmt.Sprint(port), "-d", filepath.Join(tmp, "db.sqlite"), "-U", "-R", "-t", "0", "-g", "0", tree)
	var logb bytes.Buffer
	srv.Stdout, srv.Stderr = &logb, &logb
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for try := 0; ; try++ {
		// A fresh cache each try: the client caches a miss (the scan not
		// done yet) for minutes.
		cmd := exec.Command("debuginfod-find", "debuginfo", id)
		cmd.Env = append(os.Environ(), fmt.Sprintf("DEBUGINFOD_URLS=http://127.0.0.1:%d", port), fmt.Sprintf("DEBUGINFOD_CACHE_PATH=%s/cache%d", tmp, try), "DEBUGINFOD_TIMEOUT=10")
		o, err := cmd.Output()
		if err == nil {
			return strings.TrimSpace(string(o))
		}
		if time.Now().After(deadline) {
			t.Fatalf("debuginfod-find debuginfo %s: %v\ndebuginfod's log:\n%s", id, err, logb.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// freePort is a TCP port free on loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A suite may not take the name of another suite's debug suite.
func TestRepoRefusesSuiteNamedAsDebugSuite(t *testing.T) {
	key := testKey(t)
	dir := debugRelease(t, "0.1.0")
	out := filepath.Join(t.TempDir(), "repo")
	o := opts(key, out, dir)
	o.Suites = map[string]string{"debian11": "bookworm-debug"}
	refused(t, o, "deb target debian11 is published as suite bookworm-debug, the name of deb target debian12's debug suite", "--suite debian11=NAME")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created for a refused run", out)
	}
}

// TestDNFInstallsDebuginfo follows the debug-symbol set-up the docs give
// with the real dnf: a signed demo release with a signed debuginfo rpm
// beside each rpm, published, served on loopback; the tree's own .repo
// file of el8 in dnf's reposdir. dnf does not see the debuginfo
// repository (disabled) until --enablerepo=openshell-gateway-debuginfo,
// then installs openshell-gateway-debuginfo with gpgcheck and
// repo_gpgcheck, into a root seeded like an EL8 host, and the debug file
// is found by its build-id path.
func TestDNFInstallsDebuginfo(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (dnf chroots into the install root); CI runs as root")
	}
	testdeps.Tools(t, "dnf", "rpm")
	key, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	dir := addDebugPackages(t, copyRelease(t, signedDemo(t, "0.1.0")), key)
	id := debugOf(t, dir, manifest.KindDebuginfo, "el8", "x86_64").BuildID
	tree := filepath.Join(t.TempDir(), "repo")
	os.MkdirAll(tree, 0o755)
	srv := httptest.NewServer(http.FileServer(http.Dir(tree)))
	defer srv.Close()
	mustRun(t, Options{Dirs: []string{dir}, Out: tree, URL: srv.URL, Key: key})

	root := rpmroot.ShellRoot(t, false, false)
	rpmroot.SeedEL8(t, root)
	conf := t.TempDir()
	reposDir := filepath.Join(conf, "repos.d")
	repoFile, err := os.ReadFile(filepath.Join(tree, RepoFileName("openshell-gateway", "el8")))
	if err != nil {
		t.Fatal(err)
	}
	rpmroot.WriteFile(t, filepath.Join(reposDir, "openshell-gateway.repo"), string(repoFile), 0o644)
	dnfConf := filepath.Join(conf, "dnf.conf")
	rpmroot.WriteFile(t, dnfConf, "[main]\nreposdir="+reposDir+"\nlogdir="+filepath.Join(conf, "log")+"\ninstall_weak_deps=0\n", 0o644)
	dnf := func(args ...string) (string, error) {
		cmd := exec.Command("dnf", append([]string{"-c", dnfConf, "--installroot=" + root, "--setopt=reposdir=" + reposDir,
			"--setopt=cachedir=" + filepath.Join(conf, "cache"), "--releasever=8", "-y"}, args...)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		o, err := cmd.CombinedOutput()
		return string(o), err
	}
	if o, err := dnf("install", "openshell-gateway-debuginfo"); err == nil {
		t.Errorf("dnf installed the debug symbols from a disabled repository:\n%s", o)
	}
	o, err := dnf("--enablerepo=openshell-gateway-debuginfo", "install", "openshell-gateway-debuginfo")
	if err != nil {
		t.Fatalf("dnf --enablerepo=openshell-gateway-debuginfo install openshell-gateway-debuginfo: %v\n%s", err, o)
	}
	q, err := exec.Command("rpm", "--root", root, "-q", "--qf", "%{VERSION}-%{RELEASE}", "openshell-gateway-debuginfo").CombinedOutput()
	if err != nil || string(q) != "0.1.0-1.el8" {
		t.Errorf("rpm -q openshell-gateway-debuginfo: %q %v", q, err)
	}
	if got := fileBuildID(t, filepath.Join(root, "usr/lib/debug/.build-id", id[:2], id[2:]+".debug")); got != id {
		t.Errorf("the file at the build-id path of %s in the root has build-id %q", id, got)
	}
}
