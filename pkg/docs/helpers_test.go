package docs

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"relpack/internal/clitest"
	"sync"
	"testing"

	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"relpack/pkg/release"
)

var update = flag.Bool("update", false, "rewrite testdata/manifest.json, the golden files and docs/INSTALL.md from a fresh demo build")

const (
	demoConfig  = "../../testdata/demo/packaging.yaml"
	demoVersion = "0.1.0" // the version of `make demo`, and of docs/INSTALL.md
	fixture     = "testdata/manifest.json"
	installMD   = "../../docs/INSTALL.md"
	// goldenBaseURL is the default download location written into the
	// golden installer (example.com is reserved for documentation).
	goldenBaseURL = "https://example.com/openshell-gateway/0.1.0"
)

var (
	demoOnce sync.Once
	demoDir  string
	demoMan  *manifest.Manifest
	demoErr  error
)

// demoDist builds the demo release (testdata/demo/packaging.yaml, version
// 0.1.0, the default SOURCE_DATE_EPOCH) once per test binary, exactly as
// `make demo` does, and returns its folder and manifest.
func demoDist(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	demoOnce.Do(func() {
		var cfg *config.Config
		cfg, demoErr = config.Load(demoConfig)
		if demoErr != nil {
			return
		}
		demoDir, demoErr = os.MkdirTemp("", "relpack-docs-demo-")
		if demoErr != nil {
			return
		}
		demoMan, demoErr = release.Run(release.Options{Config: cfg, Version: demoVersion, OutDir: demoDir, Epoch: release.DefaultEpoch})
	})
	if demoErr != nil {
		t.Fatalf("demo build: %v", demoErr)
	}
	return demoDir, demoMan
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	clitest.Cleanup()
	os.Exit(code)
}

func loadFixture(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./pkg/docs -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date (go test ./pkg/docs -update rewrites it):\n%s", path, UnifiedDiff(path, "rendered", want, got))
	}
}

// clone deep-copies a manifest through JSON.
func clone(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := manifest.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runCLI runs the real relpack binary (built once).
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return clitest.Run(t, args...)
}
