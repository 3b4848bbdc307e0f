package abi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Unit tests of the helpers behind the hostile-input fixes (hostile_test.go
// holds the end-to-end cases, which use only the API that existed before).

// Names from the file are escaped in human output; JSON escapes them itself.
func TestQuoteName(t *testing.T) {
	for in, want := range map[string]string{
		"libc.so.6":                            "libc.so.6",
		"$ORIGIN/../lib":                       "$ORIGIN/../lib",
		"_ZNSt6chrono3_V212system_clock3nowEv": "_ZNSt6chrono3_V212system_clock3nowEv",
		"naïve":                                "naïve",
		"":                                     `""`,
		"\x1b[2J/lib/ld.so":                    `"\x1b[2J/lib/ld.so"`,
		"a\nb":                                 `"a\nb"`,
		"\xff\xfe":                             `"\xff\xfe"`,
		"\u202eevil":                           `"\u202eevil"`,
		`"quoted"`:                             `"\"quoted\""`,
	} {
		if got := quoteName(in); got != want {
			t.Errorf("quoteName(%q) = %s, want %s", in, got, want)
		}
	}
}

// The file swapped for a FIFO after the stat: the non-blocking open does not
// wait for a writer, and the check on the open descriptor refuses it.
func TestCheckOpenDescriptor(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("O_NONBLOCK open of a FIFO: %v", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if e := notRegular(fifo, st.Mode()); e == nil || !strings.Contains(e.Error(), "named pipe") {
		t.Errorf("notRegular on the open FIFO = %v", e)
	}
}

// Open errors say what to do and name the path once.
func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := Inspect(missing)
	if err == nil || strings.Count(err.Error(), missing) != 1 || !strings.Contains(err.Error(), "check the path") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	e := openError("x", "cannot open", &os.PathError{Op: "open", Path: "x", Err: syscall.EACCES})
	if got := e.Error(); got != "x: cannot open: permission denied; give the user running relpack read access to it (and search access to its directories)" {
		t.Errorf("permission denied: %s", got)
	}
}

// A bad family floor names the family and an accepted value.
func TestFloorErrors(t *testing.T) {
	_, err := manylinuxPolicy("2.28").Override(map[string]string{"GLIBCXX": "1..0"})
	var fe *FloorError
	if !errors.As(err, &fe) || fe.Family != "GLIBCXX" || !strings.Contains(err.Error(), "such as 3.4.24") {
		t.Errorf("GLIBCXX 1..0: %v", err)
	}
}

// Errors quote a path that is not printable, as reports do.
func TestErrorQuotesPath(t *testing.T) {
	if got := (&Error{Path: "bin/\x1b[2Jx", Msg: "not an ELF file"}).Error(); got != `"bin/\x1b[2Jx": not an ELF file` {
		t.Errorf("got %s", got)
	}
	if got := (&Error{Path: "bin/x", Msg: "m"}).Error(); got != "bin/x: m" {
		t.Errorf("got %s", got)
	}
}
