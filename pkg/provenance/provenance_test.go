package provenance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	ita "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"relpack/pkg/provenance"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

func sha(c byte) string { return strings.Repeat(string(c), 64) }

// demoRelease is a partial release as relpack build writes one: sorted
// lists, two triples, a sidecar library, a builder from CI.
func demoRelease() *provenance.Release {
	return &provenance.Release{
		Subjects: []provenance.Subject{
			{"SHA256SUMS", sha('0')},
			{"openshell-gateway-0.0.63-x86_64-unknown-linux-gnu.tar.gz", sha('1')},
			{"openshell-gateway-0.0.63-x86_64-unknown-linux-gnu.tar.gz.cdx.json", sha('2')},
			{"openshell-gateway_0.0.63-1_amd64.deb", sha('3')},
			{"manifest.json", sha('4')},
		},
		Product: "openshell-gateway", Version: "0.0.63", Release: "1",
		ConfigFile: "packaging.yaml", ConfigSHA256: sha('a'), ConfigDigest: sha('b'),
		Selectors:       []string{"debian12", "x86_64-unknown-linux-gnu"},
		SourceDateEpoch: 1700000000,
		Inputs: []provenance.Input{
			{Path: "LICENSE", SHA256: sha('c'), Role: "license"},
			{Path: "dist/gateway-x86_64-gnu", SHA256: sha('d'), Role: "input", Triple: "x86_64-unknown-linux-gnu"},
			{Path: "vendor/libz3.so.4", SHA256: sha('e'), Role: "library", Triple: "x86_64-unknown-linux-gnu"},
		},
		Tool:       "v0.9.0",
		ToolCommit: "0123456789abcdef0123456789abcdef01234567",
		ToolGo:     "go1.26.0",
		BuilderID:  "https://github.com/example/openshell/.github/workflows/release.yml@refs/tags/v0.0.63",
	}
}

// sortedRelease is demoRelease with its subjects in the order Marshal writes them
// (byte order: upper-case "SHA256SUMS" sorts first).
func sortedRelease() *provenance.Release {
	r := demoRelease()
	s := r.Subjects
	r.Subjects = []provenance.Subject{s[0], s[4], s[1], s[2], s[3]}
	return r
}

