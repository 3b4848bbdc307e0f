package releaseverify

import (
	"fmt"
	"slices"

	"relpack/pkg/manifest"
)

// checkDebugLinks holds the debug artifacts (docs/debug-symbols.md) to
// the artifacts they carry the symbols of: a debug artifact's debug_for
// names an artifact of the release, of its format (a ddeb's a deb, a
// debuginfo rpm's an rpm, a debug tarball's a tarball), the same target
// and arch, with the same build_id, whose debug names it back; the debug
// file is the build-id path of that build-id. A partial release may plan
// the other artifact instead of holding it (relpack merge joins them and
// holds the merged release to the same). Problems go to the report.
func (v *verifier) checkDebugLinks() {
	byFile := map[string]*manifest.Artifact{}
	for i := range v.m.Artifacts {
		byFile[v.m.Artifacts[i].File] = &v.m.Artifacts[i]
	}
	planned := func(f string) bool {
		return v.m.Partial && slices.ContainsFunc(v.m.Planned, func(p manifest.Planned) bool { return p.File == f })
	}
	for i := range v.m.Artifacts {
		a := &v.m.Artifacts[i]
		if !manifest.IsDebug(a.Kind) {
			if d := a.Debug; d != "" && byFile[d] == nil && !planned(d) {
				v.fail(a.File, "manifest.json says its debug symbols are in %s, which the release does not hold", d)
			}
			continue
		}
		if msg := debugLinkProblem(a, byFile[a.DebugFor]); msg != "" {
			if byFile[a.DebugFor] == nil && planned(a.DebugFor) {
				continue
			}
			v.fail(a.File, "%s", msg)
		}
	}
}

// debugLinkProblem says what is wrong between debug artifact d and the
// artifact of its debug_for (nil when the release holds none); "" when
// nothing is.
func debugLinkProblem(d, of *manifest.Artifact) string {
	if want := BuildIDPath(d.BuildID); d.DebugFile != want && d.DebugFile != "/usr/lib/debug/"+want {
		return fmt.Sprintf("manifest.json puts its debug file at %s, not at the path of its build-id %s (%s)", d.DebugFile, d.BuildID, want)
	}
	switch {
	case of == nil:
		return fmt.Sprintf("manifest.json says it holds the debug symbols of %s, which the release does not hold: debug symbols ship beside their binary", d.DebugFor)
	case of.Kind != manifest.Format(d.Kind):
		return fmt.Sprintf("manifest.json says it holds the debug symbols of %s, a %s; a %s holds a %s's", of.File, of.Kind, d.Kind, manifest.Format(d.Kind))
	case of.Distro != d.Distro || of.Arch != d.Arch || of.Triple != d.Triple:
		return fmt.Sprintf("is for %s %s %s, but %s, whose symbols it holds, is for %s %s %s", d.Distro, d.Arch, d.Triple, of.File, of.Distro, of.Arch, of.Triple)
	case of.BuildID != d.BuildID:
		return fmt.Sprintf("has build-id %s, but %s, whose symbols it holds, has build-id %s: a debugger would not match them", d.BuildID, of.File, of.BuildID)
	case of.Debug != d.File:
		return fmt.Sprintf("holds the debug symbols of %s, but manifest.json's record of %s names %q as its debug artifact", of.File, of.File, of.Debug)
	}
	return ""
}

// BuildIDPath is where a build-id tree holds the debug file of build-id
// id: .build-id/xx/rest.debug (xx its first byte in hex), the path gdb,
// eu-unstrip and debuginfod look under a debug-file-directory.
func BuildIDPath(id string) string {
	if len(id) < 4 {
		return ""
	}
	return ".build-id/" + id[:2] + "/" + id[2:] + ".debug"
}
