package smoke

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"relpack/internal/memtest"
	"relpack/internal/testdeps"
)

// cacheRoot is a small root of library folders for ldconfig: the stub
// libz3 (soname libz3.so.4), libz3.so.4.8 and libdemo.so.1 in an
// ld.so.conf folder, this machine's real libz3.so.4 and libstdc++.so.6 in
// usr/lib, its libc in the multiarch folder: one soname in two folders,
// and sonames that only _dl_cache_libcmp orders right (4 before 4.8).
func cacheRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range [][2]string{
		{fx + "x86_64/libz3.so.4", "opt/a/libz3.so.4"},
		{fx + "x86_64/libz3.so.4.8", "opt/a/libz3.so.4.8"},
		{fx + "x86_64/libdemo.so", "opt/a/libdemo.so.1"},
		{"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "opt/a/libstdc++.so.6"},
		{"/usr/lib/x86_64-linux-gnu/libz3.so.4", "usr/lib/libz3.so.4"},
		{"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "usr/lib/libstdc++.so.6"},
		{"/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"},
	} {
		src, dst := f[0], f[1]
		if strings.HasPrefix(src, "/") {
			testdeps.File(t, src)
		}
		p := filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(src, p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeRootFile(t, root, "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
	writeRootFile(t, root, "etc/ld.so.conf.d/a.conf", "/opt/a/\n")
	return root
}

func writeRootFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ldconfigCache builds root's /etc/ld.so.cache with this machine's
// ldconfig in format (new, old or compat) and returns its host path.
func ldconfigCache(t *testing.T, root, format string) string {
	t.Helper()
	ldconfig := testdeps.Tool(t, "ldconfig")
	args := []string{"-X", "-r", root}
	if format != "" {
		args = append(args, "-c", format)
	}
	if out, err := exec.Command(ldconfig, args...).CombinedOutput(); err != nil {
		t.Fatalf("ldconfig %q: %v\n%s", args, err, out)
	}
	return filepath.Join(root, "etc/ld.so.cache")
}

type printedEntry struct{ key, flags, value string }

var printedLine = regexp.MustCompile(`^\t(\S+) \(([^)]*)\) => (.*)$`)

// ldconfigPrint is `ldconfig -p -C file`: the entries of the table the
// loader reads, in file order.
func ldconfigPrint(t *testing.T, file string) []printedEntry {
	t.Helper()
	ldconfig := testdeps.Tool(t, "ldconfig")
	out, err := exec.Command(ldconfig, "-p", "-C", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ldconfig -p -C %s: %v\n%s", file, err, out)
	}
	var es []printedEntry
	for _, line := range strings.Split(string(out), "\n") {
		if m := printedLine.FindStringSubmatch(line); m != nil {
			es = append(es, printedEntry{m[1], m[2], m[3]})
		}
	}
	if len(es) == 0 {
		t.Fatalf("ldconfig -p -C %s printed no entries:\n%s", file, out)
	}
	return es
}

// TestLdCacheAgainstLdconfig: relpack reads every entry of a cache as
// ldconfig -p prints it (same order, soname, flags, path), for each of the
// three formats ldconfig writes and for the cache bullseye's own ldconfig
// (glibc 2.31) wrote; and its lookup of each soname gives the first
// x86-64 entry of that name, the one the loader opens.
func TestLdCacheAgainstLdconfig(t *testing.T) {
	files := map[string]string{}
	for _, format := range []string{"new", "old", "compat"} {
		root := cacheRoot(t)
		files[format] = ldconfigCache(t, root, format)
	}
	files["bullseye"] = filepath.Join(bullseye(t), "etc/ld.so.cache")
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseLdCache(data)
			if err != nil {
				t.Fatalf("parseLdCache: %v", err)
			}
			if want := name != "old"; c.New != want {
				t.Errorf("New = %v, want %v", c.New, want)
			}
			printed := ldconfigPrint(t, file)
			if len(printed) != len(c.Entries) {
				t.Fatalf("%d entries, ldconfig -p prints %d", len(c.Entries), len(printed))
			}
			first := map[string]string{}
			for i, p := range printed {
				e := c.Entries[i]
				x8664 := strings.HasPrefix(p.flags, "libc6,x86-64")
				if e.Key != p.key || e.Value != p.value || !e.KeyOK || !e.ValueOK || (e.Flags == 0x0303) != x8664 {
					t.Errorf("entry %d: %q (%#x) => %q; ldconfig -p: %q (%s) => %q", i, e.Key, e.Flags, e.Value, p.key, p.flags, p.value)
				}
				if _, ok := first[p.key]; !ok && x8664 && !strings.Contains(p.flags, "hwcap") {
					first[p.key] = p.value
				}
			}
			for key, value := range first {
				if got := c.lookup(key, 0x0303, true); !got.Found || got.Path != value {
					t.Errorf("lookup(%q) = %+v, want %s", key, got, value)
				}
			}
			if got := c.lookup("libnothere.so.1", 0x0303, true); got.Found {
				t.Errorf("lookup(libnothere.so.1) = %+v", got)
			}
			if name != "bullseye" {
				if got := c.lookup("libz3.so.4", 0x0303, true); got.Path != "/opt/a/libz3.so.4" {
					t.Errorf("libz3.so.4 = %q, want the ld.so.conf folder's /opt/a/libz3.so.4 (ldconfig scans it before /usr/lib)", got.Path)
				}
				if got := c.lookup("libz3.so.4", 0x0a03, true); got.Found {
					t.Errorf("an aarch64 loader found %+v in an x86-64 cache", got)
				}
			}
		})
	}
}

// TestLdCacheHostile: a cache cut short, counting more entries than it
// holds, pointing outside its strings or marked big-endian is refused or
// read without a bad entry ever being used, and never panics.
func TestLdCacheHostile(t *testing.T) {
	for _, format := range []string{"new", "compat", "old"} {
		data, err := os.ReadFile(ldconfigCache(t, cacheRoot(t), format))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			if c, err := parseLdCache(data[:n]); err == nil {
				for _, e := range c.Entries {
					c.lookup(e.Key, 0x0303, true)
				}
			}
		}
		le := binary.LittleEndian
		mutate := func(f func(b []byte)) []byte {
			b := append([]byte(nil), data...)
			f(b)
			return b
		}
		newAt := 0
		if format != "new" {
			newAt = -1
			if format == "compat" {
				n := int(le.Uint32(data[12:16]))
				newAt = (16 + 12*n + 7) &^ 7
			}
		}
		if format == "old" {
			b := mutate(func(b []byte) { le.PutUint32(b[12:16], 1<<30) })
			if _, err := parseLdCache(b); err == nil || !strings.Contains(err.Error(), "more than") {
				t.Errorf("%s: a count of 2^30 entries: err = %v", format, err)
			}
			continue
		}
		b := mutate(func(b []byte) { le.PutUint32(b[newAt+20:], 0xffffffff) })
		if _, err := parseLdCache(b); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("%s: a count of 2^32-1 entries: err = %v", format, err)
		}
		b = mutate(func(b []byte) { b[newAt+28] = 3 })
		if _, err := parseLdCache(b); err == nil || !strings.Contains(err.Error(), "little-endian") {
			t.Errorf("%s: a big-endian flags byte: err = %v", format, err)
		}
		// Every key beyond the strings: the search stops at once.
		b = mutate(func(b []byte) {
			n := int(le.Uint32(b[newAt+20:]))
			for i := 0; i < n; i++ {
				le.PutUint32(b[newAt+48+24*i+4:], uint32(len(b)))
			}
		})
		c, err := parseLdCache(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.lookup("libz3.so.4", 0x0303, true); got.Found {
			t.Errorf("%s: bad key offsets: lookup found %+v", format, got)
		}
		// Every value beyond the strings: no entry is usable.
		b = mutate(func(b []byte) {
			n := int(le.Uint32(b[newAt+20:]))
			for i := 0; i < n; i++ {
				le.PutUint32(b[newAt+48+24*i+8:], 0xfffffff0)
			}
		})
		if c, err = parseLdCache(b); err != nil {
			t.Fatal(err)
		}
		if got := c.lookup("libz3.so.4", 0x0303, true); got.Found {
			t.Errorf("%s: bad value offsets: lookup found %+v", format, got)
		}
	}
	if _, err := parseLdCache([]byte("not a cache")); err == nil {
		t.Error("a file without a cache magic was accepted")
	}
}

