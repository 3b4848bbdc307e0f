package components

import (
	"bytes"
	"compress/zlib"
	"os"
	"strings"
	"testing"
)

// FuzzReadDepV0 feeds arbitrary bytes to DecodeDepV0, both as the raw
// section and as the JSON inside a valid zlib stream (mutated zlib rarely
// gets past its checksum, so the JSON level is fuzzed directly too). It must
// never panic, and whatever it accepts holds the invariants callers rely
// on: checked names, versions and sources, dependency indexes in range, at
// most one root, a purl only for crates.io.
//
//	go test -run XXX -fuzz FuzzReadDepV0 -fuzztime 30s ./pkg/components/
func FuzzReadDepV0(f *testing.F) {
	good, err := os.ReadFile(depV0JSON)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(compress(f, good))
	f.Add(zeros(f, 1<<16))
	for _, s := range []string{
		`{"packages":[]}`,
		`{"format":8,"packages":[{"name":"a","version":"1","source":"crates.io","dependencies":[0]}]}`,
		`{"packages":[{"name":"a","version":"1","source":"local","root":true},{"name":"b","version":"2+x","source":"crates.io"}]}`,
		`{"packages":[{"name":"a\u0000","version":"1","source":"crates.io"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoded(t, data)
		if len(data) < 1<<16 {
			checkDecoded(t, fuzzCompress(data))
		}
	})
}

func checkDecoded(t *testing.T, raw []byte) {
	pkgs, _, err := DecodeDepV0(raw)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "section .dep-v0") {
			t.Fatalf("error %q does not name the section", err)
		}
		return
	}
	roots := 0
	for i, p := range pkgs {
		if p.Ecosystem != Cargo || checkWord("name", p.Name, 64, isCrateNameByte) != nil ||
			checkWord("version", p.Version, 128, isSemverByte) != nil || checkWord("source", p.Source, 64, isSourceByte) != nil {
			t.Fatalf("package %d accepted unchecked: %+v", i, p)
		}
		for _, d := range p.Dependencies {
			if d < 0 || d >= len(pkgs) || d == i {
				t.Fatalf("package %d: dependency %d accepted (%d packages)", i, d, len(pkgs))
			}
		}
		if p.Main {
			roots++
		}
		if (p.Purl != "") != (p.Source == SourceCratesIO) || strings.ContainsAny(p.Purl, "+ \"\n") {
			t.Fatalf("package %d: purl %q for source %q", i, p.Purl, p.Source)
		}
	}
	if roots > 1 {
		t.Fatalf("%d roots accepted", roots)
	}
}

// fuzzZ is one zlib writer reused by every input (a new one allocates its
// tables, most of a run's time); a fuzz worker runs inputs one at a time.
var (
	fuzzZ   *zlib.Writer
	fuzzBuf bytes.Buffer
)

func fuzzCompress(data []byte) []byte {
	fuzzBuf.Reset()
	if fuzzZ == nil {
		fuzzZ = zlib.NewWriter(&fuzzBuf)
	} else {
		fuzzZ.Reset(&fuzzBuf)
	}
	fuzzZ.Write(data)
	fuzzZ.Close()
	return bytes.Clone(fuzzBuf.Bytes())
}
