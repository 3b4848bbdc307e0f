package smoke

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// One soname in two of the root's library folders: the root's loader takes
// the copy its ld.so.cache lists first (ldconfig's folder order), and so
// must loader mode. Each case puts the real libz3.so.4 (good) in one
// folder and the stub (broken: no Z3_mk_int) in another, builds the cache
// with ldconfig, and checks three answers against each other: the root's
// own loader in a chroot (`ld.so --list`: which file it opens), chroot
// mode (PASS or FAIL) and loader mode (PASS or FAIL, and the file it
// names). Then the same without the cache file: loader mode follows
// ldconfig's order and must give the answer the cache would have given.
//
// Two layouts:
//   - Debian: the bullseye root, an ld.so.conf.d file (libz3.conf, read
//     after libc.conf and before x86_64-linux-gnu.conf) naming
//     /opt/z3/lib, and the bullseye root's own ldconfig (glibc 2.31,
//     run in a chroot). /lib64 holds only the loader's link on Debian;
//     neither ldconfig nor the loader looks there.
//   - EL8: EL8's folders (/lib64 a link to usr/lib64, /lib to usr/lib,
//     /etc/ld.so.conf including ld.so.conf.d/*.conf, a folder there) with
//     bullseye's glibc, the only one this machine has, and this machine's
//     ldconfig -r. Both are Debian builds, which add the multiarch
//     folders, /lib and /usr/lib on their own, where EL8's ldconfig adds
//     /lib and /lib64 (upstream add_system_dir on x86_64): so the root's
//     ld.so.conf lists /lib and /lib64 after its include, which gives the
//     cache EL8's order (the ld.so.conf.d folders, /usr/lib, /usr/lib64).
func TestCacheOrderAgreesWithLoader(t *testing.T) {
	testdeps.Tools(t, "unshare", "mount", "chroot", "sh")
	s := z3Sysroot(t)
	bin := buildZ3MkInt(t, s, "")
	good := s + "/usr/lib/x86_64-linux-gnu/libz3.so.4"
	broken := fx + "x86_64/libz3.so.4"

	layouts := []struct {
		name    string
		root    func(t *testing.T) string
		ldconf  func(t *testing.T, root string)
		folders []string // where a copy can go
		order   []string // the cache's folder order (others are not searched)
	}{
		{
			name: "debian",
			root: func(t *testing.T) string {
				root := privateBullseye(t, "bullseye-cacheorder")
				writeRootFile(t, root, "etc/ld.so.conf.d/libz3.conf", "/opt/z3/lib\n")
				return root
			},
			ldconf:  rootLdconfig,
			folders: []string{"/opt/z3/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib64"},
			order:   []string{"/opt/z3/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib"},
		},
		{
			name:    "el8",
			root:    func(t *testing.T) string { return el8LikeRoot(t, s) },
			ldconf:  func(t *testing.T, root string) { ldconfigCache(t, root, "") },
			folders: []string{"/opt/z3/lib", "/usr/lib", "/usr/lib64"},
			order:   []string{"/opt/z3/lib", "/usr/lib", "/usr/lib64"},
		},
	}
	for _, lay := range layouts {
		t.Run(lay.name, func(t *testing.T) {
			root := lay.root(t)
			for _, d := range lay.folders {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			rank := func(d string) int {
				for i, o := range lay.order {
					if o == d {
						return i
					}
				}
				return len(lay.order)
			}
			for i, a := range lay.folders {
				for _, b := range lay.folders[i+1:] {
					for _, goodIn := range []string{a, b} {
						brokenIn := a
						if goodIn == a {
							brokenIn = b
						}
						name := fmt.Sprintf("good-in-%s,broken-in-%s", strings.ReplaceAll(goodIn[1:], "/", "-"), strings.ReplaceAll(brokenIn[1:], "/", "-"))
						t.Run(name, func(t *testing.T) {
							placeCopies(t, root, lay.folders, map[string]string{goodIn: good, brokenIn: broken})
							lay.ldconf(t, root)
							winner := goodIn
							if rank(brokenIn) < rank(goodIn) {
								winner = brokenIn
							}
							agree(t, root, bin, winner+"/libz3.so.4", winner == goodIn, true)
						})
					}
				}
			}
		})
	}

	// A stale cache: the loader opens the one path the cache gives, or,
	// for a name the cache lacks, only its default folders; loader mode
	// does the same (and says so).
	t.Run("stale", func(t *testing.T) {
		root := layouts[0].root(t)
		folders := layouts[0].folders
		for _, d := range folders {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("listed-copy-removed", func(t *testing.T) {
			// The cache lists the good copy in /opt/z3/lib, which is
			// then removed: the loader goes on to /usr/lib's broken one.
			placeCopies(t, root, folders, map[string]string{"/opt/z3/lib": good, "/usr/lib": broken})
			rootLdconfig(t, root)
			os.Remove(filepath.Join(root, "opt/z3/lib/libz3.so.4"))
			res := agree(t, root, bin, "/usr/lib/libz3.so.4", false, false)
			wantNote(t, res, "stale cache")
		})
		t.Run("unlisted-copy", func(t *testing.T) {
			// The good copy came after ldconfig: the cache still gives
			// /usr/lib's broken one.
			placeCopies(t, root, folders, map[string]string{"/usr/lib": broken})
			rootLdconfig(t, root)
			placeCopies(t, root, folders, map[string]string{"/usr/lib": broken, "/opt/z3/lib": good})
			agree(t, root, bin, "/usr/lib/libz3.so.4", false, false)
		})
		t.Run("unlisted-only-copy", func(t *testing.T) {
			// The only copy is in an ld.so.conf folder the cache does
			// not know of yet: the loader does not find it.
			placeCopies(t, root, folders, nil)
			rootLdconfig(t, root)
			placeCopies(t, root, folders, map[string]string{"/opt/z3/lib": good})
			res := agree(t, root, bin, "", false, false)
			wantNote(t, res, "does not list it")
		})
	})
}

// agree runs bin on root three ways and checks they agree: the root's own
// loader in a chroot opens lib (a path of the root; "" for none), chroot
// mode passes if and only if pass, and loader mode gives the same verdict
// naming the same file. With noCache, loader mode runs once more without
// the root's cache file and must give the same answer (ldconfig's order).
func agree(t *testing.T, root, bin, lib string, pass, noCache bool) Result {
	t.Helper()
	// Compared as files: /lib/x86_64-linux-gnu is usr/lib/... on a
	// merged-/usr root, and ldconfig names the folder it scanned first.
	same := func(a, b string) bool {
		if a == "" || b == "" {
			return a == b
		}
		ha, errA := resolveIn(root, a)
		hb, errB := resolveIn(root, b)
		return errA == nil && errB == nil && ha == hb
	}
	if got := rootLoaderPick(t, root, bin); !same(got, lib) {
		t.Fatalf("the root's loader opens %q, the test expects %q", got, lib)
	}
	ch := run(t, Options{Root: root, File: bin, Mode: ModeChroot})
	if ch.OK != pass {
		t.Errorf("chroot mode: ok=%v, want %v (%s)\nstderr: %s", ch.OK, pass, ch.LoaderError, ch.Stderr)
	}
	if !pass && ch.LoaderError == "" {
		t.Errorf("chroot mode failed without a loader error: %s", ch.Stderr)
	}
	check := func(res Result, what string) {
		t.Helper()
		if res.OK != ch.OK {
			t.Errorf("loader mode%s: ok=%v, chroot mode: ok=%v\nloader mode: %s\nnotes: %q", what, res.OK, ch.OK, res.LoaderError, res.Notes)
		}
		if lib == "" {
			if !strings.Contains(res.LoaderError, "libz3.so.4: cannot open shared object file") {
				t.Errorf("loader mode%s: loader_error %q, want libz3.so.4 not found", what, res.LoaderError)
			}
			return
		}
		host, err := resolveIn(root, lib)
		if err != nil {
			t.Fatal(err)
		}
		if !hasNote(res, "libz3.so.4 = "+host+",") && !hasNote(res, "libz3.so.4 = "+host+"\n") {
			t.Errorf("loader mode%s does not name %s for libz3.so.4: notes %q", what, host, res.Notes)
		}
		if !pass && !strings.Contains(res.LoaderError, "undefined symbol: Z3_mk_int") {
			t.Errorf("loader mode%s: loader_error %q, want undefined symbol: Z3_mk_int", what, res.LoaderError)
		}
	}
	res := run(t, Options{Root: root, File: bin, Mode: ModeLoader})
	check(res, "")
	if noCache {
		cache := filepath.Join(root, "etc/ld.so.cache")
		if err := os.Rename(cache, cache+".away"); err != nil {
			t.Fatal(err)
		}
		nc := run(t, Options{Root: root, File: bin, Mode: ModeLoader})
		if err := os.Rename(cache+".away", cache); err != nil {
			t.Fatal(err)
		}
		check(nc, " without a cache")
		wantNote(t, nc, "has no /etc/ld.so.cache")
	}
	return res
}

func hasNote(res Result, s string) bool {
	for _, n := range res.Notes {
		if strings.Contains(n+"\n", s) {
			return true
		}
	}
	return false
}

func wantNote(t *testing.T, res Result, s string) {
	t.Helper()
	if !hasNote(res, s) {
		t.Errorf("no note says %q: %q", s, res.Notes)
	}
}

// placeCopies removes libz3.so.4 from every folder and puts the given
// files (folder: source) there.
func placeCopies(t *testing.T, root string, folders []string, copies map[string]string) {
	t.Helper()
	for _, d := range folders {
		if err := os.Remove(filepath.Join(root, d, "libz3.so.4")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for d, src := range copies {
		if err := copyFile(src, filepath.Join(root, d, "libz3.so.4"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rootLdconfig runs the root's own ldconfig in a chroot (-X: the root's
// links are left as they are). It writes a new cache file and renames it
// over the old one, so a hard-linked copy of a shared root stays apart.
func rootLdconfig(t *testing.T, root string) {
	t.Helper()
	chroot := testdeps.Tool(t, "chroot")
	if out, err := exec.Command(chroot, root, "/sbin/ldconfig", "-X").CombinedOutput(); err != nil {
		t.Fatalf("chroot %s /sbin/ldconfig: %v\n%s", root, err, out)
	}
}

// rootLoaderPick asks the root's own loader, in a chroot, which file it
// opens for libz3.so.4 (`ld.so --list`, which maps every library without
// running the program): "" when it finds none.
func rootLoaderPick(t *testing.T, root, bin string) string {
	t.Helper()
	chroot := testdeps.Tool(t, "chroot")
	inRoot := filepath.Join(root, "tmp", "relpack-cacheorder-bin")
	if err := copyFile(bin, inRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(inRoot)
	out, _ := exec.Command(chroot, root, "/lib64/ld-linux-x86-64.so.2", "--list", "/tmp/relpack-cacheorder-bin").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), " => ")
		if !ok || name != "libz3.so.4" {
			continue
		}
		if strings.HasPrefix(rest, "not found") {
			return ""
		}
		p, _, _ := strings.Cut(rest, " (0x")
		return p
	}
	if strings.Contains(string(out), "libz3.so.4: cannot open shared object file") {
		return ""
	}
	t.Fatalf("the root's loader --list names no libz3.so.4:\n%s", out)
	return ""
}

// el8LikeRoot lays bullseye's glibc, libstdc++ and libgcc out as EL8 does
// (see TestCacheOrderAgreesWithLoader).
func el8LikeRoot(t *testing.T, s string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "el8")
	for _, d := range []string{"usr/lib64", "usr/lib", "etc/ld.so.conf.d", "tmp", "opt/z3/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"usr/lib64", "lib64"}, {"usr/lib", "lib"}} {
		if err := os.Symlink(l[0], filepath.Join(root, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{
		"lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libm.so.6",
		"lib/x86_64-linux-gnu/libpthread.so.0", "lib/x86_64-linux-gnu/libgcc_s.so.1", "usr/lib/x86_64-linux-gnu/libstdc++.so.6",
	} {
		src, err := filepath.EvalSymlinks(filepath.Join(s, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := copyFile(src, filepath.Join(root, "usr/lib64", filepath.Base(f)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeRootFile(t, root, "etc/ld.so.conf", "include ld.so.conf.d/*.conf\n/lib\n/lib64\n")
	writeRootFile(t, root, "etc/ld.so.conf.d/z3.conf", "/opt/z3/lib\n")
	return root
}
