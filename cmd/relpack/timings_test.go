package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"relpack/pkg/release"
)

// TestBuildTimings: build --timings prints one line per stage, in the
// order release.Stages() gives, on stderr; stdout keeps its summary.
func TestBuildTimings(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	stdout, stderr, code := cli(t, "build", "-q", "--timings", "-c", "../../testdata/demo/packaging.yaml",
		"--version", "0.1.0", "--only", "x86_64-unknown-linux-musl", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var stages []string
	for _, m := range regexp.MustCompile(`(?m)^stage (.+?) +(\d+\.\d{3})s$`).FindAllStringSubmatch(stderr, -1) {
		stages = append(stages, m[1])
	}
	if !slices.Equal(stages, release.Stages()) {
		t.Errorf("--timings named the stages\n  %q\nrelease.Stages() is\n  %q\nstderr:\n%s", stages, release.Stages(), stderr)
	}
	if regexp.MustCompile(`(?m)^stage `).MatchString(stdout) {
		t.Errorf("stage times on stdout:\n%s", stdout)
	}
}
