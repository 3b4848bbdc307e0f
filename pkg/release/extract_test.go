package release

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// extractor lists and unpacks one artifact kind with the tools people use
// to look inside a release: rpm2cpio | cpio, dpkg-deb, tar. Every command
// runs with the extraction folder as its working directory.
type extractor struct {
	glob string
	// dotSlash: every entry must start with "./" (rpmbuild's and
	// dpkg-deb's payload names).
	dotSlash bool
	list     []string // prints one entry name per line; "$1" is the artifact
	extract  []string // unpacks into the working directory; "$1" is the artifact
}

var extractors = []extractor{
	{
		glob: "*.rpm", dotSlash: true,
		list: []string{"sh", "-c", `rpm2cpio "$1" | cpio -t --quiet`, "sh"},
		// GNU cpio honours absolute names unless --no-absolute-filenames
		// is given; the payload must be safe without it.
		extract: []string{"sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh"},
	},
	{
		glob: "*.deb", dotSlash: true,
		list:    []string{"sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -t`, "sh"},
		extract: []string{"dpkg-deb", "-x"}, // the artifact, then "."
	},
	{
		glob:    "*.tar.gz",
		list:    []string{"tar", "-tzf"},
		extract: []string{"tar", "-xzf"},
	},
}

// TestExtractStaysInFolder unpacks every rpm, deb and tarball of the demo
// build the way people inspect a package (rpm2cpio | cpio -idm, dpkg-deb
// -x, tar -x) inside an empty folder: every entry name is relative, with no
// ".." (rpm and deb names start with "./"), every file lands in the folder,
// and nothing lands next to it or at the entry's absolute path on this
// machine. rpmpack's absolute payload names once put /usr/bin/... onto
// test machines this way (issue 14).
func TestExtractStaysInFolder(t *testing.T) {
	testdeps.Tools(t, "sh", "rpm2cpio", "cpio", "dpkg-deb", "tar", "gzip")
	dist := demoDist(t)
	for _, x := range extractors {
		artifacts := filesIn(t, dist, x.glob)
		if len(artifacts) == 0 {
			t.Errorf("the demo build has no %s", x.glob)
		}
		for _, a := range artifacts {
			t.Run(filepath.Base(a), func(t *testing.T) {
				checkExtract(t, x, a)
			})
		}
	}
}

func checkExtract(t *testing.T, x extractor, artifact string) {
	out, stderr, err := run("", nil, x.list[0], append(x.list[1:], artifact)...)
	if err != nil {
		t.Fatalf("listing: %v\n%s", err, stderr)
	}
	names := lines(out)
	if len(names) == 0 {
		t.Fatal("no entries listed")
	}
	bad := false
	for _, n := range names {
		if msg := unsafeEntry(n, x.dotSlash); msg != "" {
			t.Errorf("entry %q: %s", n, msg)
			bad = true
		}
	}
	if bad {
		// Extracting would write outside the folder, perhaps onto this
		// machine: the listing is the finding.
		return
	}

	// The absolute path of every entry, as it is now on this machine:
	// extraction must not create or touch any of them.
	before := map[string]string{}
	for _, n := range names {
		before[n] = hostState(entryPath(n))
	}

	base := t.TempDir()
	dir := filepath.Join(base, "x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string(nil), x.extract[1:]...), artifact)
	if x.extract[0] == "dpkg-deb" {
		args = append(args, ".")
	}
	if _, stderr, err := run(dir, nil, x.extract[0], args...); err != nil {
		t.Fatalf("extracting: %v\n%s", err, stderr)
	}

	for _, n := range names {
		if got := hostState(entryPath(n)); got != before[n] {
			t.Errorf("extracting changed %s on this machine: %s, then %s", entryPath(n), before[n], got)
		}
	}
	if es, err := os.ReadDir(base); err != nil || len(es) != 1 {
		t.Errorf("the folder next to the extraction folder holds %d entries, want only x/ (err %v)", len(es), err)
	}

	// The folder holds exactly the entries and their parent folders.
	want := map[string]bool{}
	for _, n := range names {
		for p := path.Clean(n); p != "." && p != "/"; p = path.Dir(p) {
			want[p] = true
		}
	}
	var extra []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !want[rel] {
			extra = append(extra, rel)
		}
		delete(want, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for p := range want {
		missing = append(missing, p)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("listed but not extracted into the folder: %s", strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("extracted but not listed: %s", strings.Join(extra, ", "))
	}
}

// unsafeEntry says what is wrong with an archive entry name, or "".
func unsafeEntry(name string, dotSlash bool) string {
	switch {
	case name == "":
		return "empty name"
	case strings.HasPrefix(name, "/"):
		return "absolute name: extracting writes onto the machine"
	case dotSlash && !strings.HasPrefix(name, "./"):
		return `does not start with "./"`
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return `".." component: extracting writes outside the folder`
		}
	}
	return ""
}

// entryPath is where an entry would land if its name were taken from /.
func entryPath(name string) string {
	return path.Join("/", name)
}

// hostState describes a path on this machine for a before/after
// comparison: absent, a folder (only its existence: system folders such as
// /usr/bin change whenever anything is installed), or a file's type, size,
// modification time and inode.
func hostState(p string) string {
	st, err := os.Lstat(p)
	switch {
	case err != nil:
		return "absent"
	case st.IsDir():
		return "a folder"
	}
	ino := uint64(0)
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return fmt.Sprintf("%v size %d mtime %s inode %d", st.Mode(), st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano), ino)
}

func TestUnsafeEntry(t *testing.T) {
	for _, c := range []struct {
		name     string
		dotSlash bool
		bad      bool
	}{
		{"./usr/bin/x", true, false},
		{"./", true, false},
		{"openshell-gateway", false, false},
		{"lib/libz3.so.4", false, false},
		{"/usr/bin/x", true, true},
		{"/usr/bin/x", false, true},
		{"usr/bin/x", true, true},
		{"./usr/../../etc/x", true, true},
		{"../x", false, true},
		{"a/..", false, true},
		{"a/..b", false, false},
		{"", false, true},
	} {
		if got := unsafeEntry(c.name, c.dotSlash) != ""; got != c.bad {
			t.Errorf("unsafeEntry(%q, %v) bad = %v, want %v", c.name, c.dotSlash, got, c.bad)
		}
	}
}
