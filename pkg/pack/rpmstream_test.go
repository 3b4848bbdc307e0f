package pack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"relpack/internal/rpmtag"
)

// rpmBothWriters writes the rpm of spec with the streaming writer (rpm.go)
// and with the rpmpack one it replaced (rpmpack_test.go), each from its
// own nfpm.Info prepared as WritePackage prepares it; edit, if set,
// changes both Infos the same way.
func rpmBothWriters(t *testing.T, spec PackageSpec, edit func(*nfpm.Info)) (streamed, old []byte) {
	t.Helper()
	naming, err := nfpm.Get("rpm")
	if err != nil {
		t.Fatal(err)
	}
	write := func(w nfpm.Packager) []byte {
		info, err := spec.nfpmInfo(t.TempDir(), spec.MTime)
		if err != nil {
			t.Fatal(err)
		}
		info = nfpm.WithDefaults(info)
		if edit != nil {
			edit(info)
		}
		var b bytes.Buffer
		if err := w.Package(info, &b); err != nil {
			t.Fatalf("%T: %v", w, err)
		}
		return b.Bytes()
	}
	return write(rpmWriter{naming: naming, tempDir: t.TempDir()}), write(rpmpackWriter{naming: naming})
}

// TestRPMWriterMatchesRpmpack: for packages whose payload is one xz chunk
// (the demo's: a binary, its docs, config and unit, with the service
// scriptlets), the streaming writer writes exactly the bytes of the
// rpmpack-based writer it replaced, in every compression, for both
// architectures, with an epoch, extra relations, symlinks and
// directories, and signed with an RSA and an EdDSA key.
func TestRPMWriterMatchesRpmpack(t *testing.T) {
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	scripts := Scripts{
		PreInstall:  "getent group relpack >/dev/null || groupadd -r relpack\n",
		PostInstall: oracleScripts["post"],
		PreRemove:   oracleScripts["preun"],
		PostRemove:  oracleScripts["postun"],
	}
	extra := func(info *nfpm.Info) {
		// What PackageSpec cannot say but the writer supports: a
		// symlink, an explicit directory, other config kinds, other
		// relation kinds.
		info.Contents = append(info.Contents,
			&files.Content{Source: "relpack-hello", Destination: "/usr/bin/hello", Type: files.TypeSymlink,
				FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o777, MTime: fixtureMTime}},
			&files.Content{Destination: "/var/lib/relpack-hello", Type: files.TypeDir,
				FileInfo: &files.ContentFileInfo{Owner: "relpack", Group: "relpack", Mode: 0o750, MTime: fixtureMTime}},
			&files.Content{Source: filepath.Join(in, "hello"), Destination: "/usr/libexec/relpack-hello/helper", Type: files.TypeConfigMissingOK,
				FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o4755, MTime: fixtureMTime}},
		)
		info.Recommends = []string{"bash-completion"}
		info.Suggests = []string{"(z3 or z3-devel)"}
		info.Conflicts = []string{"relpack-hello-legacy < 0.0.1"}
		info.Replaces = []string{"relpack-greeter-old <= 0.0.9"}
	}
	rsa, _, _ := signingKey(t, "rsa3072", signPassphrase)
	ed, _, _ := signingKey(t, "ed25519", signPassphrase)

	type variant struct {
		name string
		spec func(*PackageSpec)
		edit func(*nfpm.Info)
	}
	var variants []variant
	for _, c := range compressions["rpm"] {
		for _, arch := range []string{"amd64", "arm64"} {
			variants = append(variants, variant{c + "/" + arch, func(s *PackageSpec) { s.Compression, s.Arch = c, arch }, nil})
		}
		variants = append(variants, variant{c + "/scriptlets", func(s *PackageSpec) { s.Compression, s.Scripts = c, scripts }, nil})
	}
	// Larger payloads: several pgzip blocks and zstd blocks; up to one
	// xz chunk (8 MiB) the xz bytes are still ulikunitz's defaults, past
	// it they are chunkedWriter's blocks (TestRPMLargePayload), so the
	// 12 MiB payload is compared for the other compressions only.
	for _, size := range []int64{6 << 20, 12 << 20} {
		big := filepath.Join(in, fmt.Sprintf("big-%d", size))
		writeLargeInput(t, big, size)
		for _, c := range compressions["rpm"] {
			if c == "xz" && size > chunkSize-1<<20 {
				continue
			}
			variants = append(variants, variant{fmt.Sprintf("%s/%dMiB", c, size>>20), func(s *PackageSpec) {
				s.Compression = c
				s.Files = append(s.Files, PackageFile{Src: big, Dst: "/usr/lib/relpack-hello/data", Mode: 0o644})
			}, nil})
		}
	}
	variants = append(variants,
		variant{"epoch-and-relations", func(s *PackageSpec) {
			s.Epoch = "3"
			s.Depends = append(s.Depends, "Requires(post,preun,postun): systemd", "(z3-libs or libz3)")
		}, extra},
		variant{"no-prerelease", func(s *PackageSpec) { s.Prerelease, s.VersionMetadata = "", "" }, nil},
		variant{"signed-rsa", func(s *PackageSpec) { s.Signing = rsa }, nil},
		variant{"signed-ed25519/zstd", func(s *PackageSpec) { s.Signing, s.Compression = ed, "zstd" }, nil},
	)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			spec := fixtureSpec("rpm", in)
			v.spec(&spec)
			streamed, old := rpmBothWriters(t, spec, v.edit)
			// rpmpack wrote the files' sum as PAYLOADSIZE; relpack writes
			// the cpio archive's size, as rpm2cpio checks it: the one field
			// where the two differ on purpose.
			old = withPayloadSizeOf(t, old, streamed)
			if !bytes.Equal(streamed, old) {
				at := 0
				for at < min(len(streamed), len(old)) && streamed[at] == old[at] {
					at++
				}
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, "streamed.rpm"), streamed, 0o644)
				os.WriteFile(filepath.Join(dir, "rpmpack.rpm"), old, 0o644)
				t.Errorf("%d bytes, rpmpack's writer %d; first difference at byte %d (both kept in %s)", len(streamed), len(old), at, dir)
			}
		})
	}
}

