package rpmmd

import (
	"os"
	"path/filepath"
	"testing"

	"relpack/internal/rpmtest"
)

// The synthetic rpms of these tests are internal/rpmtest's, shared with
// pkg/capture's and cmd/relpack's tests. tv is its Tag under a local
// name, so the tables here stay short: {tag, type, value}.
type tv struct {
	Tag, Type uint32
	Value     any
}

func toTags(ts []tv) []rpmtest.Tag {
	out := make([]rpmtest.Tag, len(ts))
	for i, e := range ts {
		out[i] = rpmtest.Tag(e)
	}
	return out
}

func fromTags(ts []rpmtest.Tag) []tv {
	out := make([]tv, len(ts))
	for i, e := range ts {
		out[i] = tv(e)
	}
	return out
}

func synthRPM(major byte, sig, main []tv) []byte {
	return rpmtest.RPM(major, toTags(sig), toTags(main))
}
func baseTags(over ...tv) []tv { return fromTags(rpmtest.BaseTags(toTags(over)...)) }

var sigTags = fromTags(rpmtest.SigTags)

// writeSynth writes a synthetic rpm into dir and returns its path.
func writeSynth(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
