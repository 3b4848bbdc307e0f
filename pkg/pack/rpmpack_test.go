// This file keeps relpack's rpm writer as it was before the streaming
// one (rpm.go), on google/rpmpack v0.7.1, verbatim but for its names: the
// oracle of TestRPMWriterMatchesRpmpack. Only tests use it.

package pack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/rpmpack"
	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"relpack/internal/rpmtag"
)

// rpmpackWriter writes rpm packages with google/rpmpack directly, from the same
// nfpm.Info the deb writer gets. It exists for one reason: nfpm's rpm
// packager hands rpmpack each file under its absolute name, and rpmpack
// writes that name into the cpio payload as it is (/usr/bin/NAME). GNU
// cpio honours absolute names when extracting, so `rpm2cpio X.rpm | cpio
// -idm` (as rpmlint and people inspecting a package run it) writes onto the
// host instead of into the current directory. rpmbuild writes ./usr/bin/NAME
// and declares rpmlib(PayloadFilesHavePrefix); so does this writer.
//
// rpmpack has no option for the payload name, and its cpio writer is not
// exposed, but it uses a file's name for two things only: the cpio entry
// and the header's file index (DIRNAMES, DIRINDEXES, BASENAMES). So every
// file is added as "./"+name, which gives the payload rpmbuild's names, and
// the directory index is then written again with the absolute directories
// through rpmpack's custom tags, which replace its own entries before the
// header is serialised. Everything rpmpack derives from the header and the
// payload (SHA256 header digest, payload digest, sizes, MD5, the OpenPGP
// signatures) is computed after that, on the final bytes, so no digest or
// signature is ever patched afterwards.
//
// File naming is still nfpm's (naming), so deb and rpm file names come from
// one place.
type rpmpackWriter struct {
	naming nfpm.Packager
}

func (w rpmpackWriter) ConventionalFileName(info *nfpm.Info) string {
	return w.naming.ConventionalFileName(info)
}

// Package writes the rpm of info to out.
func (rpmpackWriter) Package(info *nfpm.Info, out io.Writer) error {
	if err := rpmUnsupported(info); err != nil {
		return err
	}
	if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
		return err
	}
	meta, err := rpmpackMeta(info)
	if err != nil {
		return err
	}
	r, err := rpmpack.NewRPM(meta)
	if err != nil {
		return err
	}
	if err := rpmpackScriptlets(info, r); err != nil {
		return err
	}
	if fn := info.RPM.Signature.SignFn; fn != nil {
		r.SetPGPSigner(func(data []byte) ([]byte, error) { return fn(bytes.NewReader(data)) })
	}

	var names []string
	seen := map[string]bool{}
	for _, c := range info.Contents {
		if c.Packager != "" && c.Packager != "rpm" {
			continue
		}
		f, err := rpmpackFile(c)
		if err != nil {
			return err
		}
		if f == nil {
			continue
		}
		if !path.IsAbs(f.Name) || f.Name == "/" {
			return fmt.Errorf("rpm: file %q: destination must be an absolute path below /", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("rpm: file %s is listed twice", f.Name)
		}
		seen[f.Name] = true
		names = append(names, f.Name)
		f.Name = "." + f.Name
		r.AddFile(*f)
	}
	// rpmlib() features last: they depend on every relation (NewRPM
	// added the package's own provide) and on the files.
	for _, req := range rpmpacklibRequires(&r.RPMMetaData) {
		r.Requires = append(r.Requires, req)
	}
	if len(names) > 0 {
		dirIndexes, dirNames := rpmDirIndex(names)
		r.AddCustomTag(rpmtag.DirIndexes, rpmpack.EntryUint32(dirIndexes))
		r.AddCustomTag(rpmtag.DirNames, rpmpack.EntryStringSlice(dirNames))
	}
	if info.Changelog != "" {
		if err := rpmpackChangelog(info, r); err != nil {
			return err
		}
	}
	return r.Write(out)
}