func TestLibcmp(t *testing.T) {
	for _, c := range []struct {
		a, b string
		sign int
	}{
		{"libz3.so.4", "libz3.so.4", 0},
		{"libz3.so.4.8", "libz3.so.4", 1},
		{"libfoo.so.10", "libfoo.so.9", 1},
		{"libfoo.so.09", "libfoo.so.9", 0},
		{"libfoo.so.1", "libfoo.so.a", 1},
		{"liba.so", "libb.so", -1},
		{"lib", "libc.so.6", -1},
		{"libé.so", "libe.so", -1}, // signed char on x86_64: 0xc3 is negative
	} {
		got := libcmp(c.a, c.b, true)
		if (got > 0) != (c.sign > 0) || (got < 0) != (c.sign < 0) {
			t.Errorf("libcmp(%q, %q) = %d, want sign %d", c.a, c.b, got, c.sign)
		}
	}
	if libcmp("libé.so", "libe.so", false) <= 0 {
		t.Error("unsigned char (aarch64): 0xc3 sorts after 'e'")
	}
}

// The folders ldconfig adds on its own, from the loader's default ones:
// upstream x86_64 and aarch64 (EL) expand .../lib64, Debian's multiarch
// folders are taken as they are (this machine's ldconfig -v says
// "/lib/x86_64-linux-gnu: (from <builtin>:0)", then /usr/lib/..., /lib,
// /usr/lib).
func TestLdconfigBuiltinDirs(t *testing.T) {
	el := []string{"/lib64", "/usr/lib64"}
	if got, want := strings.Join(ldconfigBuiltinDirs(el, "x86_64"), " "), "/lib /lib64 /libx32 /usr/lib /usr/lib64 /usr/libx32"; got != want {
		t.Errorf("x86_64 EL: %s, want %s", got, want)
	}
	if got, want := strings.Join(ldconfigBuiltinDirs(el, "aarch64"), " "), "/lib /lib64 /usr/lib /usr/lib64"; got != want {
		t.Errorf("aarch64 EL: %s, want %s", got, want)
	}
	deb := []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}
	if got := ldconfigBuiltinDirs(deb, "x86_64"); strings.Join(got, " ") != strings.Join(deb, " ") {
		t.Errorf("Debian: %v", got)
	}
	// The loaders themselves: this machine's (Debian 12) and bullseye's.
	for _, ld := range []string{"/lib64/ld-linux-x86-64.so.2", filepath.Join(bullseye(t), "lib/x86_64-linux-gnu/ld-2.31.so")} {
		got, known := loaderDefaultDirs("/nonexistent", ld, "x86_64", "ELF64")
		if !known || strings.Join(got, " ") != strings.Join(deb, " ") {
			t.Errorf("%s: default folders %v (found in the file: %v), want %v", ld, got, known, deb)
		}
	}
}

