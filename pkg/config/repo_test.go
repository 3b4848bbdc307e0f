package config

import "testing"

// The gateway's real packaging.yaml and the demo configurations must
// always load: a broken release configuration is found here, not in the
// release job.
func TestRepositoryConfigsLoad(t *testing.T) {
	for _, p := range []string{"../../packaging.yaml", "../../testdata/demo/packaging.yaml", "../../testdata/demo/packaging-bundled.yaml"} {
		if _, err := Load(p); err != nil {
			t.Errorf("%v", err)
		}
	}
}
