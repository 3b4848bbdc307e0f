package distro

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestCatalogValid(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Catalog() {
		if errs := d.Validate(); len(errs) > 0 {
			t.Errorf("%s: %v", d.ID, errs)
		}
		if seen[d.ID] {
			t.Errorf("duplicate id %s", d.ID)
		}
		seen[d.ID] = true
	}
	for _, id := range []string{"el8", "el9", "el10", "fedora41", "fedora42", "fedora43", "amzn2023", "debian11", "debian12", "debian13", "ubuntu2204", "ubuntu2404", "ubuntu2604"} {
		if !seen[id] {
			t.Errorf("catalogue lacks %s", id)
		}
	}
	el8, _ := Lookup("el8")
	if el8.Glibc != "2.28" || el8.Format != "rpm" {
		t.Errorf("el8 = %+v", el8)
	}
	for so := range el8.Sonames {
		if strings.HasPrefix(so, "libz3.so") {
			t.Errorf("el8 must not map %s: no repository of RHEL 8 ships Z3", so)
		}
	}
	if _, ok := el8.NotShippedSource("libz3"); !ok {
		t.Error("el8 must record that it ships no libz3")
	}
	el9, _ := Lookup("el9")
	if el9.Sonames["libz3.so.4.8"] != "z3-libs" || el9.AddOnFor("libz3.so.4.8") == nil {
		t.Errorf("el9's z3-libs (libz3.so.4.8) comes from EPEL 9: %+v", el9.Origins)
	}
	d12, _ := Lookup("debian12")
	if d12.Sonames["libz3.so.4"] != "libz3-4" || d12.LibcPackage != "libc6" {
		t.Errorf("debian12 = %+v", d12)
	}
	d11, _ := Lookup("debian11")
	if d11.Compression == "zstd" {
		t.Error("Debian 11's dpkg cannot read zstd members")
	}
}

func TestValidateNamesFields(t *testing.T) {
	d := Distro{ID: "Bad Id", Format: "apk", Glibc: "x", LibcPackage: "", Arches: []string{"mips"}, Sonames: map[string]string{"z3": "z3 libs"}}
	var fields []string
	for _, e := range d.Validate() {
		fields = append(fields, e.Field)
	}
	got := strings.Join(fields, ",")
	for _, f := range []string{"id", "name", "format", "glibc", "arches", "libc_package", "sonames"} {
		if !strings.Contains(got, f) {
			t.Errorf("no error for field %s in %s", f, got)
		}
	}
}