// FuzzLdCache: the cache reader never panics on arbitrary bytes, keeps
// memory linear in the input (at most 64 MiB + 64 bytes per input byte,
// for the entries and their strings), and a lookup answers only with a
// path one of the parsed entries holds. Seeds: caches ldconfig writes in
// its three formats, and their truncations.
func FuzzLdCache(f *testing.F) {
	ldconfig := testdeps.Tool(f, "ldconfig")
	for _, format := range []string{"new", "old", "compat"} {
		root := f.TempDir()
		for _, d := range []string{"opt/a", "usr/lib", "etc/ld.so.conf.d"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				f.Fatal(err)
			}
		}
		for src, dst := range map[string]string{
			fx + "x86_64/libz3.so.4": "opt/a/libz3.so.4", fx + "x86_64/libz3.so.4.8": "usr/lib/libz3.so.4.8",
			fx + "x86_64/libdemo.so": "usr/lib/libdemo.so.1",
		} {
			if err := copyFile(src, filepath.Join(root, dst), 0o644); err != nil {
				f.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("/opt/a\n"), 0o644)
		if out, err := exec.Command(ldconfig, "-X", "-r", root, "-c", format).CombinedOutput(); err != nil {
			f.Fatalf("ldconfig -c %s: %v\n%s", format, err, out)
		}
		data, err := os.ReadFile(filepath.Join(root, "etc/ld.so.cache"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte(ldCacheOldMagic))
	f.Add([]byte(ldCacheNewMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A loop that never ends panics: the engine records a crasher
		// where a hang would only stall the run.
		timer := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("%s: input still running after 10s: a loop does not terminate", t.Name()))
		})
		defer timer.Stop()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := parseLdCache(data)
		if err != nil {
			return
		}
		values := map[string]bool{}
		names := []string{"libz3.so.4", "libc.so.6", ""}
		for _, e := range c.Entries {
			if e.ValueOK {
				values[e.Value] = true
			}
			if e.KeyOK && len(names) < 64 {
				names = append(names, e.Key)
			}
		}
		for _, name := range names {
			for _, flags := range []int32{0x0303, 0x0a03, 1} {
				for _, signed := range []bool{true, false} {
					if r := c.lookup(name, flags, signed); r.Found && !values[r.Path] {
						t.Fatalf("lookup(%q) = %q, which no entry holds", name, r.Path)
					}
				}
			}
		}
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64<<20+64*len(data)); got > limit {
			t.Fatalf("%d-byte input allocated %d bytes, over %d", len(data), got, limit)
		}
	})
}

