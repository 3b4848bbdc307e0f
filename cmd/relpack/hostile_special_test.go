package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"relpack/internal/clitest"
)

// specialInputs makes, in dir, a FIFO, a symbolic link to /dev/zero,
// and returns them with /dev/zero itself: the three kinds of input that
// block or never end.
func specialInputs(t *testing.T, dir, stem string) map[string]string {
	t.Helper()
	fifo := filepath.Join(dir, stem+".fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, stem+".zero")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		fifo:        "is a named pipe, not a regular file",
		link:        "is a device, not a regular file",
		"/dev/zero": "is a device, not a regular file",
	}
}

// Issue 18, section 3: every input of relpack docs, relpack distro
// capture and relpack smoke that is a FIFO, /dev/zero or a link to it is
// refused within seconds, exit 2, with a message naming the file, and
// nothing in the folder changes (no output file, no output folder).
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	man, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "manifest.json")
	os.WriteFile(good, man, 0o644)
	installMD := filepath.Join(dir, "INSTALL.md")
	os.WriteFile(installMD, []byte("untouched\n"), 0o644)
	outMD := filepath.Join(dir, "out", "INSTALL.md")
	root := filepath.Join(dir, "root")
	os.Mkdir(root, 0o755)

	type run struct {
		args []string
		file string // the file the message names
		want string
	}
	var runs []run
	for p, want := range specialInputs(t, dir, "manifest") {
		runs = append(runs,
			run{[]string{"docs", "--manifest", p}, p, want},
			run{[]string{"docs", "--manifest", p, "--installer", "-o", installMD}, p, want})
	}
	for p, want := range specialInputs(t, dir, "template") {
		runs = append(runs, run{[]string{"docs", "--manifest", good, "--template", p, "-o", installMD}, p, want})
	}
	for p, want := range specialInputs(t, dir, "check") {
		runs = append(runs, run{[]string{"docs", "--manifest", good, "--check", p}, p, want})
	}
	for p, want := range specialInputs(t, dir, "pkg") {
		runs = append(runs, run{[]string{"distro", "capture", "-o", filepath.Join(dir, "facts"), p}, p, want})
	}
	for p, want := range specialInputs(t, dir, "bin") {
		runs = append(runs, run{[]string{"smoke", "--root", root, p}, p, want})
	}
	// --repo REPO reads REPO/relpack-repo.json.
	for i, target := range []string{"", "/dev/zero"} {
		repo := filepath.Join(dir, fmt.Sprintf("repo%d", i))
		os.Mkdir(repo, 0o755)
		rec := filepath.Join(repo, "relpack-repo.json")
		// A link is refused as a link: the tree is read beneath its root
		// without following any (internal/rootfs), so /dev/zero is never
		// opened.
		want := "is a symbolic link, not a regular file"
		if target == "" {
			if err := syscall.Mkfifo(rec, 0o644); err != nil {
				t.Fatal(err)
			}
			want = "is a named pipe, not a regular file"
		} else if err := os.Symlink(target, rec); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run{[]string{"docs", "--repo", repo, "-o", outMD}, rec, want})
	}

	before := stateOfTree(t, dir)
	for _, r := range runs {
		name := strings.Join(r.args, " ")
		stdout, stderr, code := clitest.RunWithin(t, 20*time.Second, r.args...)
		if code != 2 {
			t.Errorf("relpack %s: exit %d, want 2\nstderr: %s", name, code, stderr)
		}
		// "FILE is a named pipe, ..." or (smoke) "FILE: is a named pipe, ...".
		if !strings.Contains(stderr, r.file+" "+r.want) && !strings.Contains(stderr, r.file+": "+r.want) {
			t.Errorf("relpack %s: stderr lacks %q:\n%s", name, r.file+" "+r.want, stderr)
		}
		if stdout != "" {
			t.Errorf("relpack %s printed %.200q", name, stdout)
		}
	}
	sameTree(t, "special inputs", dir, before)
}

// refusedRSS is the peak resident set, in KiB (as clitest.RunMeasured
// reports it), a relpack run refusing a small hostile package may reach:
// the Go runtime and the binary take about 10-20 MiB, the readers' bounds
// a few times the input's size; before issue 18 these runs took 1.7 to
// 2.6 GB or crashed.
const refusedRSS = 256 << 10

// Issue 18, section 3: a small deb that claims gigabytes (a 512 MiB ELF
// file of zeros in ~100 KB, a 64 MiB control file in ~14 KB; reading
// them took 2.2 and 2.6 GB before) is refused by relpack distro capture,
// exit 2, naming the package file, with nothing written, and the command
// holding under refusedRSS at its peak (pkg/capture's TestCaptureBounds
// holds the reader's allocations to its stated bound).
func TestDistroCaptureRefusesBombs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "facts")
	control := "Package: libbomb1\nVersion: 1.0-1\nArchitecture: amd64\n"
	bombs := map[string]string{
		"elf-bomb.deb":     "libbomb.so.1: 536870912 bytes, past what the package may decompress to",
		"control-bomb.deb": "its control file is 67108864 bytes, more than the 1048576 bytes capture reads",
	}
	for name := range bombs {
		var b []byte
		if name == "elf-bomb.deb" {
			b = zstdDeb(t, [][3]any{{"./control", control, int64(len(control))}}, [][3]any{{"./usr/lib/libbomb.so.1", "\x7fELF\x02\x01\x01", int64(512 << 20)}})
		} else {
			b = zstdDeb(t, [][3]any{{"./control", control, int64(64 << 20)}}, nil)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	before := stateOfTree(t, dir)
	for name, want := range bombs {
		p := filepath.Join(dir, name)
		_, stderr, code, rss := clitest.RunMeasured(t, 60*time.Second, "distro", "capture", "-o", out, p)
		if code != 2 || !strings.Contains(stderr, p+": ") || !strings.Contains(stderr, want) || !strings.Contains(stderr, "nothing was written") {
			t.Errorf("%s: exit %d, want 2 naming %s and %q:\n%s", name, code, p, want, stderr)
		}
		if rss > refusedRSS {
			t.Errorf("%s: peak RSS %d KiB, over the %d KiB a refused run may hold", name, rss, refusedRSS)
		}
		t.Logf("%s: peak RSS %d KiB", name, rss)
	}
	sameTree(t, "bombs", dir, before)
}

// zstdDeb is a .deb whose control.tar.zst and data.tar.zst hold files
// {name, head, size}: head, then zeros up to size.
func zstdDeb(t *testing.T, control, data [][3]any) []byte {
	tarZst := func(entries [][3]any) []byte {
		var b bytes.Buffer
		zw, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		tw := tar.NewWriter(zw)
		for _, e := range entries {
			head, size := e[1].(string), e[2].(int64)
			tw.WriteHeader(&tar.Header{Name: e[0].(string), Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
			io.WriteString(tw, head)
			if _, err := io.CopyN(tw, zeroReader{}, size-int64(len(head))); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.zst", tarZst(control)}, {"data.tar.zst", tarZst(data)}} {
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.name, "0", "0", "0", "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
