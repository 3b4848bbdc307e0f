package releaseverify

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"relpack/internal/rpmtag"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/repo/rpmmd"
)

// Signature header tags rpm -K checks that internal/rpmtag does not name
// (relpack writes none of them; a package that has one is checked too).
const (
	sigDSA  = 267  // RPMSIGTAG_DSA: header-only DSA signature
	sigSHA1 = 269  // RPMSIGTAG_SHA1: hex SHA-1 of the main header
	sigMD5  = 1004 // RPMSIGTAG_MD5: MD5 of header and payload
	sigGPG  = 1005 // RPMSIGTAG_GPG: header+payload DSA signature
)

// pgpHashSHA256 is rpm's PGPHASHALGO_SHA256, the payload digest algorithm
// relpack writes.
const pgpHashSHA256 = 8

// rpm checks what rpm -K checks (the main header's SHA-256 and SHA-1, the
// payload digest, the sizes, the MD5 and every OpenPGP signature of the
// signature header), then the main header's name, version, release,
// epoch, arch and OS against the manifest.
func (c *pkgCheck) rpm() error {
	r, err := rpmmd.ReadRPM(c.f, c.size)
	if err != nil {
		if cerr := c.v.ctx.Err(); cerr != nil {
			return cerr
		}
		c.fail("is not a readable rpm: %v", err)
		return nil
	}
	p := &rpmParts{RPM: r, hStart: r.Main.Start, hSize: r.Main.Size}
	p.pStart = p.hStart + p.hSize
	p.pSize = c.size - p.pStart
	// rpm -K's digests, in its order; each stops the rest at a problem.
	for _, check := range []func(*rpmParts) (bool, error){c.rpmHeaderDigests, c.rpmSizes, c.rpmPayloadDigest} {
		if ok, err := check(p); err != nil || !ok {
			return err
		}
	}
	if err := c.rpmSignatures(r.Signature, c.rpmHeader(p), c.rpmHeaderAndPayload(p)); err != nil {
		return err
	}
	c.rpmFacts(r.Main)
	if c.a.Kind == manifest.KindDebuginfo {
		c.rpmDebugFacts(r.Main)
	}
	return nil
}

// rpmParts is an rpm read for its checks: its headers, and the byte
// ranges of the main header and of the payload after it.
type rpmParts struct {
	*rpmmd.RPM
	hStart, hSize int64 // the main header
	pStart, pSize int64 // the payload
}

// rpmHeader reads the main header, afresh on each call.
func (c *pkgCheck) rpmHeader(p *rpmParts) func() io.Reader {
	return func() io.Reader { return c.section(p.hStart, p.hSize) }
}

// rpmHeaderAndPayload reads the main header and the payload, afresh on
// each call.
func (c *pkgCheck) rpmHeaderAndPayload(p *rpmParts) func() io.Reader {
	return func() io.Reader { return c.section(p.hStart, p.hSize+p.pSize) }
}

