package release

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"relpack/internal/pipeline"
)

// TestStagesWriteOnlyFromTakeOutput holds buildStages to what its comment
// says: the stages before "take the output folder" leave --out uncreated,
// the ones from there up to "publish" write only inside the staging
// folder, and "publish" puts the release in place; Stages names them in
// the order they ran. It looks at --out after every stage of a real
// (partial, one tarball) build.
func TestStagesWriteOnlyFromTakeOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	names := Stages()
	take, pub := slices.Index(names, "take the output folder"), slices.Index(names, "publish")
	if take < 0 || pub != len(names)-1 || take > pub {
		t.Fatalf("Stages() = %q: want \"take the output folder\" before \"publish\", which is last", names)
	}
	var ran []string
	var wrapped []pipeline.Stage[*job]
	for i, s := range buildStages {
		wrapped = append(wrapped, pipeline.Stage[*job]{Name: s.Name, Run: func(j *job) error {
			if err := s.Run(j); err != nil {
				return err
			}
			ran = append(ran, s.Name)
			entries, err := os.ReadDir(out)
			switch {
			case i < take:
				if !os.IsNotExist(err) {
					t.Errorf("after %q: %s exists (%v); nothing before %q may touch --out", s.Name, out, err, names[take])
				}
			case i < pub:
				if err != nil || len(entries) != 1 || !matches(stagingPattern, entries[0].Name()) || !entries[0].IsDir() {
					t.Errorf("after %q: %s holds %v (%v); want the staging folder alone", s.Name, out, entries, err)
				}
			default:
				for _, f := range []string{"manifest.json", "SHA256SUMS", "openshell-gateway-x86_64-unknown-linux-musl.tar.gz"} {
					if _, err := os.Stat(filepath.Join(out, f)); err != nil {
						t.Errorf("after %q: %v", s.Name, err)
					}
				}
			}
			return nil
		}})
	}
	cfg := loadDemo(t)
	cfg.DebugSymbols = nil // the one tarball, without its debug tarball
	m, err := runStages(Options{Config: cfg, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Only: []string{"x86_64-unknown-linux-musl"}}, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, names) {
		t.Errorf("stages ran %q; Stages() says %q", ran, names)
	}
	if len(m.Artifacts) != 1 || !m.Partial {
		t.Errorf("manifest: %d artifacts, partial %v; want the one selected tarball of a partial release", len(m.Artifacts), m.Partial)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if matches(stagingPattern, e.Name()) {
			t.Errorf("%s left after the build", e.Name())
		}
	}
}