// TestRPMWriterFileChanged: a file whose size differs from the one listed
// in the header (it changed while the payload was written) is refused,
// naming the file; a write leaves no temporary payload file behind.
func TestRPMWriterFileChanged(t *testing.T) {
	src := filepath.Join(t.TempDir(), "grows")
	if err := os.WriteFile(src, []byte("1234"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		listed int64
		want   string
	}{
		{3, "changed while it was packaged (more than 3 bytes)"},
		{5, "changed while it was packaged (4 bytes, 5 expected)"},
	} {
		f := &rpmFileEntry{name: "/usr/bin/grows", mode: 0o100755, src: src, size: c.listed}
		err := f.copyTo(&cpioWriter{w: io.Discard}, make([]byte, 16))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("listed at %d bytes: %v, want %q", c.listed, err, c.want)
		}
	}

	spec := fixtureSpec("rpm", t.TempDir())
	spec.Files = []PackageFile{{Src: src, Dst: "/usr/bin/grows", Mode: 0o755}}
	info, err := spec.nfpmInfo(t.TempDir(), spec.MTime)
	if err != nil {
		t.Fatal(err)
	}
	naming, _ := nfpm.Get("rpm")
	tmp := t.TempDir()
	if err := (rpmWriter{naming: naming, tempDir: tmp}).Package(nfpm.WithDefaults(info), io.Discard); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left in %s: %v", tmp, left)
	}
}

