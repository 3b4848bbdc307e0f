package distro

import (
	"strings"
	"testing"
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
	for _, id := range []string{"el8", "el9", "fedora41", "debian11", "debian12", "ubuntu2204", "ubuntu2404"} {
		if !seen[id] {
			t.Errorf("catalogue lacks %s", id)
		}
	}
	el8, _ := Lookup("el8")
	if el8.Glibc != "2.28" || el8.Sonames["libz3.so.4.8"] != "z3-libs" || el8.Format != "rpm" {
		t.Errorf("el8 = %+v", el8)
	}
	if _, ok := el8.Sonames["libz3.so.4"]; ok {
		t.Error("el8 must not claim libz3.so.4: its z3-libs ships libz3.so.4.8")
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