func TestFactsLoaded(t *testing.T) {
	for _, id := range []string{"debian11", "debian12", "debian13"} {
		d, _ := Lookup(id)
		for _, arch := range []string{"x86_64", "aarch64"} {
			for _, so := range []string{"libz3.so.4", "libstdc++.so.6", "libgcc_s.so.1"} {
				l := d.Library(arch, so)
				if l == nil || !l.Captured() || len(l.Exports) == 0 || l.Arch != arch || l.Package != d.Sonames[so] {
					t.Fatalf("%s %s %s: %+v", id, arch, so, l)
				}
			}
		}
	}
	d11, _ := Lookup("debian11")
	d12, _ := Lookup("debian12")
	d13, _ := Lookup("debian13")
	z11, z12, z13 := d11.Library("x86_64", "libz3.so.4"), d12.Library("x86_64", "libz3.so.4"), d13.Library("x86_64", "libz3.so.4")
	if z11.Version != "4.8.10" || z11.Shlibs != "libz3-4 (>= 4.8.10)" || z12.Version != "4.8.12" || z13.Version != "4.13.3" || z13.PackageVersion != "4.13.3-1" {
		t.Errorf("z3 versions: %s %q, %s, %s", z11.Version, z11.Shlibs, z12.Version, z13.Version)
	}
	// Debian 13's libz3 exports Z3_ functions Debian 12's lacks (DESIGN.md: 75).
	if !z13.HasExport("Z3_mk_char_sort", "") || z12.HasExport("Z3_mk_char_sort", "") || !z12.HasExport("Z3_mk_int", "") {
		t.Error("Z3_mk_char_sort must be exported by Debian 13's libz3 only; Z3_mk_int by both")
	}
	n := 0
	for _, e := range z13.Exports {
		if strings.HasPrefix(e, "Z3_") && !z12.HasExport(e, "") {
			n++
		}
	}
	if n != 75 {
		t.Errorf("Debian 13's libz3 exports %d Z3_ functions Debian 12's lacks, want 75", n)
	}
	cxx := d12.Library("x86_64", "libstdc++.so.6")
	if !cxx.HasExport("_ZNSt6thread15_M_start_threadESt10unique_ptrINS_6_StateESt14default_deleteIS1_EEPFvvE", "GLIBCXX_3.4.22") ||
		cxx.HasExport("_ZNSt6thread15_M_start_threadESt10unique_ptrINS_6_StateESt14default_deleteIS1_EEPFvvE", "GLIBCXX_3.4.30") {
		t.Error("std::thread::_M_start_thread is at GLIBCXX_3.4.22 only")
	}
	if v, _ := cxx.SymbolMinVersion("GLIBCXX_3.4.30@GLIBCXX_3.4.30"); v != "12" || cxx.SymbolsSmallest != "4.1.1" || cxx.HighestDefined("GLIBCXX") != "3.4.30" {
		t.Errorf("libstdc++6: symbols' GLIBCXX_3.4.30@GLIBCXX_3.4.30 = %q, smallest %q, highest %s", v, cxx.SymbolsSmallest, cxx.HighestDefined("GLIBCXX"))
	}
	// Debian 11's symbols file tags GLIBCXX_3.4.26 symbols 9 or 9.1, one
	// by one: the per-symbol minimum, not the node's highest.
	d11, _ = Lookup("debian11")
	cxx11 := d11.Library("x86_64", "libstdc++.so.6")
	for sym, want := range map[string]string{
		"_ZNSt10filesystem18directory_iterator9incrementERSt10error_code@GLIBCXX_3.4.26": "9.1",
		"_ZNKSt10filesystem16filesystem_error4whatEv@GLIBCXX_3.4.26":                     "9",
		"no_such_symbol@GLIBCXX_3.4.26":                                                  "",
	} {
		if v, _ := cxx11.SymbolMinVersion(sym); v != want {
			t.Errorf("debian11 libstdc++6 %s: %q, want %q", sym, v, want)
		}
	}
	u, _ := Lookup("ubuntu2204")
	if l := u.Library("x86_64", "libz3.so.4"); l == nil || l.Version != "4.8.12" || l.Captured() || len(l.Exports) != 0 {
		t.Errorf("ubuntu2204 libz3: %+v", l)
	}
}

// The runtime a Debian target records is what its captured libraries
// define (x86_64); aarch64's libgcc_s differs and RuntimeFor says so.
func TestRuntimeMatchesCapture(t *testing.T) {
	for _, d := range Catalog() {
		if d.Runtime.GLIBCXX == "" || d.Runtime.CXXABI == "" || d.Runtime.GCC == "" || d.Runtime.Source == "" {
			t.Errorf("%s: runtime not recorded: %+v", d.ID, d.Runtime)
		}
		if d.Library("x86_64", "libstdc++.so.6") == nil {
			continue
		}
		got := d.RuntimeFor("x86_64")
		if got != d.Runtime {
			t.Errorf("%s: catalog runtime %+v, captured x86_64 %+v", d.ID, d.Runtime, got)
		}
	}
	d12, _ := Lookup("debian12")
	if rt := d12.RuntimeFor("aarch64"); rt.GCC != "11.0" || rt.GLIBCXX != "3.4.30" {
		t.Errorf("debian12 aarch64 runtime %+v", rt)
	}
	el9, _ := Lookup("el9")
	if rt := el9.RuntimeFor("x86_64"); rt.GLIBCXX != "3.4.29" {
		t.Errorf("el9 runtime %+v: GCC 11 stops at GLIBCXX_3.4.29", rt)
	}
}

// Every fact file is listed by its target, and every listed one exists.
func TestNoOrphanFacts(t *testing.T) {
	listed := map[string]bool{}
	for _, d := range Catalog() {
		for _, p := range d.Facts {
			listed[p] = true
		}
	}
	files, err := fs.Glob(factsFS, "facts/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is listed by no target's facts:", f)
		}
		delete(listed, f)
	}
	for f := range listed {
		t.Errorf("%s is listed but missing", f)
	}
	if len(files) < 22 {
		t.Errorf("only %d fact files", len(files))
	}
}

func TestCatalogCopies(t *testing.T) {
	a, _ := Lookup("debian12")
	a.Sonames["libfoo.so.1"] = "libfoo1"
	a.Arches[0] = "mips"
	b, _ := Lookup("debian12")
	if _, ok := b.Sonames["libfoo.so.1"]; ok || b.Arches[0] == "mips" {
		t.Error("a caller's edit reached the catalogue")
	}
}

