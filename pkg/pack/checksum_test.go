package pack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

func TestSHA256SUMS(t *testing.T) {
	testdeps.Tools(t, "sha256sum", "sh")
	dir := t.TempDir()
	names := []string{"b.rpm", "a.tar.gz", "manifest.json", "A_upper.deb"}
	var paths []string
	for i, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(strings.Repeat(n, i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	sums := filepath.Join(dir, "SHA256SUMS")
	if err := WriteSHA256SUMS(sums, paths); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(sums)
	if err != nil {
		t.Fatal(err)
	}
	// The reference: what sha256sum itself prints, in byte order of names.
	want := run(t, []string{"LC_ALL=C"}, "sh", "-c", "cd \"$1\" && sha256sum A_upper.deb a.tar.gz b.rpm manifest.json", "sh", dir)
	if string(got) != want {
		t.Fatalf("SHA256SUMS:\n%s\nsha256sum prints:\n%s", got, want)
	}
	run(t, nil, "sh", "-c", "cd \"$1\" && sha256sum --strict -c SHA256SUMS", "sh", dir)

	sum, size, err := SHA256File(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len("b.rpm")) || !strings.Contains(string(got), sum+"  b.rpm\n") {
		t.Fatalf("SHA256File = %s, %d", sum, size)
	}

	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{filepath.Join(t.TempDir(), "x")}, "is not in"},
		{[]string{paths[0], paths[0]}, "listed twice"},
		{[]string{filepath.Join(dir, "missing")}, "no such file"},
	} {
		if err := WriteSHA256SUMS(filepath.Join(dir, "OTHER"), c.files); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("WriteSHA256SUMS(%v): got %v, want an error containing %q", c.files, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "OTHER")); !os.IsNotExist(err) {
		t.Errorf("a failed WriteSHA256SUMS left a file: %v", err)
	}
}