// digest is the hex digest by h of what src reads.
func (c *pkgCheck) digest(h hash.Hash, src io.Reader) (string, error) {
	if _, err := io.Copy(h, src); err != nil {
		return "", c.v.ioErr(c.a.File, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rpmHeaderDigests checks the digests of the main header: SHA256
// (required: relpack writes it, and without a digest nothing binds the
// header), SHA1 when present. ok is false when a problem was recorded.
func (c *pkgCheck) rpmHeaderDigests(p *rpmParts) (bool, error) {
	sig := p.Signature
	want, ok, err := sig.String(rpmtag.SigSHA256)
	switch {
	case err != nil:
		c.fail("signature header: SHA256: %v", err)
		return false, nil
	case !ok:
		c.fail("has no header SHA256 digest in its signature header; relpack writes one (rpm -K reports it)")
		return false, nil
	}
	got, err := c.digest(sha256.New(), c.rpmHeader(p)())
	if err != nil {
		return false, err
	}
	if got != want {
		c.fail("header SHA256 digest: BAD (the signature header records %s, the header hashes to %s): the header was changed after it was written", want, got)
		return false, nil
	}
	if want, ok, err := sig.String(sigSHA1); err != nil || ok {
		got, derr := c.digest(sha1.New(), c.rpmHeader(p)())
		if derr != nil {
			return false, derr
		}
		if err != nil || got != want {
			c.fail("header SHA1 digest: BAD (the signature header records %q, the header hashes to %s)", want, got)
			return false, nil
		}
	}
	c.checks = append(c.checks, "header digest")
	return true, nil
}

// rpmSizes checks the sizes the signature header records and, when it has
// one, the MD5 of header and payload. ok is false when a problem was
// recorded.
func (c *pkgCheck) rpmSizes(p *rpmParts) (bool, error) {
	sig := p.Signature
	for _, tag := range []uint32{rpmtag.SigSize, rpmtag.SigLongSize} {
		n, ok, err := sig.Int(tag)
		if err != nil || ok && int64(n) != p.hSize+p.pSize {
			c.fail("the signature header records %d bytes of header and payload (tag %d), the file has %d", n, tag, p.hSize+p.pSize)
			return false, nil
		}
	}
	e, ok := sig.Lookup(sigMD5)
	if !ok {
		return true, nil
	}
	if e.Type != rpmtag.TypeBin || e.Count != md5.Size {
		c.fail("MD5 digest: the signature header's entry is not 16 bytes")
		return false, nil
	}
	got, err := c.digest(md5.New(), c.rpmHeaderAndPayload(p)())
	if err != nil {
		return false, err
	}
	raw, err := c.entryBytes(sig, e)
	if err != nil {
		return false, err
	}
	if want := hex.EncodeToString(raw); got != want {
		c.fail("MD5 digest: BAD (the signature header records %s, header and payload hash to %s)", want, got)
		return false, nil
	}
	return true, nil
}

// rpmPayloadDigest checks the payload digest, which the header (and so
// its digest and signature) covers. ok is false when a problem was
// recorded.
func (c *pkgCheck) rpmPayloadDigest(p *rpmParts) (bool, error) {
	algo, _, _ := p.Main.Int(rpmtag.PayloadDigestAlgo)
	pd, err := p.Main.Strings(rpmtag.PayloadDigest)
	switch {
	case err != nil || len(pd) == 0:
		c.fail("has no payload digest (PAYLOADDIGEST); relpack writes one")
		return false, nil
	case algo != pgpHashSHA256:
		c.fail("payload digest algorithm %d; relpack writes SHA-256 (%d)", algo, pgpHashSHA256)
		return false, nil
	}
	got, err := c.digest(sha256.New(), c.section(p.pStart, p.pSize))
	if err != nil {
		return false, err
	}
	if got != pd[0] {
		c.fail("payload SHA256 digest: BAD (the header records %s, the payload hashes to %s): the payload was changed after it was written", pd[0], got)
		return false, nil
	}
	c.checks = append(c.checks, "payload digest")
	return true, nil
}

// rpmSignatures checks the OpenPGP signatures of the signature header:
// for a signed release both that relpack writes (RSA: of the header; PGP:
// of header and payload), by the release's key; a DSA or GPG one, should
// it be there, too.
func (c *pkgCheck) rpmSignatures(sig *rpmmd.Header, header, both func() io.Reader) error {
	m := c.v.m
	type sigTag struct {
		tag  uint32
		name string
		over func() io.Reader
	}
	tags := []sigTag{{rpmtag.SigRSA, "RSA header signature", header}, {rpmtag.SigPGP, "header+payload signature", both}, {sigDSA, "DSA header signature", header}, {sigGPG, "GPG header+payload signature", both}}
	present := 0
	for _, t := range tags {
		if sig.Has(t.tag) {
			present++
		}
	}
	switch {
	case m.Signing == nil && present > 0:
		c.fail("carries OpenPGP signatures, but manifest.json says the release is unsigned")
		return nil
	case m.Signing == nil:
		return nil
	case !sig.Has(rpmtag.SigRSA) || !sig.Has(rpmtag.SigPGP):
		c.fail("is not signed (its signature header lacks the RSA header and header+payload signatures), but manifest.json says the release is signed by %s", m.Signing.Fingerprint)
		return nil
	case c.v.keyring == nil:
		return nil // SHA256SUMS.asc's problem says why
	}
	for _, t := range tags {
		e, ok := sig.Lookup(t.tag)
		if !ok {
			continue
		}
		if e.Type != rpmtag.TypeBin || e.Count > maxSignature {
			c.fail("%s: not an OpenPGP signature entry", t.name)
			return nil
		}
		raw, err := c.entryBytes(sig, e)
		if err != nil {
			return err
		}
		fp, _, err := checkDetached(c.v.keyring, t.over(), raw, false)
		if cerr := c.v.ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			c.fail("%s: BAD, not a good signature by %s: %v", t.name, c.v.keyDesc(), err)
			return nil
		}
		if fp != m.Signing.Fingerprint {
			c.fail("%s is made by %s, but manifest.json says the release is signed by %s", t.name, fp, m.Signing.Fingerprint)
			return nil
		}
	}
	c.checks = append(c.checks, "signatures")
	return nil
}

// entryBytes reads the value of a binary entry of header h from the file
// (the header's data store follows its 16-byte intro and its index; the
// reader has bounds-checked the entry against the store).
func (c *pkgCheck) entryBytes(h *rpmmd.Header, e rpmmd.Entry) ([]byte, error) {
	var intro [16]byte
	if _, err := io.ReadFull(c.section(h.Start, 16), intro[:]); err != nil {
		return nil, c.v.ioErr(c.a.File, err)
	}
	il := int64(binary.BigEndian.Uint32(intro[8:12]))
	off := h.Start + 16 + il*16 + int64(e.Offset)
	if off+int64(e.Count) > h.Start+h.Size {
		return nil, fmt.Errorf("%s: header entry %d runs past its header", c.v.path(c.a.File), e.Tag)
	}
	b := make([]byte, e.Count)
	if _, err := io.ReadFull(c.section(off, int64(e.Count)), b); err != nil {
		return nil, c.v.ioErr(c.a.File, err)
	}
	return b, nil
}

// rpmFacts holds the main header's identity to the manifest: NAME the
// product, VERSION-RELEASE the artifact's package_version (whose release
// carries the distro target's suffix), no EPOCH, ARCH and OS, and the file
// name rpm's convention gives them.
func (c *pkgCheck) rpmFacts(h *rpmmd.Header) {
	str := func(tag uint32, what string) string {
		s, _, err := h.String(tag)
		if err != nil {
			c.fail("header %s: %v", what, err)
		}
		return s
	}
	name, ver, rel, arch, os := str(rpmtag.Name, "NAME"), str(rpmtag.Version, "VERSION"), str(rpmtag.Release, "RELEASE"), str(rpmtag.Arch, "ARCH"), str(rpmtag.OS, "OS")
	want := c.v.m.Product
	if c.a.Kind == manifest.KindDebuginfo {
		want += "-debuginfo"
	}
	if name != want {
		c.fail("header says NAME %s, manifest.json says %s", name, want)
	}
	if ver+"-"+rel != c.a.PackageVersion {
		c.fail("header says VERSION-RELEASE %s-%s, manifest.json says %s (target %s)", ver, rel, c.a.PackageVersion, c.a.Distro)
	}
	if h.Has(rpmtag.Epoch) {
		e, _, _ := h.Int(rpmtag.Epoch)
		c.fail("header has EPOCH %d; relpack writes no epoch", e)
	}
	if want := distro.ArchName(c.a.Arch, "rpm"); arch != want {
		c.fail("header says ARCH %s, manifest.json says %s (%s)", arch, c.a.Arch, want)
	}
	if os != "linux" {
		c.fail("header says OS %q, relpack writes linux", os)
	}
	if want := fmt.Sprintf("%s-%s-%s.%s.rpm", name, ver, rel, arch); want != c.a.File {
		c.fail("is named %s, but its header makes it %s", c.a.File, want)
	}
	c.checks = append(c.checks, "header facts")
}
