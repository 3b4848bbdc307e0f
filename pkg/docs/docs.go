// Package docs renders, from a release's manifest.json, the install docs
// (Markdown) and a POSIX sh installer, and checks committed docs against the
// manifest. Output is byte-stable: everything is sorted, nothing reads the
// clock or the environment.
package docs

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"relpack/internal/regular"
	"relpack/pkg/abi"
	"relpack/pkg/manifest"
	"relpack/templates"
)

// Sizes of what docs reads: a --template file and the file --check
// compares. Each is read through internal/regular, so a FIFO or device in
// their place is refused at once and a file past its limit is refused
// before it is read. The embedded templates are 2-6 KB and the docs they
// render of a large release tens of KB.
const (
	MaxTemplate = 1 << 20
	MaxChecked  = 16 << 20
)

// ReadTemplate reads a --template file of at most MaxTemplate bytes.
func ReadTemplate(path string) (string, error) {
	b, err := regular.ReadFile(path, MaxTemplate, "a template")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Template names in the embedded templates.FS.
const (
	MarkdownTemplate  = "install.md.tmpl"
	InstallerTemplate = "install.sh.tmpl"
)

// Markdown renders the install docs of m. tmpl is the template source; ""
// uses the embedded install.md.tmpl. The template receives a
// templates.InstallDoc.
func Markdown(m *manifest.Manifest, tmpl string) ([]byte, error) {
	d, err := Doc(m)
	if err != nil {
		return nil, err
	}
	return render(MarkdownTemplate, tmpl, d)
}

// Installer renders install.sh for m with the embedded template; baseURL is
// the script's default download location ("" makes it required at run
// time).
func Installer(m *manifest.Manifest, baseURL string) ([]byte, error) {
	return InstallerFrom(m, baseURL, "")
}

// InstallerFrom is Installer with a template source ("" = embedded). The
// template receives a templates.Installer.
func InstallerFrom(m *manifest.Manifest, baseURL, tmpl string) ([]byte, error) {
	d, err := InstallerData(m, baseURL)
	if err != nil {
		return nil, err
	}
	return render(InstallerTemplate, tmpl, d)
}

func render(name, src string, data any) ([]byte, error) {
	if src == "" {
		return templates.Render(name, data)
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(templates.Funcs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return b.Bytes(), nil
}

// Check compares the file at path with rendered. It returns "" when they
// are byte-identical, otherwise a unified diff from the file to rendered
// (what regenerating it would change). source names where rendered came
// from, for the diff header.
func Check(path, source string, rendered []byte) (string, error) {
	have, err := regular.ReadFile(path, MaxChecked, "a rendered doc")
	if err != nil {
		return "", fmt.Errorf("%s: cannot read the committed docs: %w", path, err)
	}
	if bytes.Equal(have, rendered) {
		return "", nil
	}
	return UnifiedDiff(path+" (committed)", path+" (from "+source+")", have, rendered), nil
}

// archRank orders architectures: x86_64, aarch64, then the rest by name.
func archRank(a string) string {
	switch a {
	case "x86_64":
		return "0"
	case "aarch64":
		return "1"
	}
	return "2" + a
}

// IsSidecar tells whether a tarball carries its Z3 library beside the
// binary: it has a manifest sidecar entry (or z3 "sidecar"), is named
// *-z3.tar.gz, or holds files under lib/.
func IsSidecar(a manifest.Artifact) bool {
	if a.Kind != "tarball" || a.Libc == "musl" {
		return false
	}
	if a.Sidecar != nil || a.Z3 == "sidecar" || strings.HasSuffix(a.File, "-z3.tar.gz") {
		return true
	}
	for _, c := range a.Contents {
		if strings.HasPrefix(c, "lib/") && c != "lib/" {
			return true
		}
	}
	return false
}

// flavour classifies a tarball: "gnu", "gnu+sidecar" or "musl static".
func flavour(a manifest.Artifact) string {
	switch {
	case a.Libc == "musl":
		return "musl static"
	case IsSidecar(a):
		return "gnu+sidecar"
	}
	return "gnu"
}

var flavourRank = map[string]int{"gnu": 0, "gnu+sidecar": 1, "musl static": 2}

// relationName is the package (or capability) a relation names:
// "libc6 (>= 2.28)" -> "libc6", "glibc >= 2.28" -> "glibc".
func relationName(r string) string {
	r = strings.TrimSpace(r)
	if i := strings.IndexAny(r, " (<>="); i >= 0 {
		r = r[:i]
	}
	return r
}

// z3Packages lists the distro package a package pulls in for Z3
// (manifest z3_package: "libz3-4", "z3-libs"), if any.
func z3Packages(a manifest.Artifact) []string {
	if a.Z3Package == "" {
		return nil
	}
	return []string{a.Z3Package}
}

// staticLibc reports whether an artifact of libc needs no C library of
// the host: a static musl build (a package of one claims no glibc), or one
// with no libc at all.
func staticLibc(libc abi.Libc) bool { return libc == abi.LibcMusl || libc == abi.LibcNone }

// libcRelation is the relation on the C library package, if any.
func libcRelation(rels []string) string {
	for _, r := range rels {
		switch relationName(r) {
		case "libc6", "glibc", "libc":
			if strings.ContainsAny(r, "<>=") {
				return strings.TrimSpace(r)
			}
		}
	}
	return ""
}

// installCommand is the sh line that installs a package file. The file
// name is validated before it gets here; it is quoted anyway, so a name
// that slipped through stays one word and never runs.
func installCommand(format, file string) string {
	arg := templates.ShellQuote("./" + file)
	switch format {
	case "deb":
		return "sudo apt install " + arg
	case "rpm":
		return "sudo dnf install " + arg
	case "apk":
		return "sudo apk add --allow-untrusted " + arg
	}
	return "# install " + templates.ShellComment(file) + " with the distro's package manager"
}

func addUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Doc computes the data of the install docs from m, after checking every
// field against its grammar (manifest.Validate): the manifest is input
// others can change, and its strings end up in Markdown and sh.
func Doc(m *manifest.Manifest) (templates.InstallDoc, error) {
	if m == nil {
		return templates.InstallDoc{}, fmt.Errorf("no manifest")
	}
	if err := m.Validate(); err != nil {
		return templates.InstallDoc{}, err
	}
	if m.Partial {
		// Install docs of part of a release would send users to
		// artifacts that are not there, or leave some out.
		return templates.InstallDoc{}, fmt.Errorf("manifest.json is a partial release (relpack build --only %s); join the partials with `relpack merge DIR... --out DIR` and render the docs from the merged manifest", strings.Join(m.Selectors, " --only "))
	}
	return doc(m)
}

// doc is Doc without the validation: the tests use it to prove that the
// templates' quoting holds on its own. It reads as its steps: the
// release's own fields, the distro targets with their packages, the
// artifacts and tarballs, each list sorted.
func doc(m *manifest.Manifest) (templates.InstallDoc, error) {
	d := docHeader(m)
	z3, err := docDistros(&d, m)
	if err != nil {
		return d, err
	}
	tidyDistros(&d)
	docArtifacts(&d, m, z3)
	if d.HasMusl {
		all, musl := releaseArches(m, false), releaseArches(m, true)
		if len(musl) < len(all) {
			d.MuslOnly = strings.Join(musl, ", ")
		}
	}
	sortTarballs(d.Tarballs)
	sort.Slice(d.Artifacts, func(i, j int) bool { return d.Artifacts[i].File < d.Artifacts[j].File })
	d.Debug = docDebug(m)
	return d, nil
}

// docDebug is how users of the release get its debug symbols: the debug
// packages (from a repository, or the file) and the debug tarballs (into
// /usr/lib/debug), each for one binary and found by its build-id; nil
// when the release has none. File names are validated; the install lines
// quote them anyway.
func docDebug(m *manifest.Manifest) *templates.DocDebug {
	dd := &templates.DocDebug{Binary: `"$(command -v ` + templates.ShellQuote(m.Product) + `)"`}
	for _, a := range m.Artifacts {
		if !manifest.IsDebug(a.Kind) {
			continue
		}
		f := templates.DocDebugFile{File: a.File, Kind: a.Kind, Arch: a.Arch, Distro: a.Distro, For: a.DebugFor, BuildID: a.BuildID, SHA256: a.SHA256}
		switch a.Kind {
		case manifest.KindDdeb:
			dd.Ddeb = m.Product + "-dbgsym"
			dd.AptCommand = "sudo apt-get install " + templates.ShellQuote(dd.Ddeb)
			f.Install = installCommand("deb", a.File)
			dd.Packages = append(dd.Packages, f)
		case manifest.KindDebuginfo:
			dd.Debuginfo = m.Product + "-debuginfo"
			dd.DnfCommand = "sudo dnf --enablerepo=" + templates.ShellQuote(m.Product+"-debuginfo") + " install " + templates.ShellQuote(dd.Debuginfo)
			f.Install = installCommand("rpm", a.File)
			dd.Packages = append(dd.Packages, f)
		default:
			f.Install = "sudo tar -xzf " + templates.ShellQuote("./"+a.File) + " -C /usr/lib/debug"
			dd.Tarballs = append(dd.Tarballs, f)
		}
	}
	if len(dd.Packages) == 0 && len(dd.Tarballs) == 0 {
		return nil
	}
	sort.Slice(dd.Packages, func(i, j int) bool { return dd.Packages[i].File < dd.Packages[j].File })
	sort.Slice(dd.Tarballs, func(i, j int) bool { return dd.Tarballs[i].File < dd.Tarballs[j].File })
	return dd
}

// docHeader is the install docs' view of the release as a whole: product
// fields, the glibc floor and its other symbol families, whether there
// are deb or rpm packages, and the service they install.
func docHeader(m *manifest.Manifest) templates.InstallDoc {
	d := templates.InstallDoc{
		Product: m.Product, Summary: strings.TrimSuffix(strings.TrimSpace(m.Summary), "."),
		Version: m.Version, Homepage: m.Homepage, License: m.License,
		Floor: m.Floor.Glibc, Policy: m.Floor.Policy,
		Covers: append([]string(nil), m.Floor.Covers...),
	}
	if d.Policy == "" {
		d.Policy = "glibc-" + d.Floor
	}
	for fam, v := range m.Floor.Families {
		if fam == "GLIBC" {
			continue
		}
		d.Families = append(d.Families, templates.DocFamily{Family: fam, Version: v})
	}
	sort.Slice(d.Families, func(i, j int) bool { return d.Families[i].Family < d.Families[j].Family })
	d.AllStatic = len(m.Artifacts) > 0
	for _, a := range m.Artifacts {
		d.HasDeb = d.HasDeb || a.Kind == "deb"
		d.HasRPM = d.HasRPM || a.Kind == "rpm"
		static := staticLibc(a.Libc)
		d.StaticPackages = d.StaticPackages || (static && (a.Kind == "deb" || a.Kind == "rpm"))
		d.AllStatic = d.AllStatic && (static || manifest.IsDebug(a.Kind))
	}
	// A release of static tarballs alone keeps the text it always had.
	d.AllStatic = d.AllStatic && d.StaticPackages
	if sv := m.Service; sv != nil && (d.HasDeb || d.HasRPM) {
		d.Service = &templates.DocService{Unit: sv.Unit, User: sv.Scope == "user", Enable: sv.Enable, RestartOnUpgrade: sv.RestartOnUpgrade}
	}
	return d
}

// z3Key is a Z3 library: its soname on one arch.
type z3Key struct{ arch, so string }

// z3Index records which distro packages load and provide each Z3
// library, to tell a tarball user what to install.
type z3Index struct {
	providers map[z3Key]map[string][]string // -> package -> distro ids
	sonames   map[z3Key][]string            // -> distro ids whose packages load it
}

// add records package a's Z3 library and the distro packages (z3) that
// provide it.
func (x z3Index) add(a manifest.Artifact, z3 []string) {
	if a.Z3So == "" {
		return
	}
	k := z3Key{a.Arch, a.Z3So}
	x.sonames[k] = addUnique(x.sonames[k], a.Distro)
	if x.providers[k] == nil {
		x.providers[k] = map[string][]string{}
	}
	for _, p := range z3 {
		x.providers[k][p] = addUnique(x.providers[k][p], a.Distro)
	}
}

// docDistros adds m's distro targets to d, each with its packages, and
// returns the Z3 libraries the packages load. A package naming a distro
// the manifest does not list is refused.
func docDistros(d *templates.InstallDoc, m *manifest.Manifest) (z3Index, error) {
	x := z3Index{providers: map[z3Key]map[string][]string{}, sonames: map[z3Key][]string{}}
	byID := map[string]int{}
	for _, ds := range m.Distros {
		byID[ds.ID] = len(d.Distros)
		d.Distros = append(d.Distros, templates.DocDistro{ID: ds.ID, Name: ds.Name, Format: ds.Format, Glibc: ds.Glibc, Support: docSupport(ds.Support, m.SourceDateEpoch)})
	}
	for _, a := range m.Artifacts {
		if a.Kind == "tarball" || a.Distro == "" || manifest.IsDebug(a.Kind) {
			continue // debug packages have their own section (docDebug)
		}
		i, ok := byID[a.Distro]
		if !ok {
			return x, fmt.Errorf("manifest: artifact %s names distro %q, which is not in the manifest's distros", a.File, a.Distro)
		}
		z3 := z3Packages(a)
		addPackage(&d.Distros[i], a, z3)
		x.add(a, z3)
	}
	return x, nil
}

// addPackage adds package a to its distro target ds: the package's row,
// and what the first package to say so tells of the distro (format, Z3
// mode and private path, C library relation); the Z3 packages (z3) and
// add-on repositories of every package.
func addPackage(ds *templates.DocDistro, a manifest.Artifact, z3 []string) {
	if ds.Format == "" {
		ds.Format = a.Kind
	}
	rels := append([]string(nil), a.Relations...)
	ds.Packages = append(ds.Packages, templates.DocPackage{
		Arch: a.Arch, File: a.File, Install: installCommand(a.Kind, a.File),
		Relations: rels, Version: a.PackageVersion, Static: staticLibc(a.Libc),
	})
	for _, p := range z3 {
		ds.Z3Packages = addUnique(ds.Z3Packages, p)
	}
	if ds.Z3 == "" {
		ds.Z3 = a.Z3
	}
	if a.Z3 == "private" && a.Sidecar != nil && ds.Z3Private == "" {
		ds.Z3Private = "/" + strings.TrimPrefix(a.Sidecar.Path, "/")
	}
	if ds.LibcRelation == "" {
		ds.LibcRelation = libcRelation(a.Relations)
	}
	ds.AddOns = addAddOns(ds.AddOns, a.Repositories)
}

// tidyDistros sorts each distro's packages (x86_64 first) and Z3
// packages, drops the distro targets with no package in this release
// (they say nothing useful) and sorts the rest by id.
func tidyDistros(d *templates.InstallDoc) {
	for i := range d.Distros {
		ds := &d.Distros[i]
		sort.Slice(ds.Packages, func(a, b int) bool {
			pa, pb := ds.Packages[a], ds.Packages[b]
			if archRank(pa.Arch) != archRank(pb.Arch) {
				return archRank(pa.Arch) < archRank(pb.Arch)
			}
			return pa.File < pb.File
		})
		sort.Strings(ds.Z3Packages)
		var static []string
		for _, p := range ds.Packages {
			if p.Static {
				static = append(static, p.Arch)
			}
		}
		ds.StaticArches = strings.Join(static, ", ")
	}
	kept := d.Distros[:0]
	for _, ds := range d.Distros {
		if len(ds.Packages) > 0 {
			kept = append(kept, ds)
		}
	}
	d.Distros = kept
	sort.Slice(d.Distros, func(i, j int) bool { return d.Distros[i].ID < d.Distros[j].ID })
}

// docArtifacts adds every artifact's row to d, and each tarball's
// description (docTarball), noting which flavours the release has.
func docArtifacts(d *templates.InstallDoc, m *manifest.Manifest, z3 z3Index) {
	for _, a := range m.Artifacts {
		d.Artifacts = append(d.Artifacts, templates.DocArtifact{
			File: a.File, Kind: a.Kind, Arch: a.Arch, Libc: string(a.Libc), Distro: a.Distro,
			Size: a.Size, SHA256: a.SHA256,
		})
		if a.Kind != "tarball" {
			continue
		}
		t := docTarball(a, m.Floor.Glibc, z3)
		switch t.Flavour {
		case "gnu":
			d.HasGnuTarball = true
		case "gnu+sidecar":
			d.HasSidecar = true
		case "musl static":
			d.HasMusl = true
		}
		d.Tarballs = append(d.Tarballs, t)
	}
}

// docTarball describes tarball a: its flavour, its glibc floor (the
// release's, floor, unless it records its own), its sidecar library, and
// for a plain gnu one which distro packages provide the Z3 library it
// loads.
func docTarball(a manifest.Artifact, floor string, z3 z3Index) templates.DocTarball {
	t := templates.DocTarball{
		File: a.File, Arch: a.Arch, Triple: a.Triple, Libc: string(a.Libc),
		Flavour: flavour(a), Floor: a.Floor, Z3: a.Z3, Z3So: a.Z3So,
		Contents: append([]string(nil), a.Contents...),
	}
	if t.Floor == "" && t.Flavour != "musl static" {
		t.Floor = floor
	}
	if t.Flavour == "gnu+sidecar" {
		t.SidecarPath = "lib/" + a.Z3So
		if a.Sidecar != nil {
			t.SidecarPath = a.Sidecar.Path
			if a.Sidecar.Soname != "" {
				t.Z3So = a.Sidecar.Soname
			}
		}
		t.Runpath = a.Runpath
	}
	if t.Flavour == "gnu" && a.Z3So != "" {
		t.Z3Providers, t.Z3Elsewhere = z3.hints(a.Arch, a.Z3So)
	}
	return t
}

// hints tells the user of a gnu tarball loading soname so on arch which
// distro packages provide it (Markdown, "`pkg` (ids)"), and which distro
// targets' packages load another Z3 soname on that arch, both sorted.
func (x z3Index) hints(arch, so string) (providers, elsewhere []string) {
	ps := x.providers[z3Key{arch, so}]
	for _, p := range slices.Sorted(maps.Keys(ps)) {
		ids := append([]string(nil), ps[p]...)
		sort.Strings(ids)
		providers = append(providers, templates.CodeSpan(p)+" ("+templates.MarkdownText(strings.Join(ids, ", "))+")")
	}
	for k, ids := range x.sonames {
		if k.arch != arch || k.so == so {
			continue
		}
		for _, id := range ids {
			elsewhere = addUnique(elsewhere, id)
		}
	}
	sort.Strings(elsewhere)
	return providers, elsewhere
}

// sortTarballs orders tarballs: x86_64 first, then by flavour (gnu,
// gnu+sidecar, musl static), then by file.
func sortTarballs(ts []templates.DocTarball) {
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if archRank(a.Arch) != archRank(b.Arch) {
			return archRank(a.Arch) < archRank(b.Arch)
		}
		if flavourRank[a.Flavour] != flavourRank[b.Flavour] {
			return flavourRank[a.Flavour] < flavourRank[b.Flavour]
		}
		return a.File < b.File
	})
}

// releaseArches lists the architectures of the release's artifacts (only
// the static musl tarballs' with musl), x86_64 first.
func releaseArches(m *manifest.Manifest, musl bool) []string {
	var out []string
	for _, a := range m.Artifacts {
		if musl && !(a.Kind == "tarball" && a.Libc == "musl") {
			continue
		}
		out = addUnique(out, a.Arch)
	}
	sort.Slice(out, func(i, j int) bool { return archRank(out[i]) < archRank(out[j]) })
	return out
}

// safeURL is what --base-url may be: the installer writes it into single
// quotes and the download URLs.
var safeURL = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[^\s'"\\` + "`" + `$]+$`)

// InstallerData computes the data of install.sh from m, after checking
// every field against its grammar (manifest.Validate) and baseURL.
func InstallerData(m *manifest.Manifest, baseURL string) (templates.Installer, error) {
	if m == nil {
		return templates.Installer{}, fmt.Errorf("no manifest")
	}
	baseURL = strings.TrimRight(baseURL, "/")
	if baseURL != "" && !safeURL.MatchString(baseURL) {
		return templates.Installer{}, fmt.Errorf("--base-url %q: give an absolute URL such as https://example.com/releases/v1.2.3, without spaces, quotes, backslashes or $", baseURL)
	}
	if err := m.Validate(); err != nil {
		return templates.Installer{}, err
	}
	if m.Partial {
		return templates.Installer{}, fmt.Errorf("manifest.json is a partial release (relpack build --only %s); join the partials with `relpack merge DIR... --out DIR` and render the installer from the merged manifest", strings.Join(m.Selectors, " --only "))
	}
	return installerData(m, baseURL)
}

// installerData is InstallerData without the checks of strings (the
// template quotes them as well; the tests prove it with this); it still
// refuses a manifest whose packages do not fit its distros.
func installerData(m *manifest.Manifest, baseURL string) (templates.Installer, error) {
	d := templates.Installer{Product: m.Product, Version: m.Version, Floor: m.Floor.Glibc, BaseURL: baseURL}
	formats := map[string]string{}
	var ids []string
	for _, ds := range m.Distros {
		formats[ds.ID] = ds.Format
		ids = append(ids, ds.ID)
	}
	sort.Strings(ids)
	d.DistroIDs = strings.Join(ids, " ")
	d.Arches = strings.Join(releaseArches(m, false), " ")
	d.HasMusl = len(releaseArches(m, true)) > 0
	addOns := map[string][]templates.DocAddOn{}
	for _, a := range m.Artifacts {
		r := templates.InstallerRow{Arch: a.Arch, Distro: "-", Floor: a.Floor, SHA256: a.SHA256, File: a.File}
		if r.Floor == "" && a.Libc != "musl" {
			r.Floor = d.Floor
		}
		if r.Floor == "" {
			r.Floor = "-"
		}
		switch a.Kind {
		case "deb", "rpm":
			if a.Distro == "" {
				return d, fmt.Errorf("manifest: package %s names no distro target", a.File)
			}
			if f, ok := formats[a.Distro]; !ok {
				return d, fmt.Errorf("manifest: artifact %s names distro %q, which is not in the manifest's distros", a.File, a.Distro)
			} else if f != "" && f != a.Kind {
				return d, fmt.Errorf("manifest: artifact %s is a %s but distro %s is %s", a.File, a.Kind, a.Distro, f)
			}
			r.Kind, r.Distro = a.Kind, a.Distro
			addOns[a.Distro] = addAddOns(addOns[a.Distro], a.Repositories)
		case "tarball": // never a debug tarball: install.sh installs no debug symbols
			switch flavour(a) {
			case "musl static":
				r.Kind = "musl"
			case "gnu+sidecar":
				r.Kind = "sidecar"
			default:
				r.Kind = "gnu"
			}
		default:
			continue // a format the installer cannot install (apk, ...)
		}
		d.Rows = append(d.Rows, r)
	}
	for _, id := range slices.Sorted(maps.Keys(addOns)) {
		for _, a := range addOns[id] {
			d.AddOns = append(d.AddOns, templates.InstallerAddOn{Distro: id, Name: a.Name, Enable: a.Enable, Packages: strings.Join(a.Packages, ", ")})
		}
	}
	kindRank := map[string]int{"deb": 0, "rpm": 1, "gnu": 2, "sidecar": 3, "musl": 4}
	sort.Slice(d.Rows, func(i, j int) bool {
		a, b := d.Rows[i], d.Rows[j]
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		if a.Distro != b.Distro {
			return a.Distro < b.Distro
		}
		if archRank(a.Arch) != archRank(b.Arch) {
			return archRank(a.Arch) < archRank(b.Arch)
		}
		return a.File < b.File
	})
	return d, nil
}

// docSupport is the install docs' view of a support window.
func docSupport(s *manifest.Support, epoch int64) *templates.DocSupport {
	if s == nil {
		return nil
	}
	ds := &templates.DocSupport{Regular: s.Regular, End: s.End, Kind: s.Kind}
	if ds.Kind == "" {
		ds.Kind = "support"
	}
	ds.Ended = s.Ended
	if end, err := time.Parse(time.DateOnly, s.End); err == nil {
		ds.EndedBeforeRelease = time.Unix(epoch, 0).UTC().After(end.Add(24 * time.Hour))
	}
	return ds
}

// addAddOns merges a package's add-on repositories into a distro's.
func addAddOns(list []templates.DocAddOn, repos []manifest.Repository) []templates.DocAddOn {
	for _, r := range repos {
		i := slices.IndexFunc(list, func(a templates.DocAddOn) bool { return a.Name == r.Name })
		if i < 0 {
			list = append(list, templates.DocAddOn{Name: r.Name, Enable: r.Enable})
			i = len(list) - 1
		}
		for _, p := range r.Packages {
			list[i].Packages = addUnique(list[i].Packages, p)
		}
		slices.Sort(list[i].Packages)
	}
	slices.SortFunc(list, func(a, b templates.DocAddOn) int { return strings.Compare(a.Name, b.Name) })
	return list
}
