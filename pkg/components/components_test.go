package components

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// The fixtures testdata/build-fixtures.sh builds for this package.
const (
	fixtures    = "../../testdata/fixtures/"
	goFixture   = fixtures + "components/gocomponents"
	rustFixture = fixtures + "components/depv0-hello"
	cFixture    = fixtures + "x86_64/hello-2.28"
	depV0JSON   = "../../testdata/src/dep-v0.json"
)

func mustRead(t *testing.T, path string) *Components {
	t.Helper()
	c, err := Read(path)
	if err != nil {
		t.Fatalf("Read(%s): %v", path, err)
	}
	return c
}

// TestGoFixture holds the Go fixture's list to what its go.mod says.
func TestGoFixture(t *testing.T) {
	c := mustRead(t, goFixture)
	if !c.Known() || c.Cargo != nil || c.Go == nil || c.Unknown != "" {
		t.Fatalf("%+v: want Go build info only", c)
	}
	if !strings.HasPrefix(c.Go.Toolchain, "go1.") || c.Go.Path != "relpack.test/gocomponents" {
		t.Errorf("Go build %+v", c.Go)
	}
	want := []Component{
		{Ecosystem: Golang, Name: "relpack.test/gocomponents", Version: "(devel)", Purl: "pkg:golang/relpack.test/gocomponents", Main: true},
		{Ecosystem: Golang, Name: "github.com/Masterminds/semver/v3", Version: "v3.5.0", Purl: "pkg:golang/github.com/Masterminds/semver/v3@v3.5.0",
			Sum: "h1:kQceYJfbupGfZOKZQg0kou0DgAKhzDg2NZPAwZ/2OOE="},
		{Ecosystem: Golang, Name: "github.com/ulikunitz/xz", Version: "v0.5.15", Purl: "pkg:golang/github.com/ulikunitz/xz@v0.5.15",
			Sum: "h1:9DNdB5s+SgV3bQ2ApL10xRc35ck0DuIX/isZvIk+ubY="},
		{Ecosystem: Golang, Name: "relpack.test/greet", Version: "v0.0.0", Replace: &Replacement{Path: "./greet"}},
	}
	if !reflect.DeepEqual(c.List, want) {
		t.Errorf("list:\n got %+v\nwant %+v", c.List, want)
	}
}

// TestGoMatchesGoVersionM holds the Go reading to the go command's own:
// `go version -m` prints the toolchain and every mod, dep and => line.
func TestGoMatchesGoVersionM(t *testing.T) {
	gobin := testdeps.Tool(t, "go")
	out, err := exec.Command(gobin, "version", "-m", goFixture).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	first := true
	for sc.Scan() {
		line := sc.Text()
		f := strings.Split(strings.TrimSpace(line), "\t")
		if first { // "FILE: go1.26.8"
			want = append(want, "go "+strings.TrimPrefix(line, goFixture+": "))
			first = false
			continue
		}
		switch f[0] {
		case "mod", "dep":
			want = append(want, f[0]+" "+strings.Join(f[1:3], " "))
		case "=>":
			v := f[2]
			if v == devel {
				v = "" // a directory: go prints (devel)
			}
			want = append(want, "=> "+f[1]+" "+v)
		}
	}
	c := mustRead(t, goFixture)
	got := []string{"go " + c.Go.Toolchain}
	for _, m := range c.List {
		kind := "dep"
		if m.Main {
			kind = "mod"
		}
		got = append(got, kind+" "+m.Name+" "+m.Version)
		if m.Replace != nil {
			got = append(got, "=> "+m.Replace.Path+" "+m.Replace.Version)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("components vs go version -m:\n got %q\nwant %q", got, want)
	}
}

// TestCargoFixture holds the Rust-style fixture's list to the JSON the
// fixture script compressed into its .dep-v0 section, read here with
// encoding/json directly.
func TestCargoFixture(t *testing.T) {
	c := mustRead(t, rustFixture)
	if !c.Known() || c.Go != nil || c.Cargo == nil || c.Cargo.Format != 1 || c.Cargo.Size == 0 {
		t.Fatalf("%+v: want a format 1 .dep-v0 only", c)
	}
	raw, err := os.ReadFile(depV0JSON)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Packages []struct {
			Name, Version, Source, Kind string
			Dependencies                []int
			Root                        bool
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(c.List) != len(doc.Packages) {
		t.Fatalf("%d components, the JSON has %d packages", len(c.List), len(doc.Packages))
	}
	for i, p := range doc.Packages {
		g := c.List[i]
		if g.Ecosystem != Cargo || g.Name != p.Name || g.Version != p.Version || g.Source != p.Source ||
			g.Main != p.Root || g.Build != (p.Kind == "build") || !reflect.DeepEqual(g.Dependencies, p.Dependencies) {
			t.Errorf("package %d: got %+v, JSON %+v", i, g, p)
		}
	}
	// purls: only crates.io crates have one; '+' is escaped.
	purls := map[string]string{
		"adler":        "", // "registry": an alternative registry, unnamed in .dep-v0
		"demo-gateway": "", // "local": the binary's own crate
		"libc":         "pkg:cargo/libc@0.2.155",
		"libgit2-sys":  "pkg:cargo/libgit2-sys@0.17.0%2B1.8.1",
		"z3-sys":       "", // "git"
		"cc":           "pkg:cargo/cc@1.0.99",
		"pkg-config":   "pkg:cargo/pkg-config@0.3.30",
	}
	for _, g := range c.List {
		if want, ok := purls[g.Name]; !ok || g.Purl != want {
			t.Errorf("%s: purl %q, want %q", g.Name, g.Purl, want)
		}
	}
}

// TestUnknown: a C binary and a script record nothing; the result says so
// and lists nothing.
func TestUnknown(t *testing.T) {
	c := mustRead(t, cFixture)
	if c.Known() || len(c.List) != 0 || c.Unknown != UnknownNeither {
		t.Errorf("%s: %+v", cFixture, c)
	}
	script := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c = mustRead(t, script)
	if c.Known() || len(c.List) != 0 || c.Unknown != UnknownNotELF {
		t.Errorf("%s: %+v", script, c)
	}
}

func TestPurlEscape(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                     "v1.2.3",
		"v2.0.0+incompatible":        "v2.0.0%2Bincompatible",
		"0.17.0+1.8.1":               "0.17.0%2B1.8.1",
		"a_b-c.d~e":                  "a_b-c.d~e",
		"v0.0.0-20230101-abcdef0123": "v0.0.0-20230101-abcdef0123",
	} {
		if got := purlEscape(in); got != want {
			t.Errorf("purlEscape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := goPurl("github.com/Foo/bar", "v2.0.0+incompatible"); got != "pkg:golang/github.com/Foo/bar@v2.0.0%2Bincompatible" {
		t.Errorf("goPurl: %s", got)
	}
}
