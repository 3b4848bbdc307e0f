package smoke

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRootSpecialFiles: a root's ld.so.conf, or a file it includes, that
// is a FIFO or a link to /dev/zero is skipped at once (internal/regular),
// never blocking the run or reading forever; the regular ones are read.
func TestRootSpecialFiles(t *testing.T) {
	root := t.TempDir()
	conf := filepath.Join(root, "etc", "ld.so.conf.d")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "opt", "lib"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "ld.so.conf"), []byte("include /etc/ld.so.conf.d/*.conf\n"), 0o644)
	os.WriteFile(filepath.Join(conf, "a.conf"), []byte("/opt/lib\n"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(conf, "b.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(conf, "c.conf")); err != nil {
		t.Fatal(err)
	}
	done := make(chan []string, 1)
	go func() { done <- ldSoConfDirs(root) }()
	select {
	case dirs := <-done:
		if len(dirs) != 1 || dirs[0] != "opt/lib" {
			t.Errorf("dirs %v, want [opt/lib]", dirs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ldSoConfDirs blocked on a FIFO or read /dev/zero for 10 s")
	}
}