func mustMarshal(t *testing.T, r *provenance.Release) []byte {
	t.Helper()
	b, err := provenance.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The statement is what the in-toto attestation Go bindings, read with
// protojson, call a valid Statement v1 whose predicate is a valid SLSA
// Provenance v1; and what they read back is what relpack meant.
func TestInTotoBindingsValidate(t *testing.T) {
	for _, builderID := range []string{demoRelease().BuilderID, ""} {
		r := demoRelease()
		r.BuilderID = builderID
		st, prov := parseWithBindings(t, mustMarshal(t, r))
		if err := st.Validate(); err != nil {
			t.Fatalf("in-toto Statement.Validate: %v", err)
		}
		if err := prov.Validate(); err != nil {
			t.Fatalf("SLSA Provenance.Validate: %v", err)
		}
		if st.GetPredicateType() != "https://slsa.dev/provenance/v1" || len(st.GetSubject()) != 5 {
			t.Errorf("predicate type %q, %d subjects", st.GetPredicateType(), len(st.GetSubject()))
		}
		if s := st.GetSubject()[0]; s.GetName() != "SHA256SUMS" || s.GetDigest()["sha256"] != sha('0') {
			t.Errorf("first subject %v", s)
		}
		want := builderID
		if want == "" {
			want = provenance.LocalBuilderID
		}
		if got := prov.GetRunDetails().GetBuilder().GetId(); got != want {
			t.Errorf("builder.id %q, want %q", got, want)
		}
		bd := prov.GetBuildDefinition()
		deps := bd.GetResolvedDependencies()
		if bd.GetBuildType() != provenance.BuildType || len(deps) != 3 || deps[2].GetName() != "vendor/libz3.so.4" ||
			deps[2].GetDigest()["sha256"] != sha('e') || deps[2].GetAnnotations().GetFields()["role"].GetStringValue() != "library" {
			t.Errorf("build definition read by the bindings: %v", bd)
		}
		ext := bd.GetExternalParameters().GetFields()
		if ext["version"].GetStringValue() != "0.0.63" || ext["config"].GetStructValue().GetFields()["sha256"].GetStringValue() != sha('a') ||
			len(ext["selectors"].GetListValue().GetValues()) != 2 || ext["source_date_epoch"].GetNumberValue() != 1700000000 {
			t.Errorf("externalParameters read by the bindings: %v", ext)
		}
		if bd.GetInternalParameters().GetFields()["config_digest"].GetStringValue() != sha('b') {
			t.Errorf("internalParameters: %v", bd.GetInternalParameters())
		}
		if v := prov.GetRunDetails().GetBuilder().GetVersion(); v["relpack"] != "v0.9.0" ||
			v["commit"] != "0123456789abcdef0123456789abcdef01234567" || v["go"] != "go1.26.0" || len(v) != 3 {
			t.Errorf("builder.version %v", v)
		}
	}
}

// The bindings' validation can fail: a statement without builder.id or
// with a short digest is refused by them, so the test above checks
// something.
func TestInTotoBindingsRefuse(t *testing.T) {
	b := mustMarshal(t, demoRelease())
	_, prov := parseWithBindings(t, stripBuilderID(t, b))
	if err := prov.Validate(); !errors.Is(err, slsa.ErrBuilderIdRequired) {
		t.Errorf("Provenance.Validate without builder.id: %v", err)
	}
	short := bytes.Replace(b, []byte(sha('1')), []byte(sha('1')[:62]), 1)
	st, _ := parseWithBindings(t, short)
	if err := st.Validate(); !errors.Is(err, ita.ErrIncorrectDigestLength) {
		t.Errorf("Statement.Validate with a short digest: %v", err)
	}
}

// stripBuilderID removes runDetails.builder.id through a generic JSON
// round trip.
func stripBuilderID(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["predicate"].(map[string]any)["runDetails"].(map[string]any)["builder"].(map[string]any), "id")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseWithBindings(t *testing.T, b []byte) (*ita.Statement, *slsa.Provenance) {
	t.Helper()
	var st ita.Statement
	if err := protojson.Unmarshal(b, &st); err != nil {
		t.Fatalf("protojson into in-toto Statement: %v\n%s", err, b)
	}
	pred, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var prov slsa.Provenance // unknown fields are errors: a misspelt key fails here
	if err := protojson.Unmarshal(pred, &prov); err != nil {
		t.Fatalf("protojson into SLSA Provenance: %v\n%s", err, pred)
	}
	return &st, &prov
}

// The detached signature Sign makes verifies with the real gpg and the
// release's public key (the demo key, as make demo signs with it); a
// statement changed by one byte does not.
func TestSignatureVerifiesWithGPG(t *testing.T) {
	key, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	stmt := mustMarshal(t, demoRelease())
	// After the demo key was made (2026-12-01): an earlier time is moved
	// up to the key's creation, as pkg/sign documents.
	at := time.Unix(1800000000, 0)
	sig, err := provenance.Sign(key, stmt, at)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Fatalf("not an armoured signature:\n%s", sig)
	}
	again, err := provenance.Sign(key, stmt, at)
	if err != nil || !bytes.Equal(sig, again) {
		t.Errorf("two signatures of the same statement at the same time differ (err %v)", err)
	}

	dir := t.TempDir()
	data := filepath.Join(dir, provenance.FileName)
	asc := data + ".asc"
	write(t, data, stmt)
	write(t, asc, sig)
	home := signtest.VerifierHome(t, "../../testdata/demo/demo-signing-key.pub.asc")
	out, err := signtest.Verify(home, asc, data)
	if err != nil || !strings.Contains(out, "[GNUPG:] VALIDSIG "+key.Fingerprint) {
		t.Fatalf("gpg --verify of the statement: %v\n%s", err, out)
	}
	if !strings.Contains(out, "VALIDSIG "+key.Fingerprint+" 2027-01-15 1800000000 ") {
		t.Errorf("signature not made at the time asked for (1800000000):\n%s", out)
	}

	tampered := bytes.Replace(stmt, []byte(`"version": "0.0.63"`), []byte(`"version": "0.0.64"`), 1)
	if bytes.Equal(tampered, stmt) {
		t.Fatal("the tampering did not change the statement")
	}
	write(t, data, tampered)
	out, err = signtest.Verify(home, asc, data)
	if err == nil || !strings.Contains(out, "[GNUPG:] BADSIG") {
		t.Fatalf("gpg --verify accepted a tampered statement: %v\n%s", err, out)
	}
}