// rpmpackMeta is the package's rpm metadata: nfpm's mapping of Info, plus the
// rpmlib() dependency of the ./-prefixed payload.
func rpmpackMeta(info *nfpm.Info) (rpmpack.RPMMetaData, error) {
	var m rpmpack.RPMMetaData
	epoch := uint64(rpmpack.NoEpoch)
	if info.Epoch != "" {
		e, err := strconv.ParseUint(info.Epoch, 10, 32)
		if err != nil {
			return m, fmt.Errorf("rpm: epoch %q: %w", info.Epoch, err)
		}
		epoch = e
	}
	if info.MTime.IsZero() {
		return m, errors.New("rpm: no MTime; the build time would be the clock")
	}
	arch := info.Arch
	if info.RPM.Arch != "" {
		arch = info.RPM.Arch
	} else if a, ok := rpmArch[arch]; ok {
		arch = a
	}
	// The rpm VERSION: Version[~Prerelease][+VersionMetadata], '-' being
	// the version-release separator (nfpm's form, see version.NFPMFields).
	ver := info.Version
	if info.Prerelease != "" {
		ver += "~" + strings.ReplaceAll(info.Prerelease, "-", "_")
	}
	if info.VersionMetadata != "" {
		ver += "+" + info.VersionMetadata
	}
	summary := info.RPM.Summary
	if summary == "" {
		summary, _, _ = strings.Cut(info.Description, "\n")
	}
	m = rpmpack.RPMMetaData{
		Name:        info.Name,
		Summary:     summary,
		Description: info.Description,
		Version:     ver,
		Release:     orDefault(info.Release, "1"),
		Epoch:       uint32(epoch),
		Arch:        arch,
		OS:          orDefault(info.Platform, "linux"),
		Licence:     info.License,
		URL:         info.Homepage,
		Vendor:      info.Vendor,
		Packager:    orDefault(info.RPM.Packager, info.Maintainer),
		Group:       info.RPM.Group,
		Compressor:  orDefault(info.RPM.Compression, "gzip"),
		BuildTime:   info.MTime,
		BuildHost:   info.RPM.BuildHost,
	}
	if m.BuildHost == "" {
		return m, errors.New("rpm: no build host; nfpm would write os.Hostname()")
	}
	for _, rel := range []struct {
		dst  *rpmpack.Relations
		from []string
	}{
		{&m.Provides, info.Provides},
		{&m.Recommends, info.Recommends},
		{&m.Suggests, info.Suggests},
		{&m.Conflicts, info.Conflicts},
		{&m.Obsoletes, info.Replaces},
	} {
		for _, s := range rel.from {
			if err := rel.dst.Set(s); err != nil {
				return m, fmt.Errorf("rpm: relation %q: %w", s, err)
			}
		}
	}
	for _, s := range info.Depends {
		rel, err := rpmpackRequire(s)
		if err != nil {
			return m, err
		}
		if !slices.ContainsFunc(m.Requires, rel.Equal) {
			m.Requires = append(m.Requires, rel)
		}
	}
	// rpmbuild's architecture provide, NAME(ISA) = EVR, which the
	// packages of a distro require each other by (%{?_isa}).
	if isa, ok := rpmISA[arch]; ok {
		self := &rpmpack.Relation{Version: rpmEVR(uint32(epoch), ver, m.Release), Sense: rpmpack.SenseEqual}
		self.Name = m.Name + "(" + isa + ")"
		m.Provides = append(m.Provides, self)
	}
	return m, nil
}

// rpmpackRequire parses one Depends entry: a relation ("glibc >= 2.28",
// "z3-libs", a rich "(a or b)"), or one for scriptlets in spec-file
// form, "Requires(post,preun,postun): systemd", which rpm installs
// before those scriptlets run and may remove once they no longer need it
// (%systemd_requires writes exactly these three).
func rpmpackRequire(s string) (*rpmpack.Relation, error) {
	var contexts []string
	if rest, ok := strings.CutPrefix(s, "Requires("); ok {
		ctx, rel, ok := strings.Cut(rest, "):")
		if !ok {
			return nil, fmt.Errorf("rpm: relation %q: want Requires(post,preun,...): NAME [OP VERSION]", s)
		}
		contexts = strings.Split(ctx, ",")
		s = strings.TrimSpace(rel)
	}
	rel, err := rpmpack.NewRelation(s)
	if err != nil {
		return nil, fmt.Errorf("rpm: relation %q: %w", s, err)
	}
	if rel.Name == "" {
		return nil, fmt.Errorf("rpm: relation %q names no package", s)
	}
	for _, c := range contexts {
		switch strings.TrimSpace(c) {
		case "pre":
			rel.Sense |= rpmtag.SenseScriptPre
		case "post":
			rel.Sense |= rpmtag.SenseScriptPost
		case "preun":
			rel.Sense |= rpmtag.SensePreun
		case "postun":
			rel.Sense |= rpmtag.SensePostun
		default:
			return nil, fmt.Errorf("rpm: relation Requires(%s): unknown scriptlet %q; use pre, post, preun or postun", strings.Join(contexts, ","), strings.TrimSpace(c))
		}
	}
	return rel, nil
}

