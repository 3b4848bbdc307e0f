package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/policytest"
	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

// floorConfig writes a packaging.yaml for one x86_64 gnu input, a floor
// and targets, and returns its path.
func floorConfig(t *testing.T, floor, input string, targets []string) string {
	t.Helper()
	dir := t.TempDir()
	fxDir, _ := filepath.Abs(fx)
	in, _ := filepath.Abs(fx + input)
	y := fmt.Sprintf(`name: floortest
summary: Floor test
description: A floor test.
maintainer: Test <test@example.com>
license: Apache-2.0
homepage: https://example.com/floortest
license_file: %s/demo/LICENSE
copyright: 2025 Test
floor:
  glibc: "%s"
inputs:
  x86_64-unknown-linux-gnu: %s
binary: /usr/bin/floortest
targets:
`, fxDir, floor, in)
	for _, id := range targets {
		y += "  - " + id + "\n"
	}
	p := filepath.Join(dir, "packaging.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// targetsFrom splits the catalog at a floor: the ids at or above it, and
// one below it (or "").
func targetsFrom(floor string) (above []string, below string) {
	for _, d := range distro.Catalog() {
		if abi.CompareVersions(d.Glibc, floor) >= 0 {
			above = append(above, d.ID)
		} else if below == "" {
			below = d.ID
		}
	}
	return above, below
}

// Floors 2.36 and 2.38 build for binaries that need them (real linker
// outputs), a target below the floor is refused, and the limits the
// release records are the catalog's.
func TestBuildFloors236And238(t *testing.T) {
	for _, c := range []struct{ floor, input string }{
		{"2.36", "x86_64/cxx-2.36"},
		{"2.38", "x86_64/cxx-2.38"},
	} {
		above, below := targetsFrom(c.floor)
		if len(above) == 0 {
			t.Fatalf("no catalog target ships glibc %s", c.floor)
		}
		out := filepath.Join(t.TempDir(), "dist")
		cfg := floorConfig(t, c.floor, c.input, above)
		stdout, stderr, code := cli(t, "build", "-c", cfg, "--version", "1.0.0", "--out", out)
		if code != 0 {
			t.Fatalf("floor %s: exit %d\n%s%s", c.floor, code, stdout, stderr)
		}
		var m struct {
			Floor struct {
				Glibc    string                       `json:"glibc"`
				Families map[string]string            `json:"families"`
				Arches   map[string]map[string]string `json:"arches"`
			} `json:"floor"`
			Artifacts []struct {
				Kind string `json:"kind"`
			} `json:"artifacts"`
		}
		data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Floor.Glibc != c.floor {
			t.Errorf("floor %s: manifest floor %s", c.floor, m.Floor.Glibc)
		}
		for _, fam := range []string{"GLIBCXX", "CXXABI", "GCC"} {
			want, who := policytest.CatalogLimit(c.floor, "x86_64", fam)
			if got := m.Floor.Families[fam]; got != want {
				t.Errorf("floor %s: manifest %s limit %q, the catalog's is %s (%s)", c.floor, fam, got, want, who)
			}
		}
		if len(m.Artifacts) < len(above)+1 {
			t.Errorf("floor %s: %d artifacts for %d targets", c.floor, len(m.Artifacts), len(above))
		}
		// verify agrees, and names the limits' targets in --json.
		vout, _, code := cli(t, "verify", "--json", "--floor", c.floor, fx+c.input)
		if code != 0 {
			t.Errorf("verify --floor %s %s: exit %d\n%s", c.floor, c.input, code, vout)
		}
		if below != "" {
			_, stderr, code := cli(t, "build", "-c", floorConfig(t, c.floor, c.input, append(above, below)), "--version", "1.0.0",
				"--out", filepath.Join(t.TempDir(), "dist"))
			if code == 0 || !strings.Contains(stderr, "target "+below+" ships glibc") || !strings.Contains(stderr, "below the promised floor "+c.floor) {
				t.Errorf("floor %s with target %s: exit %d, %s", c.floor, below, code, stderr)
			}
		}
		// One floor lower than the binary needs: refused.
		_, stderr, code = cli(t, "build", "-c", floorConfig(t, "2.34", c.input, above), "--version", "1.0.0",
			"--out", filepath.Join(t.TempDir(), "dist"))
		if code == 0 || !strings.Contains(stderr, "breaks the promised floor") || !strings.Contains(stderr, "GLIBC_"+c.floor) {
			t.Errorf("%s at floor 2.34: exit %d, %s", c.input, code, stderr)
		}
	}
}

// A binary within the glibc floor but above the derived GLIBCXX limit is
// refused, with the limit and the target it comes from.
func TestBuildFloorGLIBCXXLimit(t *testing.T) {
	const floor = "2.36"
	want, who := policytest.CatalogLimit(floor, "x86_64", "GLIBCXX")
	if abi.CompareVersions("3.4.31", want) <= 0 {
		t.Fatalf("the catalog's GLIBCXX limit for %s is %s: cxx-glibcxx-3.4.31 meets it", floor, want)
	}
	above, _ := targetsFrom(floor)
	dir := t.TempDir()
	out := filepath.Join(dir, "dist")
	_, stderr, code := cli(t, "build", "-c", floorConfig(t, floor, "x86_64/cxx-glibcxx-3.4.31", above), "--version", "1.0.0", "--out", out)
	for _, s := range []string{
		"breaks the promised floor",
		"GLIBCXX_3.4.31: _ZNSt6chrono12current_zoneEv  [floor GLIBCXX_" + want + ", from libstdc++.so.6]",
		"limit GLIBCXX_" + want + ": the lowest GLIBCXX among",
		" " + who + " (",
	} {
		if code != 1 || !strings.Contains(stderr, s) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, s, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused build left %s: %v", out, err)
	}
}