// TestRPMLargeSizeTags: sizes past 32 bits go into rpm's 64-bit tags
// (LONGSIZE, LONGSIGSIZE, LONGARCHIVESIZE), as rpmbuild writes them, in
// place of the 32-bit ones rpmpack wrote (and would have truncated);
// smaller ones keep rpmpack's 32-bit tags. A payload that large cannot be
// written in a test, so the header entries are checked.
func TestRPMLargeSizeTags(t *testing.T) {
	meta := rpmMetaData{Name: "x", Version: "1", Release: "1", Compressor: "xz", BuildTime: fixtureMTime}
	tmp, err := os.CreateTemp(t.TempDir(), "payload")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	for _, c := range []struct {
		pay             rpmPayload
		main, sigs      []int // tags that must be there
		notMain, notSig []int
	}{
		{rpmPayload{size: 1 << 20, fileBytes: 4<<30 - 2048, archiveBytes: 4<<30 - 1}, []int{rpmtag.Size}, []int{rpmtag.SigSize, rpmtag.SigPayloadSize},
			[]int{rpmtag.LongSize}, []int{rpmtag.SigLongSize, rpmtag.SigLongArchiveSize}},
		{rpmPayload{size: 5 << 30, fileBytes: 6 << 30, archiveBytes: 6<<30 + 4096}, []int{rpmtag.LongSize}, []int{rpmtag.SigLongSize, rpmtag.SigLongArchiveSize},
			[]int{rpmtag.Size}, []int{rpmtag.SigSize, rpmtag.SigPayloadSize}},
	} {
		h := rpmMainHeader(&meta, nil, nil, &c.pay, nil)
		hb, err := h.bytes()
		if err != nil {
			t.Fatal(err)
		}
		sb, err := rpmSignatureHeader(hb, &c.pay, tmp, nil)
		if err != nil {
			t.Fatal(err)
		}
		tags := func(b []byte) map[int]int { // tag -> type
			m := map[int]int{}
			n := int(binary.BigEndian.Uint32(b[8:12]))
			for i := 0; i < n; i++ {
				e := b[16+16*i:]
				m[int(binary.BigEndian.Uint32(e[0:4]))] = int(binary.BigEndian.Uint32(e[4:8]))
			}
			return m
		}
		for _, set := range []struct {
			got       map[int]int
			want, not []int
		}{{tags(hb), c.main, c.notMain}, {tags(sb), c.sigs, c.notSig}} {
			for _, tag := range set.want {
				typ, ok := set.got[tag]
				long := tag == rpmtag.LongSize || tag == rpmtag.SigLongSize || tag == rpmtag.SigLongArchiveSize
				if !ok || (long && typ != rpmtag.TypeInt64) || (!long && typ != rpmtag.TypeInt32) {
					t.Errorf("payload %+v: tag %d: type %d (present %v)", c.pay, tag, typ, ok)
				}
			}
			for _, tag := range set.not {
				if _, ok := set.got[tag]; ok {
					t.Errorf("payload %+v: tag %d is there", c.pay, tag)
				}
			}
		}
	}
}

// withPayloadSizeOf returns old with its signature header's PAYLOADSIZE
// value replaced by the one in ref (the two headers have the same tags, so
// the value sits at the same offset in both).
func withPayloadSizeOf(t *testing.T, old, ref []byte) []byte {
	t.Helper()
	const lead = 96
	find := func(b []byte) int {
		if len(b) < lead+16 {
			t.Fatalf("an rpm of %d bytes", len(b))
		}
		n := int(binary.BigEndian.Uint32(b[lead+8 : lead+12]))
		store := lead + 16 + 16*n
		for i := 0; i < n; i++ {
			e := b[lead+16+16*i:]
			if binary.BigEndian.Uint32(e[0:4]) == rpmtag.SigPayloadSize {
				return store + int(binary.BigEndian.Uint32(e[8:12]))
			}
		}
		t.Fatal("no PAYLOADSIZE in the signature header")
		return 0
	}
	at, refAt := find(old), find(ref)
	if at != refAt {
		t.Fatalf("PAYLOADSIZE at byte %d in rpmpack's rpm, %d in relpack's", at, refAt)
	}
	out := bytes.Clone(old)
	copy(out[at:at+4], ref[at:at+4])
	return out
}