func TestSignRefuses(t *testing.T) {
	key, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	stmt := mustMarshal(t, demoRelease())
	for _, c := range []struct {
		key  *sign.Key
		stmt []byte
		at   time.Time
		want string
	}{
		{nil, stmt, time.Unix(1, 0), "no signing key"},
		{key, stmt, time.Time{}, "no signing time; pass the release's SOURCE_DATE_EPOCH"},
		{key, nil, time.Unix(1, 0), "the statement is empty"},
	} {
		if _, err := provenance.Sign(c.key, c.stmt, c.at); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Sign: error %v, want %q", err, c.want)
		}
	}
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Two calls give the same bytes, the order of the caller's lists does not
// matter, the caller's Release is not changed, and the file ends in "\n".
func TestReproducible(t *testing.T) {
	a := mustMarshal(t, demoRelease())
	b := mustMarshal(t, demoRelease())
	if !bytes.Equal(a, b) {
		t.Fatal("two statements of the same release differ")
	}
	shuffled := demoRelease()
	s, in := shuffled.Subjects, shuffled.Inputs
	shuffled.Subjects = []provenance.Subject{s[3], s[1], s[4], s[0], s[2]}
	shuffled.Inputs = []provenance.Input{in[2], in[0], in[1]}
	shuffled.Selectors = []string{"x86_64-unknown-linux-gnu", "debian12"}
	keep := *shuffled
	keep.Subjects = append([]provenance.Subject(nil), shuffled.Subjects...)
	if c := mustMarshal(t, shuffled); !bytes.Equal(a, c) {
		t.Errorf("the order of the release's lists changed the statement:\n%s\n%s", a, c)
	}
	if !reflect.DeepEqual(keep.Subjects, shuffled.Subjects) {
		t.Error("Marshal reordered the caller's subjects")
	}
	if !bytes.HasSuffix(a, []byte("}\n")) || bytes.Contains(a, []byte("\r")) {
		t.Errorf("statement does not end in one newline")
	}
	for _, clock := range []string{"startedOn", "finishedOn", time.Now().UTC().Format("2006-01-02")} {
		if bytes.Contains(a, []byte(clock)) {
			t.Errorf("statement holds %q: no time may come from the clock", clock)
		}
	}
}

// Read gives back the Release Marshal wrote, the builder too (the local
// builder's id reads back as ""), and a full build's empty selectors.
func TestRoundTrip(t *testing.T) {
	full := sortedRelease()
	full.Selectors, full.BuilderID = nil, ""
	noInputs := sortedRelease()
	noInputs.Inputs = nil
	// A relpack built with no commit recorded (-buildvcs=false), and a
	// statement from before relpack recorded its commit and Go.
	noCommit := sortedRelease()
	noCommit.ToolCommit = ""
	old := sortedRelease()
	old.ToolCommit, old.ToolGo = "", ""
	for _, r := range []*provenance.Release{sortedRelease(), full, noInputs, noCommit, old} {
		b := mustMarshal(t, r)
		st, err := provenance.Read(b)
		if err != nil {
			t.Fatalf("Read: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(st.Release, *r) {
			t.Errorf("Read(Marshal(r)):\n got %+v\nwant %+v", st.Release, *r)
		}
		if !reflect.DeepEqual(st.Subjects, r.Subjects) {
			t.Errorf("Statement.Subjects %v", st.Subjects)
		}
	}
	// builder.version is SLSA's map of component to version: relpack's
	// version, the commit it was built from and the Go that built it; a
	// release that knows neither records neither.
	builderVersion := func(r *provenance.Release) map[string]string {
		var st struct {
			Predicate struct {
				RunDetails struct {
					Builder struct{ Version map[string]string }
				}
			}
		}
		if err := json.Unmarshal(mustMarshal(t, r), &st); err != nil {
			t.Fatal(err)
		}
		return st.Predicate.RunDetails.Builder.Version
	}
	if v := builderVersion(full); !maps.Equal(v, map[string]string{"relpack": "v0.9.0", "commit": "0123456789abcdef0123456789abcdef01234567", "go": "go1.26.0"}) {
		t.Errorf("builder.version %v", v)
	}
	if v := builderVersion(old); !maps.Equal(v, map[string]string{"relpack": "v0.9.0"}) {
		t.Errorf("builder.version of a release with no commit or Go: %v", v)
	}
	if !bytes.Contains(mustMarshal(t, full), []byte(`"id": "`+provenance.LocalBuilderID+`"`)) {
		t.Error("a release with no builder does not name the local builder")
	}
}

// Strings JSON can carry (quotes, backslashes, '<', non-ASCII) are escaped
// and come back as they were; strings no reader should print as they are
// (newlines, escapes, NUL, invalid UTF-8) are refused, naming the field.
func TestHostileStrings(t *testing.T) {
	r := sortedRelease()
	r.Inputs[0].Path = `dist/"quoted"\back<slash>&Zürich`
	r.ConfigFile = `conf/"pack'aging".yaml`
	b := mustMarshal(t, r)
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatalf("hostile path broke the JSON: %v\n%s", err, b)
	}
	if !bytes.Contains(b, []byte(`"name": "dist/\"quoted\"\\back<slash>&Zürich"`)) {
		t.Errorf("path not escaped as JSON:\n%s", b)
	}
	st, err := provenance.Read(b)
	if err != nil || !reflect.DeepEqual(st.Release, *r) {
		t.Fatalf("hostile strings did not round trip: %v", err)
	}

	for _, c := range []struct {
		edit func(r *provenance.Release)
		want string
	}{
		{func(r *provenance.Release) { r.Inputs[1].Path = "dist/a\nb" }, `input path "dist/a\nb" holds a control character (U+000A at byte 6)`},
		{func(r *provenance.Release) { r.Subjects[1].Name = "a\x1b[31m.deb" }, `holds a control character (U+001B`},
		{func(r *provenance.Release) { r.ConfigFile = "pack\x00.yaml" }, `configuration file path "pack\x00.yaml" holds a control character`},
		{func(r *provenance.Release) { r.Version = "1.0\u0085" }, `version "1.0\u0085" holds a control character (U+0085`},
		{func(r *provenance.Release) { r.Selectors[0] = "deb\xffian" }, `selector "deb\xffian" is not valid UTF-8`},
		{func(r *provenance.Release) { r.BuilderID = "https://ci/\r\nx" }, `builder id "https://ci/\r\nx" holds a control character`},
		{func(r *provenance.Release) { r.Inputs[0].Triple = "x86_64\t" }, `triple "x86_64\t" holds a control character`},
		{func(r *provenance.Release) { r.ToolCommit = "0123456\n" }, `relpack commit "0123456\n" holds a control character`},
		{func(r *provenance.Release) { r.ToolGo = "go1.26\x1b[2J" }, `relpack's Go version "go1.26\x1b[2J" holds a control character`},
	} {
		r := sortedRelease()
		c.edit(r)
		b, err := provenance.Marshal(r)
		if err == nil || !strings.Contains(err.Error(), c.want) || b != nil {
			t.Errorf("Marshal: error %v, want %q", err, c.want)
		}
	}
}

