package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/clitest"
	"relpack/pkg/sign/signtest"
)

// An existing repository tree is hostile input (issue 18, section 2): these
// tests give relpack repo trees with symbolic links, named pipes and
// records that do not match, and check that it refuses them before
// writing, and that nothing outside the folder it was given changes.

const treeURL = "https://packages.example.org/openshell"

// demoVersion builds the demo release at version with the CLI.
func demoVersion(t *testing.T, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dist-"+version)
	if _, stderr, code := cli(t, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", version, "--out", dir); code != 0 {
		t.Fatalf("relpack build %s: exit %d\n%s", version, code, stderr)
	}
	return dir
}

// copyTreeInto copies a repository tree (folders and regular files).
func copyTreeInto(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// moveOut moves the tree's path rel into victim (a folder outside the
// tree) and puts a symbolic link to it in its place: the tree still looks
// whole through the link.
func moveOut(t *testing.T, tree, rel, victim string) {
	t.Helper()
	p := filepath.Join(tree, rel)
	to := filepath.Join(victim, filepath.Base(rel))
	if err := os.Rename(p, to); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(to, p); err != nil {
		t.Fatal(err)
	}
}

// firstByHash is a by-hash/SHA256 file of the bookworm amd64 index.
func firstByHash(t *testing.T, tree string) string {
	t.Helper()
	dir := "deb/dists/bookworm/main/binary-amd64/by-hash/SHA256"
	ents, err := os.ReadDir(filepath.Join(tree, dir))
	if err != nil || len(ents) == 0 {
		t.Fatalf("no by-hash file in %s: %v", dir, err)
	}
	return dir + "/" + ents[0].Name()
}

// TestRepoTreeSymlinkRefused: a symbolic link anywhere in an existing tree
// (a pool folder, deb/, rpm/, a by-hash file, repodata/, dists/SUITE)
// is refused, naming it, before anything is written; the folder it
// points to is left exactly as it was (nothing written, nothing removed).
func TestRepoTreeSymlinkRefused(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	v1, v2 := demoVersion(t, "0.1.0"), demoVersion(t, "0.2.0")
	base := filepath.Join(t.TempDir(), "base")
	if _, stderr, code := cli(t, "repo", v1, "--out", base, "--url", treeURL, "--allow-unsigned-release", "-c", cfg); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	for _, c := range []struct{ name, rel string }{
		{"pool folder", "deb/pool/main/o/openshell-gateway"},
		{"deb folder", "deb"},
		{"rpm folder", "rpm"},
		{"rpm Packages folder", "rpm/el8/x86_64/Packages"},
		{"by-hash file", ""},
		{"repodata folder", "rpm/el8/x86_64/repodata"},
		{"dists/SUITE", "deb/dists/bookworm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "repo")
			copyTreeInto(t, base, out)
			victim := t.TempDir()
			rel := c.rel
			if rel == "" {
				rel = firstByHash(t, out)
			}
			moveOut(t, out, rel, victim)
			before, treeBefore := stateOfTree(t, victim), stateOfTree(t, out)
			_, stderr, code := clitest.RunWithin(t, 2*time.Minute, "repo", v2, "--out", out, "--url", treeURL, "--allow-unsigned-release", "-c", cfg)
			if code != 1 || !strings.Contains(stderr, filepath.Join(out, rel)+" is a symbolic link") {
				t.Errorf("exit %d, want 1 naming %s as a symbolic link:\n%s", code, filepath.Join(out, rel), stderr)
			}
			sameTree(t, "the folder the link points to", victim, before)
			sameTree(t, "the tree", out, treeBefore)
		})
	}
}

// TestRepoTreeSpecialFilesRefused: a named pipe where relpack reads an
// index or its record, or a by-hash file that is a link to /dev/zero, is
// refused at once, naming it; nothing hangs or grows.
func TestRepoTreeSpecialFilesRefused(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	v1, v2 := demoVersion(t, "0.1.0"), demoVersion(t, "0.2.0")
	base := filepath.Join(t.TempDir(), "base")
	if _, stderr, code := cli(t, "repo", v1, "--out", base, "--url", treeURL, "--allow-unsigned-release", "-c", cfg); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	for _, c := range []struct {
		rel  string
		fifo bool
		want string
	}{
		{"deb/dists/bookworm/Release", true, "is a named pipe"},
		{"deb/dists/bookworm/InRelease", true, "is a named pipe"},
		{"rpm/el8/x86_64/repodata/repomd.xml", true, "is a named pipe"},
		{"relpack-repo.json", true, "is a named pipe"},
		{"", false, "is a symbolic link"}, // a by-hash file -> /dev/zero
	} {
		t.Run(c.rel, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "repo")
			copyTreeInto(t, base, out)
			rel := c.rel
			if rel == "" {
				rel = firstByHash(t, out)
			}
			p := filepath.Join(out, rel)
			os.Remove(p)
			if c.fifo {
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
			parent := filepath.Dir(out)
			before := stateOfTree(t, parent)
			for _, v := range []string{v1, v2} {
				_, stderr, code := clitest.RunWithin(t, time.Minute, "repo", v, "--out", out, "--url", treeURL, "--allow-unsigned-release", "-c", cfg)
				if code != 1 || !strings.Contains(stderr, p+" "+c.want) {
					t.Errorf("exit %d, want 1 and %q:\n%s", code, p+" "+c.want, stderr)
				}
			}
			sameTree(t, "the tree's parent", parent, before)
		})
	}
}