// rpmpackScriptlets adds the package's scriptlets (nfpm's script files:
// PreInstall %pre, PostInstall %post, PreRemove %preun, PostRemove
// %postun), each run by /bin/sh, with the dependencies rpm orders the
// scriptlet after:
//
//   - Requires(pre|post|preun|postun): /bin/sh with RPMSENSE_INTERP, the
//     interpreter dependency rpmbuild writes for every scriptlet;
//   - Requires(...): systemd for a scriptlet that runs systemctl, as
//     %systemd_requires declares beside the %systemd_post, %systemd_preun
//     and %systemd_postun* macros: rpm then installs systemd before the
//     package in one transaction and keeps it until the package's %preun
//     and %postun have run.
func rpmpackScriptlets(info *nfpm.Info, r *rpmpack.RPM) error {
	type ctx struct {
		file, name string
		add        func(string)
		sense      *rpmpack.Relation // carries the context flag
	}
	for _, s := range []ctx{
		{info.Scripts.PreInstall, "%pre", r.AddPrein, &rpmpack.Relation{Sense: rpmtag.SenseScriptPre}},
		{info.Scripts.PostInstall, "%post", r.AddPostin, &rpmpack.Relation{Sense: rpmtag.SenseScriptPost}},
		{info.Scripts.PreRemove, "%preun", r.AddPreun, &rpmpack.Relation{Sense: rpmtag.SensePreun}},
		{info.Scripts.PostRemove, "%postun", r.AddPostun, &rpmpack.Relation{Sense: rpmtag.SensePostun}},
	} {
		if s.file == "" {
			continue
		}
		body, err := os.ReadFile(s.file)
		if err != nil {
			return fmt.Errorf("rpm: %s scriptlet: %w", s.name, err)
		}
		if strings.TrimSpace(string(body)) == "" {
			continue // rpmbuild writes no empty scriptlet either
		}
		s.add(string(body))
		r.Requires = append(r.Requires, &rpmpack.Relation{Name: "/bin/sh", Sense: s.sense.Sense | rpmtag.SenseInterp})
		if systemctlRE.Match(body) {
			req := &rpmpack.Relation{Name: "systemd", Sense: s.sense.Sense}
			if !slices.ContainsFunc(r.Requires, req.Equal) {
				r.Requires = append(r.Requires, req)
			}
		}
	}
	return nil
}

// rpmlib() features, the version of rpm that introduced each (rpm's
// lib/rpmds.c rpmlibProvides), as rpmbuild's rpmlibNeedsFeature names
// them.
var (
	rpmpacklibCompressedFileNames    = rpmpacklibFeature("CompressedFileNames", "3.0.4-1")
	rpmpacklibFileDigests            = rpmpacklibFeature("FileDigests", "4.6.0-1")
	rpmpacklibPayloadFilesHavePrefix = rpmpacklibFeature("PayloadFilesHavePrefix", "4.0-1")
	rpmpacklibTildeInVersions        = rpmpacklibFeature("TildeInVersions", "4.10.0-1")
	rpmpacklibCaretInVersions        = rpmpacklibFeature("CaretInVersions", "4.15.0-1")
	rpmpacklibRichDependencies       = rpmpacklibFeature("RichDependencies", "4.12.0-1")
	// The payload compressors rpm did not always read; gzip it always did.
	rpmpacklibPayload = map[string]rpmpack.Relation{
		"xz":    rpmpacklibFeature("PayloadIsXz", "5.2-1"),
		"lzma":  rpmpacklibFeature("PayloadIsLzma", "4.4.6-1"),
		"zstd":  rpmpacklibFeature("PayloadIsZstd", "5.4.18-1"),
		"bzip2": rpmpacklibFeature("PayloadIsBzip2", "3.0.5-1"),
	}
)

// rpmpacklibFeature is the dependency rpmbuild writes for an rpmlib feature:
// rpmlib(NAME) <= VERSION with RPMSENSE_RPMLIB, which only rpm itself
// provides (rpm --showrc lists them under "Features supported by rpmlib").
func rpmpacklibFeature(name, version string) rpmpack.Relation {
	return rpmpack.Relation{
		Name:    "rpmlib(" + name + ")",
		Version: version,
		Sense:   rpmpack.SenseRPMLIB | rpmpack.SenseLess | rpmpack.SenseEqual,
	}
}