// Marshal says what is wrong with a Release it cannot describe, and
// writes nothing.
func TestMarshalRefuses(t *testing.T) {
	for _, c := range []struct {
		edit func(r *provenance.Release)
		want string
	}{
		{func(r *provenance.Release) { r.Subjects = nil }, "no subjects: a statement vouches for at least one artifact"},
		{func(r *provenance.Release) { r.Subjects[1].SHA256 = sha('g') }, `subject "openshell-gateway-0.0.63-x86_64-unknown-linux-gnu.tar.gz": sha256 "gggg`},
		{func(r *provenance.Release) { r.Subjects[2].SHA256 = strings.ToUpper(sha('a')) }, "is not 64 lower-case hex digits"},
		{func(r *provenance.Release) { r.Subjects[2].SHA256 = sha('a')[:63] }, "is not 64 lower-case hex digits"},
		{func(r *provenance.Release) { r.Subjects[3].Name = r.Subjects[0].Name }, `subject "SHA256SUMS" is listed twice`},
		{func(r *provenance.Release) { r.Subjects[1].Name = "../etc/passwd" }, `subject name "../etc/passwd" is not a file name inside the release folder`},
		{func(r *provenance.Release) { r.Subjects[1].Name = "" }, "subject name is empty"},
		{func(r *provenance.Release) { r.Version = "" }, "version is empty"},
		{func(r *provenance.Release) { r.ConfigDigest = "" }, `config_digest: sha256 "" is not 64 lower-case hex digits`},
		{func(r *provenance.Release) { r.ConfigSHA256 = "xyz" }, `configuration file packaging.yaml: sha256 "xyz"`},
		{func(r *provenance.Release) { r.Selectors = []string{"a", "a"} }, `selector "a" is given twice`},
		{func(r *provenance.Release) { r.SourceDateEpoch = -1 }, "SOURCE_DATE_EPOCH -1 is before 1970"},
		{func(r *provenance.Release) { r.Inputs[1].Role = "sidecar" }, `input "dist/gateway-x86_64-gnu" has role "sidecar"; want input, library, file or license`},
		{func(r *provenance.Release) { r.Inputs[2] = r.Inputs[1] }, `input "dist/gateway-x86_64-gnu" (role input, triple "x86_64-unknown-linux-gnu") is listed twice`},
		{func(r *provenance.Release) { r.Inputs[2].Path, r.Inputs[2].Role = r.Inputs[1].Path, "library" }, `input "dist/gateway-x86_64-gnu" is listed with two digests`},
		{func(r *provenance.Release) { r.Inputs[0].SHA256 = "" }, `input "LICENSE": sha256 ""`},
		{func(r *provenance.Release) { r.Tool = "" }, "relpack version (tool) is empty"},
		{func(r *provenance.Release) { r.BuilderID = "my laptop" }, `builder id "my laptop" is not a URI`},
	} {
		r := demoRelease()
		c.edit(r)
		b, err := provenance.Marshal(r)
		if err == nil || !strings.Contains(err.Error(), c.want) || b != nil {
			t.Errorf("Marshal: error %v, want %q", err, c.want)
		}
	}
	if _, err := provenance.Marshal(nil); err == nil {
		t.Error("Marshal(nil) gave no error")
	}
}