// TestRepoRefusedRunLeavesNoOut: a run refused for its releases or its
// options does not create --out (nor its missing parents) and leaves no
// lock file behind.
func TestRepoRefusedRunLeavesNoOut(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	dist := demoVersion(t, "0.1.0")
	parent := t.TempDir()
	out := filepath.Join(parent, "new", "repo")
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	before := stateOfTree(t, parent)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"repo", t.TempDir(), "--out", out}, "holds no manifest.json"},
		{[]string{"repo", dist, "--out", out, "--suite", "fedora40=f40"}, "no release given or published has deb packages for target fedora40"},
		{[]string{"repo", dist, "--out", empty, "--suite", "fedora40=f40"}, "no release given or published has deb packages for target fedora40"},
	} {
		_, stderr, code := cli(t, append(c.args, "--url", treeURL, "--allow-unsigned-release", "-c", cfg)...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 1 and %q:\n%s", c.args, code, c.want, stderr)
		}
		sameTree(t, strings.Join(c.args, " "), parent, before)
	}
}

// TestRepoModesIgnoreUmask: under umask 077 the tree is still served:
// every folder 0755, every file 0644, --out and the parents it made too.
func TestRepoModesIgnoreUmask(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	v1, v2 := demoVersion(t, "0.1.0"), demoVersion(t, "0.2.0")
	parent := t.TempDir()
	out := filepath.Join(parent, "new", "repo")
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, v := range []string{v1, v2} {
		if _, stderr, code := cli(t, "repo", v, "--out", out, "--url", treeURL, "--allow-unsigned-release", "-c", cfg); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
	}
	n := 0
	for p, v := range stateOfTree(t, filepath.Join(parent, "new")) {
		n++
		mode, want := strings.Fields(v)[0], "-rw-r--r--"
		if strings.HasPrefix(mode, "d") {
			want = "drwxr-xr-x"
		}
		if mode != want {
			t.Errorf("%s has mode %s, want %s whatever the umask", p, mode, want)
		}
	}
	if n < 50 {
		t.Errorf("only %d paths in the tree", n)
	}
}

// TestRepoRecordMustMatchIndexes: a record that is not the one the
// indexes were written from (copied from another tree, or the indexes
// edited by hand) is refused before anything is added, naming the file
// that differs; the tree is left as it was. (A record copied from a tree
// with 0.1.0 into one with 0.1.0 and 0.2.0 is accepted when adding 0.2.0:
// the indexes are then exactly what the run writes, as after a run killed
// before its record was written.)
func TestRepoRecordMustMatchIndexes(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	cfg := repoConfig(t, key.SecretFile)
	v1, v2 := demoVersion(t, "0.1.0"), demoVersion(t, "0.2.0")
	a := filepath.Join(t.TempDir(), "a") // 0.1.0
	b := filepath.Join(t.TempDir(), "b") // 0.1.0 and 0.2.0
	for _, run := range []struct{ dist, out string }{{v1, a}, {v1, b}, {v2, b}} {
		if _, stderr, code := cli(t, "repo", run.dist, "--out", run.out, "--url", treeURL, "--allow-unsigned-release", "-c", cfg); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
	}
	for _, c := range []struct {
		name string
		edit func(t *testing.T, out string)
		want string
	}{
		{"record from another tree", func(t *testing.T, out string) {
			rec, _ := os.ReadFile(filepath.Join(a, "relpack-repo.json"))
			os.WriteFile(filepath.Join(out, "relpack-repo.json"), rec, 0o644)
		}, "deb/dists/bookworm/Release lists other indexes"},
		{"Packages edited", func(t *testing.T, out string) {
			p := filepath.Join(out, "deb/dists/bookworm/main/binary-amd64/Packages")
			pk, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.ReplaceAll(pk, []byte("Version: 0.2.0"), []byte("Version: 0.2.1")), 0o644)
		}, "deb/dists/bookworm/main/binary-amd64/Packages differs"},
		{"repomd.xml edited", func(t *testing.T, out string) {
			p := filepath.Join(out, "rpm/el8/x86_64/repodata/repomd.xml")
			x, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(x, []byte("<revision>"), []byte("<revision>1"), 1), 0o644)
		}, "rpm/el8/x86_64/repodata/repomd.xml lists other data"},
		{"InRelease from another tree", func(t *testing.T, out string) {
			ir, _ := os.ReadFile(filepath.Join(a, "deb/dists/bookworm/InRelease"))
			os.WriteFile(filepath.Join(out, "deb/dists/bookworm/InRelease"), ir, 0o644)
		}, "deb/dists/bookworm/InRelease does not sign the text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "repo")
			copyTreeInto(t, b, out)
			c.edit(t, out)
			before := stateOfTree(t, out)
			vs := []string{v1, v2}
			if c.name == "record from another tree" {
				vs = vs[:1]
			}
			for _, v := range vs {
				_, stderr, code := cli(t, "repo", v, "--out", out, "--url", treeURL, "--allow-unsigned-release", "-c", cfg)
				if code != 1 || !strings.Contains(stderr, filepath.Join(out, c.want)) || !strings.Contains(stderr, "relpack-repo.json does not match the tree's indexes") || !strings.Contains(stderr, "Restore the tree") {
					t.Errorf("exit %d, want 1 naming %s:\n%s", code, c.want, stderr)
				}
			}
			sameTree(t, "the tree", out, before)
		})
	}
	// The trees as written pass, and a rerun is a no-op.
	if _, stderr, code := cli(t, "repo", v1, v2, "--out", b, "--url", treeURL, "--allow-unsigned-release", "-c", cfg); code != 0 {
		t.Fatalf("a tree as relpack wrote it: exit %d\n%s", code, stderr)
	}
}
