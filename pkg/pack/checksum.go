package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SHA256File returns the lowercase hex SHA-256 of the file at path and its
// size in bytes.
func SHA256File(path string) (hexSum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("checksum of %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("checksum of %s: reading: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// WriteSHA256SUMS writes path (atomically) in the format `sha256sum` prints
// and `sha256sum -c` reads: one "<hex>  <basename>\n" line per file (two
// spaces: text mode, as GNU sha256sum writes on Linux), sorted by basename
// in byte order.
//
// Every file must be in path's directory, because `sha256sum -c` resolves
// the names it reads against the directory it runs in. Names sha256sum
// would have to escape (a backslash or a newline) are refused rather than
// escaped: no artifact name needs them.
func WriteSHA256SUMS(path string, files []string) error {
	dir := filepath.Clean(filepath.Dir(path))
	type line struct{ name, sum string }
	lines := make([]line, 0, len(files))
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		if filepath.Clean(filepath.Dir(f)) != dir {
			return fmt.Errorf("writing %s: %s is not in %s; SHA256SUMS can only list files of its own directory (write it next to the artifacts)", path, f, dir)
		}
		if strings.ContainsAny(name, "\\\n\r") {
			return fmt.Errorf("writing %s: file name %q contains a backslash or line break; rename the artifact", path, name)
		}
		if seen[name] {
			return fmt.Errorf("writing %s: %s is listed twice", path, name)
		}
		seen[name] = true
		sum, _, err := SHA256File(f)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		lines = append(lines, line{name, sum})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	return WriteFileAtomic(path, func(w io.Writer) error {
		for _, l := range lines {
			if _, err := fmt.Fprintf(w, "%s  %s\n", l.sum, l.name); err != nil {
				return err
			}
		}
		return nil
	})
}