// Read refuses what Marshal would not write, and anything edited after.
func TestReadRefuses(t *testing.T) {
	good := mustMarshal(t, sortedRelease())
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("statement does not hold %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	oversize := append(bytes.Repeat([]byte(" "), provenance.MaxSize+1-len(good)), good...)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"oversize", oversize, "provenance statement is 16777217 bytes, more than the 16777216 a statement relpack writes can be"},
		{"not JSON", []byte("SHA256SUMS\n"), "not a statement relpack writes"},
		{"empty", nil, "not a statement relpack writes: EOF"},
		{"statement v0.1", edit(`"_type": "https://in-toto.io/Statement/v1"`, `"_type": "https://in-toto.io/Statement/v0.1"`),
			`_type is "https://in-toto.io/Statement/v0.1", not an in-toto Statement v1`},
		{"SLSA v0.2", edit(`"predicateType": "https://slsa.dev/provenance/v1"`, `"predicateType": "https://slsa.dev/provenance/v0.2"`),
			`predicateType is "https://slsa.dev/provenance/v0.2", not SLSA Provenance v1`},
		{"other build type", edit(provenance.BuildType, "https://example.org/other"), `buildType is "https://example.org/other", not relpack's`},
		{"bad subject digest", edit(sha('1'), "1"+sha('z')[1:]), `subject "openshell-gateway-0.0.63-x86_64-unknown-linux-gnu.tar.gz": sha256 "1zzz`},
		{"sha512 digest", edit(`"sha256": "`+sha('1'), `"sha512": "`+sha('1')), `unknown field "sha512"`},
		{"duplicate subject", edit(`"name": "openshell-gateway-0.0.63-x86_64-unknown-linux-gnu.tar.gz"`, `"name": "manifest.json"`),
			`subject "manifest.json" is listed twice`},
		{"duplicate key", edit(`"version": "0.0.63",`, `"version": "0.0.63", "version": "0.0.63",`), "not byte for byte as relpack writes it"},
		{"unknown field", edit(`"release": "1",`, `"release": "1", "extra": true,`), `unknown field "extra"`},
		{"unknown field in builder", edit(`"id": "https://github.com`, `"id": "", "x": "https://github.com`), `unknown field "x"`},
		{"trailing data", append(bytes.Clone(good), "{}\n"...), "more data after the statement's JSON object"},
		{"reindented", bytes.ReplaceAll(good, []byte("\n  "), []byte("\n    ")), "not byte for byte as relpack writes it (first difference at byte 4)"},
		{"no newline at end", bytes.TrimSuffix(good, []byte("\n")), "not byte for byte"},
		{"unsorted subjects", edit(`"name": "SHA256SUMS"`, `"name": "zz"`), "not byte for byte"},
		{"input without role", edit(`,
          "annotations": {
            "role": "license"
          }`, ""), `resolved dependency "LICENSE" has no annotations`},
		{"control character", edit(`"name": "LICENSE"`, `"name": "LICENSE\u001b[2J"`), `holds a control character (U+001B`},
	} {
		st, err := provenance.Read(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || st != nil {
			t.Errorf("%s: Read error %v, want %q", c.name, err, c.want)
		}
	}
	noID := stripBuilderIDIndented(t, good)
	if _, err := provenance.Read(noID); err == nil || !strings.Contains(err.Error(), "runDetails.builder.id is empty; SLSA requires it") {
		t.Errorf("statement without builder.id: %v", err)
	}
}

func stripBuilderIDIndented(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(`"id": "`))
	j := bytes.Index(b[i:], []byte("\n"))
	if i < 0 || j < 0 {
		t.Fatal("no builder id")
	}
	return append(append(bytes.Clone(b[:i]), `"id": "",`...), b[i+j:]...)
}
