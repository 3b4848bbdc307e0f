package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

func writeFixtureTarball(t *testing.T) (path, in string) {
	t.Helper()
	in = t.TempDir()
	if err := writeFixtureInputs(in, "/bin/sh"); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "relpack-hello-x86_64-unknown-linux-gnu.tar.gz")
	if err := WriteTarGz(path, fixtureTarEntries(in), fixtureMTime); err != nil {
		t.Fatal(err)
	}
	return path, in
}

// TestTarGzGNUTar holds the tarball to GNU tar: listing (owner, mode,
// mtime, order, explicit parents) and extraction (content, modes).
func TestTarGzGNUTar(t *testing.T) {
	testdeps.Tool(t, "tar")
	path, in := writeFixtureTarball(t)
	long := "share/doc/" + strings.Repeat("long-name-", 12) + ".txt"

	// TZ=UTC: tar prints mtimes in local time.
	list := run(t, []string{"TZ=UTC"}, "tar", "-tvzf", path)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Fatalf("unexpected tar -tv line %q", line)
		}
		// mode owner size date time name
		got = append(got, strings.Join([]string{f[0], f[1], f[3], f[4], f[5]}, " "))
	}
	want := []string{
		"-rw-r--r-- root/root 2026-01-01 00:00 README.md",
		"drwxr-xr-x root/root 2026-01-01 00:00 lib/",
		"-rw-r--r-- root/root 2026-01-01 00:00 lib/libz3.so.4",
		"-rwxr-xr-x root/root 2026-01-01 00:00 relpack-hello",
		"drwxr-xr-x root/root 2026-01-01 00:00 share/",
		"drwxr-xr-x root/root 2026-01-01 00:00 share/doc/",
		"-rw-r--r-- root/root 2026-01-01 00:00 share/doc/NOTICE",
		"-rw------- root/root 2026-01-01 00:00 " + long,
		"drwxr-x--- root/root 2026-01-01 00:00 share/empty/",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tar -tvzf:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	numeric := run(t, []string{"TZ=UTC"}, "tar", "--numeric-owner", "-tvzf", path)
	for _, line := range strings.Split(strings.TrimSpace(numeric), "\n") {
		if f := strings.Fields(line); f[1] != "0/0" {
			t.Errorf("uid/gid of %s is %s, want 0/0", f[5], f[1])
		}
	}

	x := t.TempDir()
	run(t, nil, "tar", "-xzf", path, "-C", x, "--same-permissions")
	for _, c := range []struct {
		name, src string
		data      string
		mode      os.FileMode
	}{
		{name: "relpack-hello", src: filepath.Join(in, "hello"), mode: 0o755},
		{name: "README.md", src: filepath.Join(in, "README.md"), mode: 0o644},
		{name: "lib/libz3.so.4", src: filepath.Join(in, "libstub.so"), mode: 0o644},
		{name: "share/doc/NOTICE", data: "inline notice\n", mode: 0o644},
		{name: long, data: "a name longer than ustar's 100 bytes\n", mode: 0o600},
	} {
		gotData, err := os.ReadFile(filepath.Join(x, c.name))
		if err != nil {
			t.Fatalf("extracted %s: %v", c.name, err)
		}
		wantData := []byte(c.data)
		if c.src != "" {
			if wantData, err = os.ReadFile(c.src); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(gotData, wantData) {
			t.Errorf("extracted %s differs from its source", c.name)
		}
		st, _ := os.Stat(filepath.Join(x, c.name))
		if st.Mode().Perm() != c.mode {
			t.Errorf("extracted %s has mode %v, want %v", c.name, st.Mode().Perm(), c.mode)
		}
		if !st.ModTime().Equal(fixtureMTime) {
			t.Errorf("extracted %s has mtime %v, want %v", c.name, st.ModTime().UTC(), fixtureMTime.UTC())
		}
	}
	if st, err := os.Stat(filepath.Join(x, "share/empty")); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
		t.Errorf("share/empty: want a 0750 directory, got %v %v", st, err)
	}
}

