package repo

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"relpack/internal/regular"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
)

// input is one release folder given on the command line.
type input struct {
	dir  string
	m    *manifest.Manifest
	rel  Release // what the state records of it
	lock *os.File
}

// readRelease locks dir (shared: a build writing into it holds it
// exclusively), reads and validates its manifest, holds manifest.json to
// the sha256 SHA256SUMS records, and checks every deb and rpm the manifest
// lists: a regular file directly inside dir (not a symbolic link, which
// could point anywhere), of the recorded size and sha256. Tarballs are not
// published in repositories and are not read.
func readRelease(dir string) (*input, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w (give the --out folder of relpack build)", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("release %s is not a folder; give the --out folder of relpack build", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("release %s is in use by a relpack build; add it when the build has finished", dir)
		}
		return nil, fmt.Errorf("release %s: cannot lock it: %w", dir, err)
	}
	in := &input{dir: dir, lock: f}
	fail := func(err error) (*input, error) { f.Close(); return nil, err }
	mp := filepath.Join(dir, "manifest.json")
	if _, err := regular.Check(mp); err != nil {
		return fail(fmt.Errorf("%s holds no manifest.json (%v); give the --out folder of a finished relpack build", dir, err))
	}
	m, err := manifest.ReadValid(mp)
	if err != nil {
		return fail(err)
	}
	if m.Partial {
		return fail(fmt.Errorf("%s is a partial release (relpack build --only %s): join the partials first with relpack merge DIR... --out DIR, then add the merged folder",
			mp, strings.Join(m.Selectors, " --only ")))
	}
	sum, _, err := hashFile(mp, false)
	if err != nil {
		return fail(err)
	}
	if err := checkSums(dir, sum); err != nil {
		return fail(err)
	}
	in.m = m
	in.rel = Release{Product: m.Product, Version: m.Version, ConfigDigest: m.ConfigDigest, ManifestSHA256: sum, SourceDateEpoch: m.SourceDateEpoch}
	if m.Signing != nil {
		in.rel.SignedBy = strings.ToUpper(m.Signing.Fingerprint)
	}
	for _, a := range m.Artifacts {
		if a.Kind != "deb" && a.Kind != "rpm" {
			continue // tarballs (and apk) have no place in these repositories
		}
		if distro.ArchName(a.Arch, a.Kind) == "" {
			return fail(fmt.Errorf("%s: %s has arch %q, which relpack repo cannot name for %s (x86_64 or aarch64)", mp, a.File, a.Arch, a.Kind))
		}
		p := filepath.Join(dir, a.File)
		sum, size, err := hashFile(p, true)
		switch {
		case os.IsNotExist(err):
			return fail(fmt.Errorf("%s is missing: %s lists it; copy the whole release folder relpack build wrote", p, mp))
		case err != nil:
			return fail(err)
		case size != a.Size:
			return fail(fmt.Errorf("%s is %d bytes, but %s records %d: it is not the file relpack build wrote; rebuild or copy the release again", p, size, mp, a.Size))
		case sum != a.SHA256:
			return fail(fmt.Errorf("%s has sha256 %s, but %s records %s: it was changed after the build; rebuild or copy the release again", p, sum, mp, a.SHA256))
		}
		art := Artifact{File: a.File, Kind: a.Kind, Distro: a.Distro, Arch: a.Arch, Size: a.Size, SHA256: a.SHA256}
		art.Path = Layout(m.Product, art)
		in.rel.Artifacts = append(in.rel.Artifacts, art)
	}
	if len(in.rel.Artifacts) == 0 {
		return fail(fmt.Errorf("%s lists no deb or rpm: there is nothing to publish in a repository (add deb or rpm targets to packaging.yaml)", mp))
	}
	return in, nil
}

// checkSums holds manifest.json to the sha256 dir/SHA256SUMS records, so a
// manifest edited after the build is refused.
func checkSums(dir, sum string) error {
	sp := filepath.Join(dir, "SHA256SUMS")
	f, _, err := regular.Open(sp)
	if err != nil {
		return fmt.Errorf("%s holds no SHA256SUMS (%v): it is not a finished relpack release", dir, err)
	}
	defer f.Close()
	want := ""
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if s, name, ok := strings.Cut(sc.Text(), "  "); ok && name == "manifest.json" {
			want = s
		}
	}
	if want != sum {
		return fmt.Errorf("%s/manifest.json has sha256 %s, but %s records %q: the manifest was edited after the build; rebuild the release", dir, sum, sp, want)
	}
	return nil
}

// hashFile returns the sha256 and size of a regular file. noLink refuses
// a symbolic link at path (O_NOFOLLOW), so a release folder cannot make
// relpack publish a file from elsewhere.
func hashFile(path string, noLink bool) (string, int64, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
	if noLink {
		if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return "", 0, fmt.Errorf("%s is a symbolic link: a release folder holds its artifacts as regular files; copy the file itself", path)
		}
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", 0, fmt.Errorf("%s is a symbolic link: a release folder holds its artifacts as regular files; copy the file itself", path)
		}
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !st.Mode().IsRegular() {
		return "", 0, &regular.NotRegularError{Path: path, Mode: st.Mode()}
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
