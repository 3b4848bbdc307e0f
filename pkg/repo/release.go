package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/ProtonMail/go-crypto/openpgp"

	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/releaseverify"
	"relpack/pkg/repo/rpmmd"
)

// input is one release folder given on the command line.
type input struct {
	dir  string
	m    *manifest.Manifest
	rel  Release // what the state records of it
	lock *os.File
}

// readRelease locks dir (shared: a build writing into it holds it
// exclusively) and verifies the release as a user would
// (pkg/releaseverify): SHA256SUMS.asc against keyring (the public part
// of the key that signs the tree; an unsigned release only with
// o.AllowUnsignedRelease), every file against SHA256SUMS and the
// manifest, every deb and rpm against its own metadata, digests and
// signatures. Its record is made from the manifest verified. Tarballs are
// verified but not published in repositories.
func readRelease(dir string, o Options, keyring openpgp.EntityList) (*input, error) {
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
	if _, err := os.Lstat(mp); err != nil {
		return fail(fmt.Errorf("%s holds no manifest.json (%v); give the --out folder of a finished relpack build", dir, err))
	}
	product := ""
	if o.Config != nil {
		product = o.Config.Name
	}
	rep, err := releaseverify.Verify(releaseverify.Options{
		Dir: dir, Keyring: keyring, KeyName: configFile(o.Config) + "'s signing key",
		AllowUnsigned: o.AllowUnsignedRelease,
		UnsignedHint:  "a signed repository takes only signed releases: build it with relpack build --sign, or pass --allow-unsigned-release to publish it unverified (the record says so)",
		Product:       product,
		Context:       o.Context,
	})
	if err != nil {
		return fail(err)
	}
	if err := rep.Err(); err != nil {
		return fail(err)
	}
	m := rep.Manifest
	in.m = m
	in.rel = Release{Product: m.Product, Version: m.Version, ConfigDigest: m.ConfigDigest, ManifestSHA256: rep.ManifestSHA256, SourceDateEpoch: m.SourceDateEpoch,
		SignedBy: rep.SignedBy, UnsignedAccepted: !rep.SignatureVerified}
	arts, err := releaseArtifacts(m, mp)
	if err != nil {
		return fail(err)
	}
	in.rel.Artifacts = arts
	prov, err := provenanceFiles(rep)
	if err != nil {
		return fail(fmt.Errorf("%s: %v", mp, err))
	}
	in.rel.Provenance = prov
	if len(in.rel.Artifacts) == 0 {
		return fail(fmt.Errorf("%s lists no deb or rpm: there is nothing to publish in a repository (add deb or rpm targets to packaging.yaml)", mp))
	}
	// rpm-md's reader, which the indexes are made from, refuses headers
	// the verifier reads no further than their digests (a file list that
	// would build far more names than the header holds): read each rpm
	// here, from the release, so such an rpm is refused naming the
	// release's file before the tree is touched (the copy is held to the
	// same sha256).
	for _, a := range in.rel.Artifacts {
		if manifest.Format(a.Kind) != "rpm" {
			continue
		}
		if _, err := rpmmd.ReadMeta(filepath.Join(dir, a.File), a.File, 0); err != nil {
			return fail(err)
		}
	}
	return in, nil
}

// provenanceFiles are the release's provenance statement and signature
// as the verifier read them (their sha256 and size checked against
// SHA256SUMS), for the record; none for a release without provenance.
func provenanceFiles(rep *releaseverify.Report) ([]PoolFile, error) {
	p := rep.Manifest.Provenance
	if p == nil {
		return nil, nil
	}
	var out []PoolFile
	for _, name := range []string{p.File, p.Signature} {
		if name == "" {
			continue
		}
		i := slices.IndexFunc(rep.Files, func(f releaseverify.FileReport) bool { return f.File == name && f.OK })
		if i < 0 {
			return nil, fmt.Errorf("%s was not verified, so it cannot be published", name)
		}
		out = append(out, PoolFile{File: name, SHA256: rep.Files[i].SHA256, Size: rep.Files[i].Size})
	}
	return out, nil
}

// releaseArtifacts are the debs and rpms of manifest m (read from mp),
// and their debug packages (ddebs, debuginfo rpms), each with its place in
// the tree and its SBOMs, for the record.
func releaseArtifacts(m *manifest.Manifest, mp string) ([]Artifact, error) {
	var out []Artifact
	for _, a := range m.Artifacts {
		if !repoKind(a.Kind) {
			continue // tarballs, debug tarballs (and apk) have no place in these repositories
		}
		if distro.ArchName(a.Arch, manifest.Format(a.Kind)) == "" {
			return nil, fmt.Errorf("%s: %s has arch %q, which relpack repo cannot name for %s (x86_64 or aarch64)", mp, a.File, a.Arch, a.Kind)
		}
		art := Artifact{File: a.File, Kind: a.Kind, Distro: a.Distro, Arch: a.Arch, Size: a.Size, SHA256: a.SHA256, Repositories: a.Repositories}
		if manifest.IsDebug(a.Kind) {
			art.BuildID, art.DebugFor = a.BuildID, a.DebugFor
		}
		art.Path = Layout(m.Product, art)
		for _, s := range a.SBOMs {
			art.SBOMs = append(art.SBOMs, PoolFile{File: s.File, SHA256: s.SHA256, Size: s.Size})
		}
		out = append(out, art)
	}
	return out, nil
}
