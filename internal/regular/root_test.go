package regular

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFileIn(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("hello"), 0o644)
	os.Symlink("f", filepath.Join(dir, "inside"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero"))
	os.Symlink("../../../../etc/passwd", filepath.Join(dir, "escape"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := ReadFileIn(r, "f", 5, "a test file"); err != nil || string(b) != "hello" {
		t.Fatalf("ReadFileIn = %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFileIn(r, "f", 4, "a test file"); !errors.As(err, &tl) || tl.Path != filepath.Join(dir, "f") {
		t.Errorf("over the limit: %v", err)
	}
	for _, name := range []string{"inside", "zero", "escape", "fifo", "."} {
		var nr *NotRegularError
		if _, err := ReadFileIn(r, name, 100, "a test file"); !errors.As(err, &nr) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadFileIn(r, "../x", 100, "a test file"); err == nil {
		t.Error("a path out of the root was read")
	}
}
