package components

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// depSection is the ELF section cargo-auditable writes: zlib-compressed
// JSON, {"format":N,"packages":[{"name","version","source","kind",
// "dependencies":[index...],"root":bool}...]} (the schema is
// cargo-auditable.schema.json in the rust-secure-code/cargo-auditable
// repository; its PARSING.md describes the section).
const depSection = ".dep-v0"

// Bounds on a .dep-v0 section. cargo-auditable's PARSING.md: "8 MiB should
// be more than enough to hold any legitimate audit data", and a tree of
// 400+ crates compresses to under 4 kB. The same 8 MiB caps the
// compressed section (read whole into memory), so a zlib bomb or a
// section header claiming terabytes costs at most 16 MiB of input plus
// the decoded packages.
const (
	MaxDepV0Compressed = 8 << 20
	MaxDepV0JSON       = 8 << 20
	// MaxCargoPackages caps the package list: a large real tree has about
	// a thousand crates. Dependencies are counted too, so the decoded
	// tree stays a small multiple of the JSON.
	MaxCargoPackages     = 65536
	MaxCargoDependencies = 1 << 20
)

// readDepV0Section reads and decodes the section.
func readDepV0Section(sec *elf.Section) ([]Component, *CargoAudit, error) {
	if sec.Type == elf.SHT_NOBITS {
		return nil, nil, fmt.Errorf("section %s holds no data (SHT_NOBITS): not a cargo-auditable section", depSection)
	}
	if sec.Flags&elf.SHF_COMPRESSED != 0 {
		return nil, nil, fmt.Errorf("section %s is ELF-compressed (SHF_COMPRESSED), which cargo-auditable never writes", depSection)
	}
	if sec.FileSize > MaxDepV0Compressed {
		return nil, nil, fmt.Errorf("section %s is %d bytes, more than the %d bytes cargo-auditable data may take", depSection, sec.FileSize, MaxDepV0Compressed)
	}
	raw := make([]byte, sec.FileSize)
	if n, err := sec.ReadAt(raw, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(raw)) {
		return nil, nil, fmt.Errorf("section %s: %w (the file is cut short?)", depSection, err)
	}
	pkgs, format, err := DecodeDepV0(raw)
	if err != nil {
		return nil, nil, err
	}
	return pkgs, &CargoAudit{Format: format, Size: int64(len(raw))}, nil
}

// DecodeDepV0 decodes the bytes of a .dep-v0 section (zlib-compressed JSON)
// into cargo components, in the section's order, and its format revision.
// Errors name the section and, for a bad package, its index.
func DecodeDepV0(raw []byte) ([]Component, uint32, error) {
	js, err := inflateDepV0(raw)
	if err != nil {
		return nil, 0, err
	}
	info, err := parseDepV0(js)
	if err != nil {
		return nil, 0, fmt.Errorf("section %s: %w", depSection, err)
	}
	pkgs, err := info.components()
	if err != nil {
		return nil, 0, fmt.Errorf("section %s: %w", depSection, err)
	}
	return pkgs, info.Format, nil
}

// inflateDepV0 decompresses at most MaxDepV0JSON bytes; more is refused
// before it is held in memory.
func inflateDepV0(raw []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("section %s is not zlib data: %w", depSection, err)
	}
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, MaxDepV0JSON+1))
	if err != nil {
		return nil, fmt.Errorf("section %s: bad zlib data: %w", depSection, err)
	}
	if len(js) > MaxDepV0JSON {
		return nil, fmt.Errorf("section %s decompresses to more than %d bytes (%d compressed): refused as a zlib bomb", depSection, MaxDepV0JSON, len(raw))
	}
	return js, nil
}

// depV0 is the JSON document, as cargo-auditable writes it.
type depV0 struct {
	Format   uint32
	Packages []depV0Package
}

type depV0Package struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Source       string   `json:"source"`
	Kind         string   `json:"kind"`
	Dependencies []uint32 `json:"dependencies"`
	Root         bool     `json:"root"`
}

// parseDepV0 decodes the document one package at a time, so that a list
// of millions of empty objects is refused at MaxCargoPackages instead of
// being allocated first. Fields other than format and packages are
// ignored (the format grows by adding fields).
func parseDepV0(js []byte) (*depV0, error) {
	d := json.NewDecoder(bytes.NewReader(js))
	if err := expectDelim(d, '{'); err != nil {
		return nil, err
	}
	info := &depV0{}
	seen := false
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, badJSON(err)
		}
		switch key, _ := tok.(string); key {
		case "format":
			if err := d.Decode(&info.Format); err != nil {
				return nil, badJSON(err)
			}
		case "packages":
			if info.Packages, err = decodePackages(d); err != nil {
				return nil, err
			}
			seen = true
		default:
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return nil, badJSON(err)
			}
		}
	}
	if err := expectDelim(d, '}'); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("bad JSON: data after the document")
	}
	if !seen {
		return nil, errors.New(`bad JSON: no "packages" list`)
	}
	return info, nil
}

