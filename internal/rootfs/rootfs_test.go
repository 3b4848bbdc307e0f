package rootfs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Writes stay beneath the root, folders and files get DirMode and
// FileMode under any umask, and Undo removes only what was written and is
// still the same file or folder.
func TestTree(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	outside := t.TempDir()
	tr, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	// A link out of the root is never followed, neither to write nor to
	// make folders.
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteFile("link/f", []byte("x")); err == nil {
		t.Error("a write through a link out of the root succeeded")
	}
	if err := tr.Sub("link").MkdirAll("a/b"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("MkdirAll through a link: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("written outside the root: %v", ents)
	}

	// Modes whatever the umask.
	if err := os.WriteFile(filepath.Join(dir, "old"), []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := tr.Sub("x/y")
	if err := sub.WriteFile("z/f", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteFile("old", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	if err := tr.CreateFile("old", func(w io.Writer) error { return nil }); err == nil {
		t.Error("CreateFile replaced a file")
	}
	for _, c := range []struct {
		p    string
		mode os.FileMode
	}{{"x", os.ModeDir | DirMode}, {"x/y/z", os.ModeDir | DirMode}, {"x/y/z/f", FileMode}, {"old", FileMode}} {
		st, err := os.Lstat(filepath.Join(dir, c.p))
		if err != nil || st.Mode() != c.mode {
			t.Errorf("%s: %v, %v; want %v", c.p, st.Mode(), err, c.mode)
		}
	}
	names := []string{}
	for _, e := range tr.Written() {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "x x/y x/y/z x/y/z/f old" {
		t.Errorf("written: %s", got)
	}

	// A file swapped after it was written is not removed, nor the folders
	// holding it; the replaced file is kept when asked.
	os.Remove(filepath.Join(dir, "x/y/z/f"))
	os.WriteFile(filepath.Join(dir, "x/y/z/f"), []byte("someone else's"), 0o644)
	left := tr.Undo(func(name string, replaced bool) bool { return replaced })
	if len(left) != 4 || !strings.HasSuffix(left[0], "x/y/z/f") {
		t.Errorf("left %v, want x/y/z/f and its folders", left)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "x/y/z/f")); string(b) != "someone else's" {
		t.Error("Undo removed a file it did not write")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old")); string(b) != "replaced" {
		t.Error("Undo removed a kept file")
	}

	// Otherwise everything written goes, files before their folders.
	if err := tr.WriteFile("n/m/f", []byte("f")); err != nil {
		t.Fatal(err)
	}
	if left := tr.Undo(func(name string, replaced bool) bool { return name == "old" }); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	if _, err := os.Lstat(filepath.Join(dir, "n")); !os.IsNotExist(err) {
		t.Errorf("n stays: %v", err)
	}
}