// rpmpacklibRequires are the rpmlib() dependencies rpmbuild (4.18, build/pack.c
// and build/files.c) writes for a package of m's relations and payload,
// so that an rpm lacking a feature refuses the package up front ("rpmlib(X)
// is needed by ...") instead of failing half-way through:
//
//   - always (rpmbuild writes them even for a package without files):
//     CompressedFileNames (the DIRNAMES/BASENAMES index), FileDigests
//     (SHA-256 file digests), PayloadFilesHavePrefix (the ./ payload
//     names);
//   - the payload compressor: PayloadIsXz, PayloadIsLzma, PayloadIsZstd
//     (none for gzip);
//   - TildeInVersions / CaretInVersions when any relation's version, the
//     package's own provide included, has a '~' / '^';
//   - RichDependencies for a boolean "(a or b)" relation.
func rpmpacklibRequires(m *rpmpack.RPMMetaData) []*rpmpack.Relation {
	feats := []rpmpack.Relation{rpmpacklibCompressedFileNames, rpmpacklibFileDigests, rpmpacklibPayloadFilesHavePrefix}
	if f, ok := rpmpacklibPayload[m.Compressor]; ok {
		feats = append(feats, f)
	}
	var tilde, caret, rich bool
	for _, rels := range []rpmpack.Relations{m.Provides, m.Requires, m.Conflicts, m.Obsoletes, m.Recommends, m.Suggests} {
		for _, r := range rels {
			tilde = tilde || strings.Contains(r.Version, "~")
			caret = caret || strings.Contains(r.Version, "^")
			rich = rich || strings.HasPrefix(r.Name, "(")
		}
	}
	if tilde {
		feats = append(feats, rpmpacklibTildeInVersions)
	}
	if caret {
		feats = append(feats, rpmpacklibCaretInVersions)
	}
	if rich {
		feats = append(feats, rpmpacklibRichDependencies)
	}
	out := make([]*rpmpack.Relation, len(feats))
	for i := range feats {
		out[i] = &feats[i]
	}
	return out
}

// rpmpackFile turns one nfpm content into an rpmpack file under its absolute
// name; nil for entries rpm does not list (implicit directories).
func rpmpackFile(c *files.Content) (*rpmpack.RPMFile, error) {
	// Unix permission, setuid, setgid and sticky bits as given (nfpm's
	// preparation may add Go's own type bits, which rpm does not know).
	mode := uint(c.FileInfo.Mode & 0o7777)
	f := &rpmpack.RPMFile{
		Name:  files.ToNixPath(c.Destination),
		Mode:  mode,
		MTime: uint32(c.FileInfo.MTime.Unix()),
		Owner: c.FileInfo.Owner,
		Group: c.FileInfo.Group,
	}
	var flags rpmpack.FileType
	switch c.Type {
	case files.TypeImplicitDir:
		return nil, nil
	case files.TypeDir:
		f.Mode |= 0o40000
		return f, nil
	case files.TypeSymlink:
		f.Mode = 0o120777
		f.Body = []byte(c.Source)
		return f, nil
	case files.TypeFile:
		flags = rpmpack.GenericFile
	case files.TypeConfig:
		flags = rpmpack.ConfigFile
	case files.TypeConfigNoReplace:
		flags = rpmpack.ConfigFile | rpmpack.NoReplaceFile
	case files.TypeConfigMissingOK:
		flags = rpmpack.ConfigFile | rpmpack.MissingOkFile
	case files.TypeRPMDoc:
		flags = rpmpack.DocFile
	case files.TypeRPMLicence, files.TypeRPMLicense:
		flags = rpmpack.LicenceFile
	case files.TypeRPMReadme:
		flags = rpmpack.ReadmeFile
	default:
		return nil, fmt.Errorf("rpm: file %s: content type %q is not supported by relpack's rpm writer", c.Destination, c.Type)
	}
	body, err := os.ReadFile(c.Source)
	if err != nil {
		return nil, fmt.Errorf("rpm: file %s: %w", c.Destination, err)
	}
	f.Body, f.Type = body, flags
	return f, nil
}

// rpmpackChangelog writes the %changelog of info's changelog file: one entry
// per release, "- note" per change, a note's further non-blank lines below
// it (the text nfpm writes).
func rpmpackChangelog(info *nfpm.Info, r *rpmpack.RPM) error {
	log, err := info.GetChangeLog()
	if err != nil {
		return fmt.Errorf("rpm: reading the changelog: %w", err)
	}
	if len(log.Entries) == 0 {
		return nil // empty changelog tags would make an invalid package
	}
	var times []uint32
	var names, texts []string
	for _, e := range log.Entries {
		var lines []string
		for _, c := range e.Changes {
			note := strings.Split(c.Note, "\n")
			lines = append(lines, "- "+note[0])
			for _, l := range note[1:] {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
		}
		times = append(times, uint32(e.Date.Unix()))
		names = append(names, e.Packager+" - "+e.Semver)
		texts = append(texts, strings.TrimSpace(strings.Join(lines, "\n")))
	}
	r.AddCustomTag(rpmtag.ChangelogTime, rpmpack.EntryUint32(times))
	r.AddCustomTag(rpmtag.ChangelogName, rpmpack.EntryStringSlice(names))
	r.AddCustomTag(rpmtag.ChangelogText, rpmpack.EntryStringSlice(texts))
	return nil
}