// decodePackages reads the packages array, counting as it goes.
func decodePackages(d *json.Decoder) ([]depV0Package, error) {
	if err := expectDelim(d, '['); err != nil {
		return nil, err
	}
	var pkgs []depV0Package
	deps := 0
	for d.More() {
		if len(pkgs) == MaxCargoPackages {
			return nil, fmt.Errorf("more than %d packages", MaxCargoPackages)
		}
		var p depV0Package
		if err := d.Decode(&p); err != nil {
			return nil, fmt.Errorf("package %d: %w", len(pkgs), badJSON(err))
		}
		if deps += len(p.Dependencies); deps > MaxCargoDependencies {
			return nil, fmt.Errorf("more than %d dependency links", MaxCargoDependencies)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, expectDelim(d, ']')
}

func expectDelim(d *json.Decoder, want json.Delim) error {
	tok, err := d.Token()
	if err != nil {
		return badJSON(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return fmt.Errorf("bad JSON: want %q, got %v", want, tok)
	}
	return nil
}

func badJSON(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("bad JSON: %w", err)
}

// components checks every package and converts them: names, versions and
// sources to their character sets, dependency indexes in range, at most
// one root and no cycle (the invalid states PARSING.md lists, which
// auditable-serde refuses too).
func (info *depV0) components() ([]Component, error) {
	n := len(info.Packages)
	out := make([]Component, n)
	root := -1
	for i, p := range info.Packages {
		c, err := p.component(i, n)
		if err != nil {
			return nil, err
		}
		if c.Main {
			if root >= 0 {
				return nil, fmt.Errorf("packages %d and %d are both the root: a section has one root package", root, i)
			}
			root = i
		}
		out[i] = c
	}
	if i := findCycle(out); i >= 0 {
		return nil, fmt.Errorf("package %d (%s) is part of a dependency cycle", i, out[i].Name)
	}
	return out, nil
}

// component checks one package; i is its index, n the package count.
func (p depV0Package) component(i, n int) (Component, error) {
	bad := func(format string, args ...any) (Component, error) {
		return Component{}, fmt.Errorf("package %d"+format, append([]any{i}, args...)...)
	}
	if err := checkWord("name", p.Name, 64, isCrateNameByte); err != nil {
		return bad(": %v", err)
	}
	if err := checkWord("version", p.Version, 128, isSemverByte); err != nil {
		return bad(" (%s): %v", p.Name, err)
	}
	if err := checkWord("source", p.Source, 64, isSourceByte); err != nil {
		return bad(" (%s): %v", p.Name, err)
	}
	c := Component{Ecosystem: Cargo, Name: p.Name, Version: p.Version, Source: p.Source, Main: p.Root}
	switch p.Kind {
	case "", "runtime":
	case "build":
		c.Build = true
	default:
		return bad(" (%s): kind %s is neither runtime nor build", p.Name, quoteShort(p.Kind))
	}
	for _, d := range p.Dependencies {
		if int64(d) >= int64(n) {
			return bad(" (%s): dependency index %d is out of range (%d packages)", p.Name, d, n)
		}
		c.Dependencies = append(c.Dependencies, int(d))
	}
	if c.Source == SourceCratesIO {
		c.Purl = "pkg:cargo/" + purlEscape(c.Name) + "@" + purlEscape(c.Version)
	}
	return c, nil
}

// findCycle returns the index of a package on a dependency cycle, or -1
// (Kahn's algorithm: linear in packages and links).
func findCycle(pkgs []Component) int {
	indeg := make([]int, len(pkgs))
	for _, p := range pkgs {
		for _, d := range p.Dependencies {
			indeg[d]++
		}
	}
	queue := make([]int, 0, len(pkgs))
	for i, n := range indeg {
		if n == 0 {
			queue = append(queue, i)
		}
	}
	for k := 0; k < len(queue); k++ {
		for _, d := range pkgs[queue[k]].Dependencies {
			if indeg[d]--; indeg[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	for i, n := range indeg {
		if n > 0 {
			return i
		}
	}
	return -1
}
