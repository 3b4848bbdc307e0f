package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"relpack/internal/testdeps"
)

// controlEntries reads a control.tar.gz member: each entry's name, its
// header fields but size, and its content.
func controlEntries(t *testing.T, member []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(member))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	m := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		m[h.Name] = string(b)
		m[h.Name+" header"] = fmt.Sprintf("%o %s %s %s %c %s", h.Mode, h.ModTime.UTC(), h.Uname, h.Gname, h.Typeflag, h.Format)
	}
	return m
}

// controlField is the value of a one-line field of a control file.
func controlField(control, name string) string {
	for _, l := range strings.Split(control, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}

// dpkgInstalledSize is the oracle: the real dpkg-gencontrol computing
// Installed-Size of the deb's files, extracted by dpkg-deb -x into
// debian/tmp of a minimal source tree (dpkg-gencontrol -Pdebian/tmp).
func dpkgInstalledSize(t *testing.T, deb string) string {
	t.Helper()
	testdeps.Tools(t, "dpkg-deb", "dpkg-gencontrol")
	src := t.TempDir()
	tmp := filepath.Join(src, "debian", "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "dpkg-deb", "-x", deb, tmp)
	pkg := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", deb, "Package"))
	control := "Source: " + pkg + "\nMaintainer: Relpack Tests <t@example.com>\n\nPackage: " + pkg + "\nArchitecture: any\nDescription: test\n test\n"
	changelog := pkg + " (1.0-1) unstable; urgency=medium\n\n  * Test.\n\n -- Relpack Tests <t@example.com>  Thu, 01 Jan 2026 00:00:00 +0000\n"
	if err := os.WriteFile(filepath.Join(src, "debian", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "debian", "changelog"), []byte(changelog), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dpkg-gencontrol", "-O", "-Pdebian/tmp")
	cmd.Dir = src
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-gencontrol: %v\n%s", err, stderr.String())
	}
	v := controlField(string(out), "Installed-Size")
	if v == "" {
		t.Fatalf("dpkg-gencontrol wrote no Installed-Size:\n%s", out)
	}
	return v
}

// TestInstalledSizeAsDpkg: the Installed-Size relpack's deb writer puts
// in the control file is the one the real dpkg-gencontrol computes for the
// package's files (each file and symbolic link rounded up to a KiB, one
// per directory, the top directory included), for the fixture package
// with maintainer scripts and for file sets around the rounding.
func TestInstalledSizeAsDpkg(t *testing.T) {
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	sized := func(dst string, n int) PackageFile {
		return PackageFile{Data: bytes.Repeat([]byte{'x'}, n), Dst: dst, Mode: 0o644}
	}
	cases := []struct {
		name  string
		files []PackageFile
		want  string // counted by hand from the rule, "" for the fixture
	}{
		{"fixture", nil, ""},
		// Every deb also holds usr/share/doc/relpack-hello/changelog.Debian.gz
		// (under 1 KiB): with ./ usr usr/share usr/share/doc
		// usr/share/doc/relpack-hello, 6 KiB before the files.
		{"empty files", []PackageFile{sized("/usr/share/a", 0), sized("/usr/share/b", 0)}, "6"},
		{"1024 bytes", []PackageFile{sized("/usr/share/a", 1024)}, "7"},
		{"1025 bytes", []PackageFile{sized("/usr/share/a", 1025)}, "8"},
		{"one byte", []PackageFile{sized("/usr/share/a", 1)}, "7"},
		// 6 + opt opt/a opt/a/b opt/a/b/c opt/x + 1+2+3 KiB
		{"nested", []PackageFile{sized("/opt/a/b/c/f", 1), sized("/opt/a/b/g", 2048), sized("/opt/x/h", 2049)}, "17"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := fixtureSpec("deb", in)
			spec.Compression = "gzip"
			if c.files != nil {
				spec.Files = c.files
			} else {
				spec.Scripts = Scripts{PostInstall: "#!/bin/sh\nset -e\n", PostRemove: "#!/bin/sh\nexit 0\n"}
			}
			deb, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", deb, "Installed-Size"))
			if want := dpkgInstalledSize(t, deb); got != want {
				t.Errorf("Installed-Size %s, dpkg-gencontrol's %s", got, want)
			}
			if c.want != "" && got != c.want {
				t.Errorf("Installed-Size %s, %s by the rule", got, c.want)
			}
		})
	}
}

// TestInstalledSizeSymlinkAndDirs: a symbolic link counts its target's
// length rounded up to a KiB and an explicit directory one, as
// dpkg-gencontrol counts them (relpack's PackageSpec writes neither, the
// deb writer does).
func TestInstalledSizeSymlinkAndDirs(t *testing.T) {
	target := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(target, bytes.Repeat([]byte{'y'}, 3000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, link string
		want       string
	}{
		// ./ usr usr/bin usr/lib usr/lib/empty: 5; the file 3; the link 1
		{"short target", "../lib/f", "9"},
		// a target of 1025 bytes counts 2
		{"long target", strings.Repeat("a/", 512) + "b", "10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			info := nfpm.WithDefaults(&nfpm.Info{
				Name: "relpack-links", Arch: "amd64", Version: "1.0", Release: "1",
				Maintainer: "Relpack Tests <t@example.com>", Description: "links",
				MTime: fixtureMTime,
				Overridables: nfpm.Overridables{Contents: files.Contents{
					{Source: target, Destination: "/usr/lib/f", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
					{Source: c.link, Destination: "/usr/bin/link", Type: files.TypeSymlink},
					{Destination: "/usr/lib/empty", Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o755}},
				}},
			})
			deb := filepath.Join(t.TempDir(), "links.deb")
			f, err := os.Create(deb)
			if err != nil {
				t.Fatal(err)
			}
			w := debWriter{tempDir: t.TempDir()}
			if err := w.Package(info, f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			listing := run(t, nil, "dpkg-deb", "-c", deb)
			if !strings.Contains(listing, "./usr/bin/link -> "+c.link) || !strings.Contains(listing, "./usr/lib/empty/") {
				t.Fatalf("the deb lacks the link or the directory:\n%s", listing)
			}
			got := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", deb, "Installed-Size"))
			if want := dpkgInstalledSize(t, deb); got != want {
				t.Errorf("Installed-Size %s, dpkg-gencontrol's %s", got, want)
			}
			if got != c.want {
				t.Errorf("Installed-Size %s, %s by the rule", got, c.want)
			}
		})
	}
}
