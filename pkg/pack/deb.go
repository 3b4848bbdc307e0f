package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
)

// debWriter writes deb packages itself, byte for byte as nfpm v2.45.2's
// deb packager would (same ar members and headers, control file, tar
// headers, compressors and settings), but for Installed-Size, which is
// dpkg-gencontrol's (see installedKiB; nfpm writes the sum of the regular
// files' sizes in bytes divided by 1024, rounded down), and with two
// differences that do not change the bytes of a package whose data member
// is at most 8 MiB:
//
//   - the data member is streamed to a file (never held in memory) and,
//     given a PayloadCache, compressed once for every package of the build
//     holding the same files: the control member (Depends, Description,
//     scripts) is per package, the data member shared;
//   - xz is written in 8 MiB blocks, zstd in 8 MiB frames, compressed on
//     every core, and shared through the cache between packages whose data
//     members begin with the same bytes (see chunkedWriter).
//
// File naming stays nfpm's (naming).
type debWriter struct {
	naming  nfpm.Packager
	cache   *PayloadCache
	tempDir string // for the data member when there is no cache
	// ddeb writes a dbgsym package's control file (see ddebControl).
	ddeb bool
}

func (w debWriter) ConventionalFileName(info *nfpm.Info) string {
	return w.naming.ConventionalFileName(info)
}

// debArch is nfpm's map of GOARCH names to Debian's.
var debArch = map[string]string{
	"386": "i386", "arm64": "arm64", "arm5": "armel", "arm6": "armhf", "arm7": "armhf",
	"mips64le": "mips64el", "mipsle": "mipsel", "ppc64le": "ppc64el", "s390": "s390x",
	"x86_64": "amd64", "aarch64": "arm64",
}

// Package writes the deb of info to out.
func (w debWriter) Package(info *nfpm.Info, out io.Writer) error {
	if err := debUnsupported(info); err != nil {
		return err
	}
	if info.Deb.Arch != "" {
		info.Arch = info.Deb.Arch
	} else if a, ok := debArch[info.Arch]; ok {
		info.Arch = a
	}
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return err
	}
	if info.MTime.IsZero() {
		return errors.New("deb: no MTime; the clock would be written")
	}
	cache, done, err := w.payloadCache()
	if err != nil {
		return err
	}
	defer done()
	data, err := debDataMember(info, cache)
	if err != nil {
		return err
	}
	control, err := debControlTar(info, data, w.ddeb)
	if err != nil {
		return fmt.Errorf("deb: control member: %w", err)
	}
	return writeDeb(out, info, control, data)
}

// payloadCache is the cache the data member is written through: the
// build's, or one in a temporary folder for this package alone, which
// done removes.
func (w debWriter) payloadCache() (cache *PayloadCache, done func(), err error) {
	if w.cache != nil {
		return w.cache, func() {}, nil
	}
	dir, err := os.MkdirTemp(w.tempDir, "relpack-deb-*")
	if err != nil {
		return nil, nil, err
	}
	return NewPayloadCache(dir), func() { os.RemoveAll(dir) }, nil
}

