package release

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
	c.Targets = append(c.Targets, loadDemo(t).Targets[0]) // el8: an rpm too
	c.Files = append(c.Files,
		config.File{Src: c.LicenseFile, Dst: "/usr/libexec/openshell/helper", Mode: "4755"},
		config.File{Src: c.LicenseFile, Dst: "/usr/libexec/openshell/group-helper", Mode: "2755"},
		config.File{Src: c.LicenseFile, Dst: "/usr/share/openshell/shared", Mode: "0666"})
	var warn bytes.Buffer
	out := t.TempDir()
	m, err := Run(Options{Config: c, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/usr/libexec/openshell/helper) has mode 4755: setuid", "group-helper) has mode 2755: setgid",
		"/usr/share/openshell/shared) has mode 0666: world-writable"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings lack %q:\n%s", want, warn.String())
		}
	}
	// Warned about, and shipped exactly as configured, owned by root.
	for _, a := range m.Artifacts {
		var listing string
		switch a.Kind {
		case "deb":
			listing = sh(t, "", "dpkg-deb", "-c", filepath.Join(out, a.File))
		case "rpm":
			listing = sh(t, "", "rpm", "-qplv", filepath.Join(out, a.File))
		default:
			continue
		}
		for _, want := range []string{"-rwsr-xr-x", "-rwxr-sr-x", "-rw-rw-rw-"} {
			if !strings.Contains(listing, want) {
				t.Errorf("%s: no %s entry:\n%s", a.File, want, listing)
			}
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