// TestTarGzHeaders checks what GNU tar does not show: the gzip header and
// the tar header fields and format.
func TestTarGzHeaders(t *testing.T) {
	path, _ := writeFixtureTarball(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS
	if raw[0] != 0x1f || raw[1] != 0x8b || raw[2] != 8 {
		t.Fatalf("not a deflate gzip stream: % x", raw[:3])
	}
	if raw[3] != 0 {
		t.Errorf("gzip FLG = %#x, want 0 (no name, comment or extra field)", raw[3])
	}
	if !bytes.Equal(raw[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip MTIME = % x, want zero (not set)", raw[4:8])
	}
	if raw[8] != 0 {
		t.Errorf("gzip XFL = %d, want 0 (level 7: neither fastest nor best)", raw[8])
	}
	if raw[9] != 255 {
		t.Errorf("gzip OS = %d, want 255 (unknown)", raw[9])
	}

	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s: owner %d:%d %s:%s, want 0:0 root:root", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(fixtureMTime) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: mtime %v atime %v ctime %v, want only mtime %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, fixtureMTime)
		}
		// Short names fit ustar; only the long one needs a pax record.
		if len(h.Name) <= 100 {
			if h.Format != tar.FormatUSTAR || len(h.PAXRecords) != 0 {
				t.Errorf("%s: format %v, pax records %v; want a plain ustar header", h.Name, h.Format, h.PAXRecords)
			}
		} else if h.Format != tar.FormatPAX || h.PAXRecords["path"] != h.Name {
			t.Errorf("%s: format %v, pax records %v; want the name in a pax record", h.Name, h.Format, h.PAXRecords)
		}
	}
	if n != 9 {
		t.Errorf("%d entries, want 9", n)
	}
	if _, err := zr.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("data after the tar stream: %v", err)
	}
}

func TestTarGzErrors(t *testing.T) {
	in := t.TempDir()
	src := filepath.Join(in, "f")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		entries []TarEntry
		mtime   time.Time
		want    string
	}{
		{"no mtime", []TarEntry{{Name: "a", Src: src, Mode: 0o644}}, time.Time{}, "SOURCE_DATE_EPOCH"},
		{"absolute", []TarEntry{{Name: "/a", Src: src, Mode: 0o644}}, fixtureMTime, "is absolute"},
		{"dotdot", []TarEntry{{Name: "../a", Src: src, Mode: 0o644}}, fixtureMTime, "outside the archive"},
		{"unclean", []TarEntry{{Name: "a//b", Src: src, Mode: 0o644}}, fixtureMTime, "not a clean path"},
		{"trailing slash", []TarEntry{{Name: "a/", IsDir: true, Mode: 0o755}}, fixtureMTime, "not a clean path"},
		{"no mode", []TarEntry{{Name: "a", Src: src}}, fixtureMTime, "no mode given"},
		{"type bits", []TarEntry{{Name: "a", Src: src, Mode: 0o755 | os.ModeSetuid}}, fixtureMTime, "more than permission bits"},
		{"duplicate", []TarEntry{{Name: "a", Src: src, Mode: 0o644}, {Name: "a", Data: []byte{}, Mode: 0o644}}, fixtureMTime, "listed twice"},
		{"file as parent", []TarEntry{{Name: "a", Src: src, Mode: 0o644}, {Name: "a/b", Src: src, Mode: 0o644}}, fixtureMTime, "is a file, but a/b is inside it"},
		{"missing src", []TarEntry{{Name: "a", Src: filepath.Join(in, "nope"), Mode: 0o644}}, fixtureMTime, "no such file"},
		{"dir src", []TarEntry{{Name: "a", Src: in, Mode: 0o644}}, fixtureMTime, "not a regular file"},
		{"no content", []TarEntry{{Name: "a", Mode: 0o644}}, fixtureMTime, "no content"},
		{"both", []TarEntry{{Name: "a", Src: src, Data: []byte("x"), Mode: 0o644}}, fixtureMTime, "both Src and Data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			err := WriteTarGz(filepath.Join(out, "x.tar.gz"), c.entries, c.mtime)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
			if left := listFiles(t, out); len(left) != 0 {
				t.Errorf("files left in the output directory: %v", left)
			}
		})
	}
}

// TestTarGzSourceShrinks: a source that is shorter than planned must fail
// the write (archives would otherwise pad nothing and drop tar's error).
func TestTarGzSourceShrinks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, bytes.Repeat([]byte("x"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := planTar([]TarEntry{{Name: "f", Src: src, Mode: 0o644}}, fixtureMTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(src, 100); err != nil {
		t.Fatal(err)
	}
	f, err := items[0].fileInfo().Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("reading a shrunk source: got %v, want a 'shrank' error", err)
	}
	// The check after writing sees the change too.
	if err := checkUnchanged(items); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Fatalf("checkUnchanged: got %v", err)
	}
}
