package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/config"
)

func TestSymlinkEscapingTheConfigFolderIsRefused(t *testing.T) {
	c := loadDemo(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "README.md")
	if err := os.Symlink("/etc/passwd", link); err != nil {
		t.Fatal(err)
	}
	c.Dir = dir // the link sits inside the configuration's folder
	c.Files = append(c.Files, config.File{Src: link, Dst: "/usr/share/doc/openshell-gateway/NOTES", Mode: "0644"})
	out := filepath.Join(t.TempDir(), "dist")
	_, err := Run(Options{Config: c, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch})
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link to /etc/passwd, outside "+dir) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("files left: %v", entries)
	}
	// A link that stays inside its folder is fine.
	inside := filepath.Join(dir, "NOTES")
	os.WriteFile(filepath.Join(dir, "real-notes"), []byte("notes\n"), 0o644)
	os.Symlink("real-notes", inside)
	c.Files[len(c.Files)-1].Src = inside
	if _, err := Run(Options{Config: c, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch}); err != nil {
		t.Errorf("a link inside the folder was refused: %v", err)
	}
}

func TestModeWarnings(t *testing.T) {
	c := loadDemo(t)
	c.Targets = c.Targets[len(c.Targets)-1:]
	c.Files = append(c.Files,
		config.File{Src: c.LicenseFile, Dst: "/usr/share/openshell/shared", Mode: "0666"})
	var warn bytes.Buffer
	if _, err := Run(Options{Config: c, Version: "1.0.0", OutDir: t.TempDir(), Epoch: DefaultEpoch, Warn: &warn}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/usr/share/openshell/shared) has mode 0666: world-writable"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings lack %q:\n%s", want, warn.String())
		}
	}
}

func TestOverwriteNeedsClean(t *testing.T) {
	c := loadDemo(t)
	c.Targets = c.Targets[len(c.Targets)-1:] // one target keeps this quick
	out := t.TempDir()
	if _, err := Run(Options{Config: c, Version: "0.1.0", OutDir: out, Epoch: DefaultEpoch}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	_, err := Run(Options{Config: c, Version: "0.2.0", OutDir: out, Epoch: DefaultEpoch})
	if err == nil || !strings.Contains(err.Error(), "holds artifacts of an earlier build") || !strings.Contains(err.Error(), "pass --clean") {
		t.Fatalf("second build without --clean: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS")); !bytes.Equal(before, after) {
		t.Error("a refused build changed the earlier artifacts")
	}
	if _, err := Run(Options{Config: c, Version: "0.2.0", OutDir: out, Epoch: DefaultEpoch, Clean: true}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), "0.1.0") {
			t.Errorf("stale artifact of the earlier build left: %s", e.Name())
		}
	}
	if len(filesIn(t, out, "*0.2.0*")) == 0 {
		t.Error("no 0.2.0 packages written")
	}
}
