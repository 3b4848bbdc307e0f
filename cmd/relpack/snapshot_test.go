package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// stateOfTree records every path under root with its type, mode and
// content (sha256 of a file, target of a symbolic link), so a test can
// prove a refused run left a folder exactly as it was.
func stateOfTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := st.Mode().String()
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		case st.Mode().IsRegular() && st.Size() > 64<<20:
			// A large (sparse) file of a test: its size and time
			// of change, not gigabytes read again per snapshot.
			v += fmt.Sprintf(" %d bytes, changed %d", st.Size(), st.ModTime().UnixNano())
		case st.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			v += " " + hex.EncodeToString(h.Sum(nil))
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails the test when root differs from before.
func sameTree(t *testing.T, what, root string, before map[string]string) {
	t.Helper()
	after := stateOfTree(t, root)
	for p, v := range after {
		if before[p] != v {
			t.Errorf("%s: %s changed: %q, was %q", what, filepath.Join(root, p), v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: %s was removed", what, filepath.Join(root, p))
		}
	}
}