// debDataMember is the data member of info's contents, from cache or
// compressed into it.
func debDataMember(info *nfpm.Info, cache *PayloadCache) (*debPayload, error) {
	compression := orDefault(info.Deb.Compression, "gzip")
	key, err := payloadKey(info.Contents, info.MTime, compression)
	if err != nil {
		return nil, fmt.Errorf("deb: %w", err)
	}
	data, err := cache.get(key, func(f *os.File, p *debPayload) error {
		bw := bufio.NewWriterSize(f, writeBufSize)
		if err := writeDebData(info.Contents, info.MTime, compression, bw, p, cache); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return nil, fmt.Errorf("deb: data member: %w", err)
	}
	return data, nil
}

// debianBinary is the body of the debian-binary member: format 2.0.
const debianBinary = "2.0\n"

// writeDeb writes the ar archive to out: debian-binary, the control
// member, the data member read from its file and, when info is signed,
// the debsigs signature member.
func writeDeb(out io.Writer, info *nfpm.Info, control []byte, data *debPayload) error {
	mtime := info.MTime
	df, err := os.Open(data.path)
	if err != nil {
		return err
	}
	defer df.Close()
	st, err := df.Stat()
	if err != nil {
		return err
	}

	if _, err := io.WriteString(out, "!<arch>\n"); err != nil {
		return err
	}
	if err := arMember(out, "debian-binary", strings.NewReader(debianBinary), int64(len(debianBinary)), mtime); err != nil {
		return err
	}
	if err := arMember(out, "control.tar.gz", bytes.NewReader(control), int64(len(control)), mtime); err != nil {
		return err
	}
	if err := arMember(out, data.name, df, st.Size(), mtime); err != nil {
		return err
	}
	if fn := info.Deb.Signature.SignFn; fn != nil {
		return debSignatureMember(out, info, control, data, fn)
	}
	return nil
}

// debSignatureMember writes the debsigs member: a detached signature by
// sign of the three members' contents, the data member read back from
// its file.
func debSignatureMember(out io.Writer, info *nfpm.Info, control []byte, data *debPayload, sign func(io.Reader) ([]byte, error)) error {
	sf, err := os.Open(data.path)
	if err != nil {
		return err
	}
	defer sf.Close()
	sig, err := sign(io.MultiReader(strings.NewReader(debianBinary), bytes.NewReader(control), bufio.NewReaderSize(sf, 1<<20)))
	if err != nil {
		return &nfpm.ErrSigningFailure{Err: err}
	}
	return arMember(out, "_gpg"+orDefault(info.Deb.Signature.Type, "origin"), bytes.NewReader(sig), int64(len(sig)), info.MTime)
}

// debUnsupported reports the nfpm.Info fields relpack's deb writer does not
// write (relpack never sets them), so none is dropped silently.
func debUnsupported(info *nfpm.Info) error {
	switch {
	case info.Changelog != "":
		return errors.New("deb: Info.Changelog is not supported; relpack adds changelog.Debian.gz as a file")
	case info.Deb.Signature.KeyFile != "":
		return errors.New("deb: key files are not supported; sign with PackageSpec.Signing")
	case info.Deb.Signature.Method != "" && info.Deb.Signature.Method != "debsign":
		return fmt.Errorf("deb: signature method %q is not supported (debsigs only)", info.Deb.Signature.Method)
	case !contains([]string{"", "origin", "maint", "archive"}, info.Deb.Signature.Type):
		return fmt.Errorf("deb: signature type %q is not one of origin, maint, archive", info.Deb.Signature.Type)
	case info.Deb.Scripts.Rules+info.Deb.Scripts.Templates+info.Deb.Scripts.Config != "":
		return errors.New("deb: rules, templates and config scripts are not supported by relpack's deb writer")
	}
	t := info.Deb.Triggers
	if len(t.Interest)+len(t.InterestAwait)+len(t.InterestNoAwait)+len(t.Activate)+len(t.ActivateAwait)+len(t.ActivateNoAwait) > 0 {
		return errors.New("deb: triggers are not supported by relpack's deb writer")
	}
	return nil
}

// arMember writes one ar member as blakesmith/ar (nfpm's) writes it:
// name, mtime, uid 0, gid 0, mode 100644, size, then the body and a newline
// when the size is odd.
func arMember(w io.Writer, name string, body io.Reader, size int64, mtime time.Time) error {
	hdr := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, mtime.Unix(), 0, 0, "100644", size)
	if len(hdr) != 60 {
		return fmt.Errorf("ar member %s: header does not fit", name)
	}
	if _, err := io.WriteString(w, hdr); err != nil {
		return err
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return fmt.Errorf("ar member %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("ar member %s: %d bytes, %d expected", name, n, size)
	}
	if size%2 == 1 {
		_, err = w.Write([]byte{'\n'})
	}
	return err
}

// debControlTar is control.tar.gz as nfpm writes it: gzip at the default
// level, GNU tar entries ./control, ./md5sums, ./conffiles (if any), then
// the maintainer scripts in name order, each at the package mtime.
func debControlTar(info *nfpm.Info, data *debPayload, ddeb bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	var body bytes.Buffer
	tpl := debControlTemplate
	if ddeb {
		tpl = ddebControlTemplate
	}
	if err := tpl.Execute(&body, debControlData{Info: info, InstalledSize: data.installedKiB}); err != nil {
		return nil, err
	}
	add := func(name string, content []byte, mode int64) error {
		h := &tar.Header{
			Name: files.AsExplicitRelativePath(name), Size: int64(len(content)), Mode: mode,
			ModTime: info.MTime, Typeflag: tar.TypeReg, Format: tar.FormatGNU,
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(content)
		return err
	}
	if err := add("./control", body.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := add("./md5sums", data.md5sums, 0o644); err != nil {
		return nil, err
	}
	var confs []string
	for _, c := range info.Contents {
		switch c.Type {
		case files.TypeConfig, files.TypeConfigNoReplace, files.TypeConfigMissingOK:
			confs = append(confs, files.NormalizeAbsoluteFilePath(c.Destination))
		}
	}
	if len(confs) > 0 {
		if err := add("./conffiles", []byte(strings.Join(confs, "\n")+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct{ name, file string }{ // sorted by name, as nfpm writes them
		{"postinst", info.Scripts.PostInstall},
		{"postrm", info.Scripts.PostRemove},
		{"preinst", info.Scripts.PreInstall},
		{"prerm", info.Scripts.PreRemove},
	} {
		if s.file == "" {
			continue
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			return nil, fmt.Errorf("%s script: %w", s.name, err)
		}
		if err := add(s.name, b, 0o755); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type debControlData struct {
	Info          *nfpm.Info
	InstalledSize int64
}

// ddebControlTemplate is the control file of a dbgsym package as
// debhelper's dh_gencontrol has dpkg-gencontrol write it (debhelper 13,
// dh_gencontrol: -DPackage=NAME-dbgsym -DAuto-Built-Package=debug-symbols
// -DDepends="NAME (= ${binary:Version})" -DSection=debug
// -DPriority=optional -DDescription="debug symbols for NAME" -DBuild-Ids=...,
// with Homepage, Provides and the other relations unset), in dpkg's field
// order for a binary package (Dpkg::Control::FieldsCore): Package, Source
// (dpkg-gencontrol writes it when the source package's name is not the
// binary's, as for every dbgsym; relpack's source is the main package),
// Version, Auto-Built-Package, Architecture, Maintainer, Installed-Size,
// Depends, Section, Priority, Description, then Build-Ids, a field dpkg
// does not order, last.
var ddebControlTemplate = template.Must(template.New("ddeb-control").Funcs(template.FuncMap{
	"join": func(strs []string) string { return strings.Join(strs, ", ") },
}).Parse(`Package: {{.Info.Name}}
Source: {{index .Info.Deb.Fields "Source"}}
Version: {{ if .Info.Epoch}}{{ .Info.Epoch }}:{{ end }}{{.Info.Version}}
         {{- if .Info.Prerelease}}~{{ .Info.Prerelease }}{{- end }}
         {{- if .Info.VersionMetadata}}+{{ .Info.VersionMetadata }}{{- end }}
         {{- if .Info.Release}}-{{ .Info.Release }}{{- end }}
Auto-Built-Package: {{index .Info.Deb.Fields "Auto-Built-Package"}}
Architecture: {{.Info.Arch}}
Maintainer: {{.Info.Maintainer}}
Installed-Size: {{.InstalledSize}}
{{- with .Info.Depends}}
Depends: {{join .}}
{{- end }}
Section: {{.Info.Section}}
Priority: {{.Info.Priority}}
Description: {{.Info.Description}}
Build-Ids: {{index .Info.Deb.Fields "Build-Ids"}}
`))

// debControlTemplate is nfpm v2.45.2's control file template (deb/deb.go,
// MIT licence), unchanged, so the control file is the one nfpm wrote.
var debControlTemplate = template.Must(template.New("control").Funcs(template.FuncMap{
	"join": func(strs []string) string {
		return strings.Trim(strings.Join(strs, ", "), " ")
	},
	"multiline": func(strs string) string {
		var b strings.Builder
		s := bufio.NewScanner(strings.NewReader(strings.TrimSpace(strs)))
		s.Scan()
		b.Write(bytes.TrimSpace(s.Bytes()))
		for s.Scan() {
			b.WriteString("\n ")
			l := bytes.TrimSpace(s.Bytes())
			if len(l) == 0 {
				b.WriteByte('.')
			} else {
				b.Write(l)
			}
		}
		return b.String()
	},
	"nonEmpty": func(strs []string) []string {
		var result []string
		for _, s := range strs {
			s := strings.TrimSpace(s)
			if s == "" {
				continue
			}
			result = append(result, s)
		}
		return result
	},
}).Parse(`
{{- /* Mandatory fields */ -}}
Package: {{.Info.Name}}
Version: {{ if .Info.Epoch}}{{ .Info.Epoch }}:{{ end }}{{.Info.Version}}
         {{- if .Info.Prerelease}}~{{ .Info.Prerelease }}{{- end }}
         {{- if .Info.VersionMetadata}}+{{ .Info.VersionMetadata }}{{- end }}
         {{- if .Info.Release}}-{{ .Info.Release }}{{- end }}
Section: {{.Info.Section}}
Priority: {{.Info.Priority}}
Architecture: {{ if ne .Info.Platform "linux"}}{{ .Info.Platform }}-{{ end }}{{.Info.Arch}}
{{- /* Optional fields */ -}}
{{- if .Info.Deb.ArchVariant}}
Architecture-Variant: {{ .Info.Deb.ArchVariant }}
{{- end }}
{{- if .Info.Maintainer}}
Maintainer: {{.Info.Maintainer}}
{{- end }}
Installed-Size: {{.InstalledSize}}
{{- with .Info.Replaces}}
Replaces: {{join .}}
{{- end }}
{{- with nonEmpty .Info.Provides}}
Provides: {{join .}}
{{- end }}
{{- with .Info.Deb.Predepends}}
Pre-Depends: {{join .}}
{{- end }}
{{- with .Info.Depends}}
Depends: {{join .}}
{{- end }}
{{- with .Info.Recommends}}
Recommends: {{join .}}
{{- end }}
{{- with .Info.Suggests}}
Suggests: {{join .}}
{{- end }}
{{- with .Info.Conflicts}}
Conflicts: {{join .}}
{{- end }}
{{- with .Info.Deb.Breaks}}
Breaks: {{join .}}
{{- end }}
{{- if .Info.Homepage}}
Homepage: {{.Info.Homepage}}
{{- end }}
{{- /* Mandatory fields */}}
Description: {{multiline .Info.Description}}
{{- range $key, $value := .Info.Deb.Fields }}
{{- if $value }}
{{$key}}: {{$value}}
{{- end }}
{{- end }}
`))
