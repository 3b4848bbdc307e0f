package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"relpack/internal/ctxio"
	"relpack/internal/regular"
	"relpack/pkg/abi"
	"relpack/pkg/capture"
	"relpack/pkg/config"
)

// A build verifies bytes and then packages bytes; they must be the same
// bytes. Reading each source by path twice (once to inspect, once per
// artifact) let a binary replaced mid-build ship unverified: 0.35 s into a
// build, a GLIBC_2.36 binary went out under a 2.34 floor with exit 0. So
// every source is read exactly once, into a private copy inside the
// staging folder (mode 0700, on the output's file system), and everything
// after that - inspection, the floor check, the checksum in the manifest,
// every artifact - reads the copy.

// snapshot holds the private copies of one build's sources.
type snapshot struct {
	dir    string
	ctx    context.Context
	copies map[string]*source // by the path the configuration names
	orig   map[string]string  // copy path -> configured path (takeLib: a path already copied)
}

// source is one copied file.
type source struct {
	Orig   string // the path as configured (absolute: the snapshot's key)
	Name   string // the path as the user gave it: what every message names
	Path   string // the private copy
	SHA256 string
	Size   int64
	// What the configuration names it as ("input TRIPLE", "license_file",
	// "files[0].src", "libraries.libz3.files.x86_64"): the role the
	// provenance statement gives it.
	What string
}

// A message about a source names it as the user gave it, never the
// private copy (.relpack-staging-*/.sources/N/...), which is gone when the
// message is read. So the copy is read through these, which hand the
// user's name to the reader from the start.

// open opens the private copy; its error names the source, not the copy.
func (s *source) open() (*os.File, error) {
	f, _, err := regular.Open(s.Path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: reading the build's copy of it: %v", s.Name, err)
	}
	return f, nil
}

// inspect reads the copy's ELF facts; Facts.Path, its verdict and its
// errors name the source as the user gave it.
func (s *source) inspect() (*abi.Facts, error) {
	f, err := s.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return abi.InspectReader(s.Name, f)
}

// exports is capture.ReaderExports of the copy; its errors name no file.
func (s *source) exports() ([]string, error) {
	f, err := s.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return capture.ReaderExports(f)
}

func newSnapshot(ctx context.Context, dir string) (*snapshot, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	return &snapshot{dir: dir, ctx: ctx, copies: map[string]*source{}, orig: map[string]string{}}, nil
}

// take copies the regular file at p (what names it in messages, e.g.
// "input x86_64-unknown-linux-gnu"; at is where the configuration names
// it, packaging.yaml or packaging.yaml:LINE, the start of every message)
// once and returns the copy. A FIFO or
// device is refused before a blocking open; a symbolic link is followed,
// and where it leads is checked against the configuration's folder on the
// opened descriptor itself, so a link swapped after the check cannot
// redirect the read.
func (s *snapshot) take(cfg *config.Config, at, what, p string) (*source, error) {
	if src, ok := s.copies[p]; ok {
		return src, nil
	}
	name := cfg.Given(p)
	f, st, err := regular.Open(p)
	if err != nil {
		var nr *regular.NotRegularError
		switch {
		case errors.As(err, &nr):
			return nil, fmt.Errorf("%s: %s (%s) is %s, not a regular file; give the path of the file itself", at, what, name, regular.Kind(nr.Mode))
		case os.IsNotExist(err):
			return nil, fmt.Errorf("%s: %s %s does not exist (fix the path in the configuration)", at, what, name)
		}
		return nil, fmt.Errorf("%s: %s %s: %w", at, what, name, err)
	}
	defer f.Close()
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		real, err = filepath.EvalSymlinks(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", at, what, name, err)
		}
	}
	if err := checkConfinedReal(cfg, at, what, p, real); err != nil {
		return nil, err
	}
	dst := filepath.Join(s.dir, strconv.Itoa(len(s.copies)))
	if err := os.Mkdir(dst, 0o700); err != nil {
		return nil, s.copyError(at, what, name, err)
	}
	dst = filepath.Join(dst, filepath.Base(p))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, s.copyError(at, what, name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), ctxio.Reader(s.ctx, f))
	if cerr := out.Close(); cerr != nil && err == nil {
		return nil, s.copyError(at, what, name, cerr)
	}
	var werr *os.PathError
	if errors.As(err, &werr) && werr.Path == dst {
		return nil, s.copyError(at, what, name, err)
	}
	if err != nil {
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%s: reading %s %s: %w", at, what, name, err)
	}
	if n != st.Size() {
		return nil, fmt.Errorf("%s: %s %s changed while it was read (%d bytes, then %d); run the release job on finished files", at, what, name, st.Size(), n)
	}
	src := &source{Orig: p, Name: name, Path: dst, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, What: what}
	s.copies[p] = src
	s.orig[dst] = p
	return src, nil
}

// copyError is a failure to write the private copy (a full disk): it
// names the source and the output folder, not the copy, which the failed
// build removes.
func (s *snapshot) copyError(at, what, name string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	out := filepath.Dir(filepath.Dir(s.dir))
	return fmt.Errorf("%s: copying %s %s into the output folder %s: %v (free space there, or choose another --out)", at, what, name, out, err)
}

// takeSources copies every file of the configuration the artifacts carry
// and returns the configuration with those paths pointing at the copies.
func (s *snapshot) takeSources(cfg *config.Config) (*config.Config, error) {
	c := *cfg
	// Each file is named in messages by its key, at the key's line.
	take := func(key, p string) (string, error) {
		src, err := s.take(cfg, cfg.Where(key), key, p)
		if err != nil {
			return "", err
		}
		return src.Path, nil
	}
	var err error
	if c.LicenseFile, err = take("license_file", cfg.LicenseFile); err != nil {
		return nil, err
	}
	c.Files = nil
	for i, f := range cfg.Files {
		if f.Src, err = take(fmt.Sprintf("files[%d].src", i), f.Src); err != nil {
			return nil, err
		}
		c.Files = append(c.Files, f)
	}
	c.Tarball.Files = nil
	for i, f := range cfg.Tarball.Files {
		p, err := take(fmt.Sprintf("tarball.files[%d]", i), f)
		if err != nil {
			return nil, err
		}
		c.Tarball.Files = append(c.Tarball.Files, p)
	}
	if sc := cfg.Tarball.Sidecar; sc != nil {
		out := *sc
		out.Libraries = map[string]string{}
		for arch, p := range sc.Libraries {
			if out.Libraries[arch], err = take("tarball.sidecar.libraries."+arch, p); err != nil {
				return nil, err
			}
		}
		c.Tarball.Sidecar = &out
	}
	return &c, nil
}
