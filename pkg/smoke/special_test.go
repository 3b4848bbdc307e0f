package smoke

import (
	"os"
	"path/filepath"
	"strings"
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

// TestRootCacheSpecialFiles: a root's /etc/ld.so.cache that is a FIFO, a
// link to /dev/zero or a link climbing out of the root is never read on
// this host, and never blocks: the loader would not read a FIFO or a
// device as a cache either, so loader mode searches the default folders,
// says so, and passes. One over 64 MiB is an error (exit 2) naming the file
// and the fix, through the CLI; nothing outside the root changes.
func TestRootCacheSpecialFiles(t *testing.T) {
	root := privateBullseye(t, "bullseye-cache-special")
	cache := filepath.Join(root, "etc", "ld.so.cache")
	outside := filepath.Join(filepath.Dir(root), "victim-cache")
	if err := os.WriteFile(outside, []byte("not a cache"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		make func() error
		note string
	}{
		{"fifo", func() error { return syscall.Mkfifo(cache, 0o644) }, "not a cache its loader reads"},
		{"dev-zero", func() error { return os.Symlink("/dev/zero", cache) }, "not a cache its loader reads"},
		{"climbing-link", func() error { return os.Symlink("../../../../../../victim-cache", cache) }, "has no /etc/ld.so.cache"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.Remove(cache); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if err := c.make(); err != nil {
				t.Fatal(err)
			}
			done := make(chan Result, 1)
			go func() { done <- run(t, Options{Root: root, File: fx + "x86_64/hello-2.28", Mode: ModeLoader}) }()
			select {
			case res := <-done:
				wantPass(t, res, "")
				wantNote(t, res, c.note)
			case <-time.After(60 * time.Second):
				t.Fatal("loader mode blocked on the root's ld.so.cache for 60 s")
			}
		})
	}

	os.Remove(cache)
	f, err := os.Create(cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxLdCache + 1); err != nil { // sparse: no disk
		t.Fatal(err)
	}
	f.Close()
	out, errOut, code := relpack(t, "smoke", "--root", root, "--mode", "loader", fx+"x86_64/hello-2.28")
	if code != 2 || out != "" || !strings.Contains(errOut, cache+": is larger than 64 MiB") || !strings.Contains(errOut, "use --mode chroot") {
		t.Errorf("a 64 MiB + 1 cache: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "not a cache" {
		t.Errorf("the file outside the root changed: %q, %v", b, err)
	}
}
