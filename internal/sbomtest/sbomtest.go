// Package sbomtest validates SBOMs with independent tools, for the tests
// of pkg/sbom (the writers) and pkg/release (every SBOM a real build
// writes): SPDX with spdx/tools-golang's reader and validator, CycloneDX
// against the official CycloneDX 1.6 JSON schema, which
// scripts/install-test-deps.sh fetches from the npm package
// @cyclonedx/cyclonedx-library (test data, never vendored by hand).
package sbomtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"

	"relpack/internal/testdeps"
)

// CycloneDXLibrary is the npm package whose res/schema/ holds the official
// CycloneDX JSON schemas.
const CycloneDXLibrary = "@cyclonedx/cyclonedx-library@10.3.0"

// The schema files, and the URL each one's $id (or the $ref that names
// it, relative to bom-1.6's $id) gives it.
var cdxSchemaFiles = map[string]string{
	"bom-1.6.SNAPSHOT.schema.json":  "http://cyclonedx.org/schema/bom-1.6.schema.json",
	"spdx.SNAPSHOT.schema.json":     "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
	"jsf-0.82.SNAPSHOT.schema.json": "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
}

// noNetwork is the schema compiler's loader: every schema is one of the
// local files added as a resource; anything else is an error, never a
// download.
type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not among the local CycloneDX schema files (no network at test time)", url)
}

var (
	cdxSchemaOnce sync.Once
	cdxSchema     *jsonschema.Schema
	cdxSchemaErr  error
)

// CycloneDXSchema compiles the official CycloneDX 1.6 JSON schema, with
// its $refs resolved to the local files and formats asserted (date-time,
// iri-reference, idn-email are checked, not only annotated). A missing
// schema fails the test, naming the install script.
func CycloneDXSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(testdeps.Npm(t, CycloneDXLibrary), "res", "schema")
	cdxSchemaOnce.Do(func() { cdxSchema, cdxSchemaErr = compile(dir) })
	if cdxSchemaErr != nil {
		t.Fatal(cdxSchemaErr)
	}
	return cdxSchema
}

func compile(dir string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noNetwork{})
	for file, url := range cdxSchemaFiles {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("%v: run scripts/install-test-deps.sh, which fetches %s", err, CycloneDXLibrary)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile(cdxSchemaFiles["bom-1.6.SNAPSHOT.schema.json"])
}

// CycloneDX validates a document against the CycloneDX 1.6 schema; the
// error says what the schema refuses.
func CycloneDX(t testing.TB, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if err := CycloneDXSchema(t).Validate(inst); err != nil {
		return fmt.Errorf("the CycloneDX 1.6 schema refuses the document: %v", err)
	}
	return nil
}

// SPDX parses a document with spdx/tools-golang's JSON reader and
// validates it with its own validator (spdxlib.ValidateDocument: every
// element a relationship names exists).
func SPDX(b []byte) (*spdx.Document, error) {
	doc, err := spdxjson.Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("tools-golang cannot read the document: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return nil, fmt.Errorf("tools-golang's validator refuses the document: %v", err)
	}
	return doc, nil
}
