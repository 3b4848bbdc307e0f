package regular

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5, "a test file"); err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(p, 4, "a test file"); !errors.As(err, &tl) || tl.Limit != 4 || tl.Size != 5 {
		t.Fatalf("over the limit: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var nr *NotRegularError
	if _, err := ReadFile(fifo, 100, "a test file"); !errors.As(err, &nr) {
		t.Fatalf("fifo: %v", err)
	}
	if _, err := ReadFile("/dev/zero", 100, "a test file"); !errors.As(err, &nr) {
		t.Fatalf("/dev/zero: %v", err)
	}
}
