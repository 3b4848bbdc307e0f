package merge

import (
	"strings"
	"testing"

	"relpack/pkg/manifest"
)

// checkDebugPairs refuses a merged release whose debug artifact lacks the
// artifact it is for, or the reverse, or whose pair disagree on the
// build-id (partials built from different binaries), naming the files and
// the partials; a release whose pairs are whole merges.
func TestCheckDebugPairs(t *testing.T) {
	const id, other = "e05db583ccf1138210b40b597cf83c11cee5596a", "0dab083b5876dc263f9a78bca8d8d1eb604abf49"
	a, b := &partial{dir: "dist-x86_64"}, &partial{dir: "dist-debug"}
	arts := func() []manifest.Artifact {
		return []manifest.Artifact{
			{File: "hello_1.0.0-1~deb12_amd64.deb", Kind: "deb", BuildID: id, Debug: "hello-dbgsym_1.0.0-1~deb12_amd64.ddeb"},
			{File: "hello-dbgsym_1.0.0-1~deb12_amd64.ddeb", Kind: manifest.KindDdeb, BuildID: id, DebugFor: "hello_1.0.0-1~deb12_amd64.deb"},
		}
	}
	cases := []struct {
		name string
		edit func([]manifest.Artifact) []manifest.Artifact
		want string
	}{
		{"whole", nil, ""},
		{"package missing", func(x []manifest.Artifact) []manifest.Artifact { return x[1:] },
			"dist-debug/manifest.json: hello-dbgsym_1.0.0-1~deb12_amd64.ddeb holds the debug symbols of hello_1.0.0-1~deb12_amd64.deb, which no partial holds"},
		{"debug package missing", func(x []manifest.Artifact) []manifest.Artifact { return x[:1] },
			"dist-x86_64/manifest.json: hello_1.0.0-1~deb12_amd64.deb's debug symbols are in hello-dbgsym_1.0.0-1~deb12_amd64.ddeb, which no partial holds"},
		{"other build-id", func(x []manifest.Artifact) []manifest.Artifact { x[1].BuildID = other; return x },
			"hello-dbgsym_1.0.0-1~deb12_amd64.ddeb (dist-debug) has build-id " + other + ", but hello_1.0.0-1~deb12_amd64.deb (dist-x86_64), whose symbols it holds, has build-id " + id},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := arts()
			if c.edit != nil {
				x = c.edit(x)
			}
			j := &job{owner: map[string]*partial{}, arts: x}
			for _, art := range x {
				j.owner[art.File] = a
				if manifest.IsDebug(art.Kind) {
					j.owner[art.File] = b
				}
			}
			err := j.checkDebugPairs()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