func TestParseFactsRejects(t *testing.T) {
	good := LibraryFacts{Soname: "libz3.so.4", Arch: "x86_64", Package: "libz3-4", Version: "4.8.12", PackageVersion: "4.8.12-3.1",
		VersionDefs: []string{"Z3_1.0"}, Exports: []string{"Z3_a", "Z3_b@Z3_1.0"}, Source: "libz3-4_4.8.12-3.1_amd64.deb sha256:" + strings.Repeat("ab", 32)}
	data, err := MarshalFacts("test", []LibraryFacts{good})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFacts("good.yaml", data); err != nil {
		t.Fatalf("good facts refused: %v", err)
	}
	for name, edit := range map[string]func(*LibraryFacts){
		"soname":      func(l *LibraryFacts) { l.Soname = "z3" },
		"arch":        func(l *LibraryFacts) { l.Arch = "mips" },
		"sorted":      func(l *LibraryFacts) { l.Exports = []string{"Z3_b", "Z3_a"} },
		"repeat":      func(l *LibraryFacts) { l.Exports = []string{"Z3_a", "Z3_a"} },
		"export":      func(l *LibraryFacts) { l.Exports = []string{"Z3 a"} },
		"source":      func(l *LibraryFacts) { l.Source = "libz3-4.deb" },
		"sha256":      func(l *LibraryFacts) { l.Source = "libz3-4.deb sha256:abc" },
		"version":     func(l *LibraryFacts) { l.Version = "" },
		"defs order":  func(l *LibraryFacts) { l.VersionDefs = []string{"GCC_12.0.0", "GCC_3.0"} },
		"no smallest": func(l *LibraryFacts) { l.Symbols = []string{"Z3_a@Base 4.8"} },
		"symbol":      func(l *LibraryFacts) { l.Symbols, l.SymbolsSmallest = []string{"Z3_a 4.8"}, "4.8" },
		"sym order": func(l *LibraryFacts) {
			l.Symbols, l.SymbolsSmallest = []string{"Z3_b@Base 4.8", "Z3_a@Base 4.8"}, "4.8"
		},
		"documented": func(l *LibraryFacts) { l.Source = "documented: Ubuntu 22.04 package metadata" },
	} {
		l := good
		edit(&l)
		data, err := MarshalFacts("test", []LibraryFacts{l})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseFacts(name+".yaml", data); err == nil {
			t.Errorf("%s: accepted %+v", name, l)
		}
	}
	if _, err := ParseFacts("unknown.yaml", []byte("libraries:\n  - soname: libz3.so.4\n    colour: red\n")); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestLoadFactsChecksTarget(t *testing.T) {
	l := LibraryFacts{Soname: "libz3.so.4", Arch: "x86_64", Package: "libz3-4", Version: "4.8.12", PackageVersion: "4.8.12-3.1",
		Source: "documented: a test's version of libz3-4"}
	data, _ := MarshalFacts("test", []LibraryFacts{l})
	fsys := fstest.MapFS{"f/libz3-4_x86_64.yaml": {Data: data}, "f/wrong_x86_64.yaml": {Data: data}}
	d := Distro{ID: "t", Arches: []string{"x86_64"}, Sonames: map[string]string{"libz3.so.4": "libz3-4"}, Facts: []string{"f/libz3-4_x86_64.yaml"}}
	if err := d.LoadFacts(fsys); err != nil || d.Library("x86_64", "libz3.so.4") == nil {
		t.Fatalf("%v %+v", err, d.Libraries)
	}
	for name, d := range map[string]Distro{
		"unmapped": {ID: "t", Arches: []string{"x86_64"}, Sonames: map[string]string{"libz3.so.4.8": "z3-libs"}, Facts: []string{"f/libz3-4_x86_64.yaml"}},
		"arch":     {ID: "t", Arches: []string{"aarch64"}, Sonames: map[string]string{"libz3.so.4": "libz3-4"}, Facts: []string{"f/libz3-4_x86_64.yaml"}},
		"name":     {ID: "t", Arches: []string{"x86_64"}, Sonames: map[string]string{"libz3.so.4": "libz3-4"}, Facts: []string{"f/wrong_x86_64.yaml"}},
		"twice":    {ID: "t", Arches: []string{"x86_64"}, Sonames: map[string]string{"libz3.so.4": "libz3-4"}, Facts: []string{"f/libz3-4_x86_64.yaml", "f/libz3-4_x86_64.yaml"}},
		"missing":  {ID: "t", Arches: []string{"x86_64"}, Sonames: map[string]string{"libz3.so.4": "libz3-4"}, Facts: []string{"f/none.yaml"}},
	} {
		if err := d.LoadFacts(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// ParseFacts' fast path for export lists gives what the YAML decoder gives,
// for every committed file and for names YAML would quote.
func TestSplitExportsMatchesYAML(t *testing.T) {
	files, _ := fs.Glob(factsFS, "facts/*/*.yaml")
	odd := LibraryFacts{Soname: "libodd.so.1", Arch: "x86_64", Package: "libodd1", Version: "1", PackageVersion: "1-1",
		Exports: []string{"1abc", "a:b", "no", "plain", "x#y"}, Source: "libodd1_1-1_amd64.deb sha256:" + strings.Repeat("0f", 32)}
	odd.Symbols, odd.SymbolsSmallest = []string{"a@Base 1:1.0", "b@V 2.0~rc1+dfsg-1", "c@V 1.0"}, "1.0"
	two := odd
	two.Soname, two.Exports = "libodd.so.2", []string{"a", "b@V"}
	// An entry YAML would read otherwise unquoted: the decoder takes it.
	two.Symbols = []string{"a@Base 1:", "b@V 1.0"}
	oddData, err := MarshalFacts("odd", []LibraryFacts{odd, two})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"odd.yaml": oddData}
	for _, f := range files {
		inputs[f], _ = factsFS.ReadFile(f)
	}
	for name, data := range inputs {
		got, err := ParseFacts(name, data)
		if err != nil {
			t.Fatal(err)
		}
		var ff FactsFile
		if err := yaml.Unmarshal(data, &ff); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ff.Libraries) {
			t.Errorf("%s: the fast path differs from the YAML decoder", name)
		}
	}
	got, _ := ParseFacts("odd.yaml", oddData)
	if !reflect.DeepEqual(got[0].Exports, odd.Exports) || !reflect.DeepEqual(got[1].Exports, two.Exports) {
		t.Errorf("odd names: %q %q", got[0].Exports, got[1].Exports)
	}
	if !reflect.DeepEqual(got[0].Symbols, odd.Symbols) || !reflect.DeepEqual(got[1].Symbols, two.Symbols) {
		t.Errorf("odd symbols: %q %q", got[0].Symbols, got[1].Symbols)
	}
	if v, ok := got[0].SymbolMinVersion("b@V"); !ok || v != "2.0~rc1+dfsg-1" {
		t.Errorf("SymbolMinVersion(b@V) = %q, %v", v, ok)
	}
	if _, ok := got[0].SymbolMinVersion("b@W"); ok {
		t.Error("SymbolMinVersion found b@W")
	}
}

func TestValidExport(t *testing.T) {
	for e, want := range map[string]bool{"Z3_mk_int": true, "_ZNSt6thread@GLIBCXX_3.4.22": true, "": false, "@V": false, "a@": false,
		"a@b@c": false, "a b": false, "a\tb": false, "a\x7f": false} {
		if validExport(e) != want {
			t.Errorf("validExport(%q) = %v", e, !want)
		}
	}
}

// TestEveryCatalogValueSourced holds the catalogue to its rule: every
// value says where it was read. Plain fields through sources:, the
// runtime, each soname's origin, each add-on repository, each library
// the target does not ship and the support window through their own
// source:, and the library facts through their files' source:.
func TestEveryCatalogValueSourced(t *testing.T) {
	for _, d := range Catalog() {
		need := []string{"name", "glibc", "compression", "release_suffix", "arches", "libc_package", "sonames"}
		if d.Format == "deb" {
			need = append(need, "suite")
		}
		for _, f := range need {
			if strings.TrimSpace(d.Sources[f]) == "" {
				t.Errorf("%s: %s has no source (sources.%s)", d.ID, f, f)
			}
		}
		if (d.Runtime.GLIBCXX != "" || d.Runtime.CXXABI != "" || d.Runtime.GCC != "") && d.Runtime.Source == "" {
			t.Errorf("%s: runtime has no source", d.ID)
		}
		for so := range d.Sonames {
			o, ok := d.Origins[so]
			if !ok || o.Source == "" {
				t.Errorf("%s: %s: no origin with a source (origins.%s: {repository: ..., source: ...})", d.ID, so, so)
			}
		}
		for k, r := range d.Repositories {
			if r.Source == "" {
				t.Errorf("%s: repository %s has no source", d.ID, k)
			}
		}
		for stem, src := range d.NotShipped {
			if src == "" {
				t.Errorf("%s: not_shipped %s has no source", d.ID, stem)
			}
		}
		if d.Support.Source == "" {
			t.Errorf("%s: no support window with a source (support: {regular, end, kind, source})", d.ID)
		}
		for _, byso := range d.Libraries {
			for so, l := range byso {
				if l.Source == "" {
					t.Errorf("%s: facts of %s %s have no source", d.ID, l.Arch, so)
				}
			}
		}
	}
}

// TestZ3Origins pins the facts issue 19 confirmed: which repository ships
// Z3 on each target, or that none does.
func TestZ3Origins(t *testing.T) {
	for id, want := range map[string]string{
		"debian11": "base", "debian12": "base", "debian13": "base",
		"ubuntu2204": "universe", "ubuntu2404": "universe",
		"el9": "epel", "fedora41": "base", "fedora42": "base", "fedora43": "base", "amzn2023": "base",
	} {
		d, ok := Lookup(id)
		if !ok {
			t.Fatalf("no %s", id)
		}
		so := ""
		for s := range d.Sonames {
			if strings.HasPrefix(s, "libz3.so") {
				so = s
			}
		}
		if so == "" {
			t.Errorf("%s maps no libz3", id)
			continue
		}
		if got := d.Origin(so).Repository; got != want {
			t.Errorf("%s: %s comes from %q, want %q", id, so, got, want)
		}
		if want != BaseRepository && d.AddOnFor(so) == nil {
			t.Errorf("%s: %s comes from %s, which repositories does not define", id, so, want)
		}
	}
}

func TestSupportEnded(t *testing.T) {
	d11, _ := Lookup("debian11")
	day := func(s string) time.Time {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	if d11.Support.End != "2026-08-31" {
		t.Fatalf("debian11 support ends %q, Debian says 2026-08-31", d11.Support.End)
	}
	if d11.Support.Ended(day("2026-08-31").Add(23 * time.Hour)) {
		t.Error("support runs through its last day")
	}
	if !d11.Support.Ended(day("2026-09-01").Add(time.Minute)) {
		t.Error("debian11's LTS ended 2026-08-31")
	}
	if (Support{}).Ended(day("2100-01-01")) {
		t.Error("a target with no recorded end has not ended")
	}
}

func TestValidateOrigins(t *testing.T) {
	base := func() Distro {
		return Distro{ID: "t", Name: "T", Format: "rpm", Glibc: "2.34", Compression: "xz", Arches: []string{"x86_64"}, LibcPackage: "glibc",
			Sonames: map[string]string{"libz3.so.4.8": "z3-libs"}}
	}
	cases := map[string]struct {
		edit  func(*Distro)
		field string
	}{
		"unmapped origin": {func(d *Distro) { d.Origins = map[string]Origin{"libfoo.so.1": {Repository: "base"}} }, "origins"},
		"unknown repo":    {func(d *Distro) { d.Origins = map[string]Origin{"libz3.so.4.8": {Repository: "epel"}} }, "origins"},
		"hostile enable": {func(d *Distro) {
			d.Repositories = map[string]AddOn{"epel": {Name: "EPEL", Enable: "dnf install epel-release; rm -rf /"}}
		}, "repositories"},
		"backquote enable": {func(d *Distro) { d.Repositories = map[string]AddOn{"epel": {Name: "EPEL", Enable: "dnf `id`"}} }, "repositories"},
		"base key":         {func(d *Distro) { d.Repositories = map[string]AddOn{"base": {Name: "Base", Enable: "true"}} }, "repositories"},
		"shipped and not":  {func(d *Distro) { d.NotShipped = map[string]string{"libz3": "x"} }, "not_shipped"},
		"bad stem":         {func(d *Distro) { d.NotShipped = map[string]string{"z3 libs": "x"} }, "not_shipped"},
		"bad date":         {func(d *Distro) { d.Support = Support{End: "2026-13-01"} }, "support"},
		"reversed":         {func(d *Distro) { d.Support = Support{Regular: "2030-01-01", End: "2029-01-01"} }, "support"},
		"source newline":   {func(d *Distro) { d.Sources = map[string]string{"glibc": "a\nb"} }, "sources"},
		"unknown source":   {func(d *Distro) { d.Sources = map[string]string{"colour": "x"} }, "sources"},
	}
	if errs := base().Validate(); len(errs) != 0 {
		t.Fatalf("base: %v", errs)
	}
	for name, c := range cases {
		d := base()
		c.edit(&d)
		errs := d.Validate()
		found := false
		for _, e := range errs {
			found = found || e.Field == c.field
		}
		if !found {
			t.Errorf("%s: no error on %s: %v", name, c.field, errs)
		}
	}
}
