package repo

import (
	"slices"
	"testing"
)

// The order the package comment and docs/repositories.md promise, held
// to the list Run runs: every release verified before the tree is
// touched, every check of the tree before its first write, the indexes
// (which list the pool) after the pool files, and the record last.
func TestStagesOrder(t *testing.T) {
	names := Stages()
	at := map[string]int{}
	for i, n := range names {
		if n == "" {
			t.Fatalf("stage %d has no name: %q", i, names)
		}
		if _, ok := at[n]; ok {
			t.Fatalf("stage %q listed twice: %q", n, names)
		}
		at[n] = i
	}
	before := [][2]string{
		{"check the options", "verify the releases"},
		{"verify the releases", "take the repository folder"},
		{"take the repository folder", "read the record"},
		{"check the signing key", "copy the new pool files"},
		{"check the pool", "copy the new pool files"},
		{"check the indexes", "copy the new pool files"},
		{"stop when nothing changed", "copy the new pool files"},
		{"copy the new pool files", "write the indexes"},
		{"write the public key", "write the indexes"},
		{"write the indexes", "write the set-up files"},
		{"write the set-up files", "write the record"},
	}
	for _, b := range before {
		i, ok1 := at[b[0]]
		j, ok2 := at[b[1]]
		if !ok1 || !ok2 {
			t.Fatalf("%q or %q is not a stage of %q", b[0], b[1], names)
		}
		if i >= j {
			t.Errorf("%q runs after %q: %q", b[0], b[1], names)
		}
	}
	if !slices.Equal(names[len(names)-2:], []string{"write the record", "report"}) {
		t.Errorf("the record is not the last write: %q", names)
	}
}
