package pack

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "artifact")

	if err := WriteFileAtomic(p, func(w io.Writer) error {
		_, err := io.WriteString(w, "first")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "first")

	// A failing writer leaves the previous file untouched and no
	// temporary file behind, even after writing part of its output.
	boom := errors.New("boom")
	err := WriteFileAtomic(p, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v, want the writer's error naming %s", err, p)
	}
	checkFile(t, p, "first")

	// A new name is not created at all on failure.
	q := filepath.Join(dir, "never")
	if err := WriteFileAtomic(q, func(w io.Writer) error { return boom }); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(q); !os.IsNotExist(err) {
		t.Fatalf("%s exists after a failed write: %v", q, err)
	}

	// A panicking writer: the panic goes on, the temporary file goes away.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		WriteFileAtomic(q, func(w io.Writer) error { panic("writer bug") })
	}()

	if got := listFiles(t, dir); strings.Join(got, ",") != "artifact" {
		t.Fatalf("directory holds %v, want only artifact", got)
	}

	// A missing directory is an error that names the path.
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "x"), func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "no/such") {
		t.Fatalf("got %v", err)
	}
}

func checkFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("%s holds %q, want %q", p, b, want)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != ArtifactMode {
		t.Fatalf("%s has mode %v, want 0644 whatever the umask", p, st.Mode().Perm())
	}
}