// TestLdCacheOverlappingStrings: 100 000 entries whose keys and values
// start at successive offsets of one 1 MiB run of letters name 100 000
// different strings of almost that length; read as copies they would
// take 100 GB. They are substrings of the table, and where each ends is
// found once: memory stays linear in the file (3.4 MB).
func TestLdCacheOverlappingStrings(t *testing.T) {
	const n, run = 100_000, 1 << 20
	le := binary.LittleEndian
	b := make([]byte, ldCacheNewHeader+n*ldCacheNewEntry, ldCacheNewHeader+n*ldCacheNewEntry+run+1)
	copy(b, ldCacheNewMagic)
	le.PutUint32(b[20:], n)
	b[28] = 2
	strs := uint32(len(b))
	for i := 0; i < n; i++ {
		e := b[ldCacheNewHeader+i*ldCacheNewEntry:]
		le.PutUint32(e[0:], 0x0303)
		le.PutUint32(e[4:], strs+uint32(i))
		le.PutUint32(e[8:], strs+uint32(i))
	}
	b = append(b, bytes.Repeat([]byte{'a'}, run)...)
	b = append(b, 0)
	var c *ldCache
	got := memtest.Allocated(func() {
		var err error
		if c, err = parseLdCache(b); err != nil {
			t.Fatal(err)
		}
		c.lookup("libz3.so.4", 0x0303, true)
	})
	if len(c.Entries) != n || len(c.Entries[n-1].Key) != run-(n-1) {
		t.Fatalf("%d entries, last key of %d bytes", len(c.Entries), len(c.Entries[n-1].Key))
	}
	if limit := uint64(64 * len(b)); got > limit {
		t.Errorf("a %d-byte cache allocated %d bytes, over %d", len(b), got, limit)
	}
}
