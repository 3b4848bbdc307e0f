package manifest

import (
	"slices"
	"testing"
)

// TestValidateOrder holds Validate to the order it reports problems in,
// one part of the manifest after another (header, floor, service,
// distros, artifacts, inputs, partial fields, signing), with a bad field
// in each part; the order is what a user reads top to bottom.
func TestValidateOrder(t *testing.T) {
	m := &Manifest{
		Schema: 2, Product: "-bad", Version: "v1",
		Floor:   Floor{Glibc: "x", Families: map[string]string{"GLIBCXX": "y"}},
		Service: &Service{Unit: "u.service", Scope: "nobody"},
		Distros: []Distro{{ID: "Debian 12"}, {ID: "d"}, {ID: "d"}},
		Artifacts: []Artifact{{
			File: "a.deb", Size: -1, SHA256: "00", Kind: "deb", Arch: "x86_64", Distro: "el9",
			Sidecar:      &Sidecar{Path: "../x"},
			Repositories: []Repository{{Name: "epel", Enable: "rm -rf /; x"}},
		}},
		Inputs:    []Input{{File: "../in"}},
		Selectors: []string{"x86_64"},
		Signing:   &Signing{Fingerprint: "abc"},
	}
	err := m.Validate()
	ie, ok := err.(*InvalidError)
	if !ok {
		t.Fatalf("Validate = %v, want an *InvalidError", err)
	}
	var got []string
	for _, p := range ie.Problems {
		got = append(got, p.Field)
	}
	want := []string{
		"schema", "product", "version", "floor.glibc", "floor.families.GLIBCXX", "service.scope",
		"distros[0].id", "distros[2].id",
		"artifacts[0].size", "artifacts[0].sha256", "artifacts[0].distro",
		"artifacts[0].sidecar.path", "artifacts[0].repositories[0].enable",
		"inputs[0].file", "partial", "signing.fingerprint",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate reports the fields\n%q\nwant\n%q\n%v", got, want, err)
	}
}
