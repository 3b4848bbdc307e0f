package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"relpack/internal/clitest"
	"strings"
	"testing"

	"relpack/pkg/config"
)

const (
	demoConfig = "../../testdata/demo/packaging.yaml"
	demoVer    = "0.0.38-dev.108+g152d059"
)

func loadDemo(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// buildDemo runs the demo build once per test binary into a shared folder.
var demoOut string

func demoDist(t *testing.T) string {
	t.Helper()
	if demoOut != "" {
		return demoOut
	}
	dir, err := os.MkdirTemp("", "relpack-demo-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(Options{Config: loadDemo(t), Version: demoVer, OutDir: dir, Epoch: DefaultEpoch}); err != nil {
		t.Fatalf("demo build: %v", err)
	}
	demoOut = dir
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoOut != "" {
		os.RemoveAll(demoOut)
	}
	clitest.Cleanup()
	os.Exit(code)
}

// sh runs a command and returns stdout; it fails the test on error.
func sh(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, stderr, err := run(dir, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func run(dir string, env []string, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), err
}

func filesIn(t *testing.T, dir string, glob string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
