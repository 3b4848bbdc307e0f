package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
	"relpack/pkg/provenance"
)

// stampedRelpack builds relpack as a release job would, with its version
// and commit stamped at link time (-X main.version, -X main.commit); an
// empty version stamps nothing and records no VCS information either.
func stampedRelpack(t *testing.T, version, commit string) string {
	t.Helper()
	testdeps.Tools(t, "go")
	bin := filepath.Join(t.TempDir(), "relpack")
	args := []string{"build", "-buildvcs=false", "-o", bin}
	if version != "" {
		args = append(args, "-ldflags", "-X main.version="+version+" -X main.commit="+commit)
	}
	if out, err := exec.Command("go", append(args, "relpack/cmd/relpack")...).CombinedOutput(); err != nil {
		t.Fatalf("go build relpack: %v\n%s", err, out)
	}
	return bin
}

// runRelpack runs bin (a stampedRelpack) with args.
func runRelpack(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// versionJSON runs `relpack version --json` and reads its one object,
// refusing any field the manifest's tool record does not have.
func versionJSON(t *testing.T, bin string) manifest.Tool {
	t.Helper()
	out, stderr, code := runRelpack(t, bin, "version", "--json")
	if code != 0 || !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("relpack version --json: exit %d, want one line of JSON\n%s%s", code, out, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var got manifest.Tool
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("relpack version --json: %v\n%s", err, out)
	}
	return got
}

// Issue 23: relpack version keeps its one line; --json prints the
// version, the commit and the Go version, stamped at link time when the
// build stamps them, and says when the build recorded no commit.
func TestVersionJSON(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	stamped := stampedRelpack(t, "v9.0.1", rev)
	if out, _, code := runRelpack(t, stamped, "version"); code != 0 || out != "relpack v9.0.1\n" {
		t.Errorf("relpack version: exit %d, %q; want the one line %q", code, out, "relpack v9.0.1\n")
	}
	if got, want := versionJSON(t, stamped), (manifest.Tool{Name: "relpack", Version: "v9.0.1", Commit: rev, Go: runtime.Version()}); got != want {
		t.Errorf("relpack version --json = %+v, want %+v", got, want)
	}
	if out, _, _ := runRelpack(t, stamped, "version", "--json"); !strings.Contains(out, `"commit":"`+rev+`"`) || !strings.Contains(out, `"go":"`+runtime.Version()+`"`) {
		t.Errorf("relpack version --json does not spell the fields as docs/inspect-json.md does:\n%s", out)
	}

	// Nothing stamped, no VCS information (-buildvcs=false): version dev,
	// no commit; the one line agrees with the JSON.
	plain := stampedRelpack(t, "", "")
	got := versionJSON(t, plain)
	if got != (manifest.Tool{Name: "relpack", Version: "dev", Go: runtime.Version()}) {
		t.Errorf("unstamped relpack version --json = %+v, want version dev and no commit", got)
	}
	if out, _, _ := runRelpack(t, plain, "version"); out != "relpack dev\n" || strings.Contains(mustRun(t, plain, "version", "--json"), "commit") {
		t.Errorf("unstamped relpack version: %q", out)
	}

	// The test's own relpack (go build in the checkout) reads the commit
	// go build recorded; whatever it is, it is one a manifest accepts.
	out, _, code := cli(t, "version", "--json")
	var own manifest.Tool
	if code != 0 || json.Unmarshal([]byte(out), &own) != nil {
		t.Fatalf("relpack version --json: exit %d\n%s", code, out)
	}
	if err := (&manifest.Manifest{Tool: &own}).Validate(); err != nil && strings.Contains(err.Error(), "tool.") {
		t.Errorf("the manifest refuses relpack's own record %+v: %v", own, err)
	}
	if _, stderr, code := cli(t, "version", "--json", "extra"); code == 0 || !strings.Contains(stderr, "unknown command") && !strings.Contains(stderr, "accepts 0 arg") {
		t.Errorf("relpack version --json extra: exit %d\n%s", code, stderr)
	}
}

func mustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, stderr, code := runRelpack(t, bin, args...)
	if code != 0 {
		t.Fatalf("%s %v: exit %d\n%s", bin, args, code, stderr)
	}
	return out
}

// Issue 23: every manifest and provenance statement records the relpack
// that made it, and merge refuses partials made by different relpacks
// (their config_digest differs as well), naming both relpacks, version
// and commit, and saying what to do. Partials of one relpack merge, and
// the merged release records it.
func TestMergeDifferentRelpacks(t *testing.T) {
	const revA, revB = "aaaaaaa0123456789abcdef0123456789abcdef0", "bbbbbbb0123456789abcdef0123456789abcdef0"
	relA := stampedRelpack(t, "v9.0.1", revA)
	relB := stampedRelpack(t, "v9.0.2", revB)
	relA2 := stampedRelpack(t, "v9.0.1", revB) // the same version from another commit
	partial := func(bin, only string) string {
		dir := filepath.Join(t.TempDir(), only)
		if _, stderr, code := runRelpack(t, bin, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0", "--only", only, "--out", dir); code != 0 {
			t.Fatalf("%s build --only %s: exit %d\n%s", bin, only, code, stderr)
		}
		return dir
	}
	xA, aA, aB, aA2 := partial(relA, "x86_64"), partial(relA, "aarch64"), partial(relB, "aarch64"), partial(relA2, "aarch64")

	// The records: manifest.json's tool and the statement's builder.version.
	toolA := manifest.Tool{Name: "relpack", Version: "v9.0.1", Commit: revA, Go: runtime.Version()}
	m, err := manifest.ReadValid(filepath.Join(xA, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Tool == nil || *m.Tool != toolA {
		t.Errorf("manifest.json tool = %+v, want %+v", m.Tool, toolA)
	}
	b, err := os.ReadFile(filepath.Join(xA, provenance.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Release; r.Tool != "relpack v9.0.1" || r.ToolCommit != revA || r.ToolGo != runtime.Version() {
		t.Errorf("provenance builder.version: relpack %q, commit %q, go %q", r.Tool, r.ToolCommit, r.ToolGo)
	}

	for _, c := range []struct {
		name  string
		other string
		want  []string
	}{
		{"another version", aB, []string{
			"relpack v9.0.1 (commit " + revA + ", " + runtime.Version() + ")",
			"relpack v9.0.2 (commit " + revB + ", " + runtime.Version() + ")"}},
		{"the same version from another commit", aA2, []string{
			"relpack v9.0.1 (commit " + revA + ", " + runtime.Version() + ")",
			"relpack v9.0.1 (commit " + revB + ", " + runtime.Version() + ")"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			before, px, po := stateOfTree(t, parent), stateOfTree(t, xA), stateOfTree(t, c.other)
			_, stderr, code := cli(t, "merge", "--out", filepath.Join(parent, "dist"), xA, c.other)
			want := append([]string{
				xA + " and " + c.other + " were made by different relpacks: " + xA + " by ",
				"their config_digest differs for that reason too",
				"run the same pinned relpack (one version, built from one commit with one Go) in every job",
			}, c.want...)
			if code != 1 {
				t.Errorf("merge of partials by different relpacks: exit %d, want 1\n%s", code, stderr)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("merge does not say %q:\n%s", w, stderr)
				}
			}
			sameTree(t, "--out's parent", parent, before)
			sameTree(t, "the partial "+xA, xA, px)
			sameTree(t, "the partial "+c.other, c.other, po)
		})
	}

	// One relpack's partials merge, and the merged release records it.
	out := filepath.Join(t.TempDir(), "dist")
	if _, stderr, code := cli(t, "merge", "--out", out, xA, aA); code != 0 {
		t.Fatalf("merge of one relpack's partials: exit %d\n%s", code, stderr)
	}
	if m, err := manifest.ReadValid(filepath.Join(out, "manifest.json")); err != nil {
		t.Error(err)
	} else if m.Tool == nil || *m.Tool != toolA {
		t.Errorf("merged manifest.json tool = %+v, want %+v", m.Tool, toolA)
	}
	if st, err := provenance.Read(mustRead(t, filepath.Join(out, provenance.FileName))); err != nil || st.Release.ToolCommit != revA || st.Release.ToolGo != runtime.Version() {
		t.Errorf("merged provenance statement: %v %+v", err, st)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A relpack stamped with a version or commit no manifest reader accepts
// refuses to build (before it writes anything) instead of writing a
// release every reader refuses; the message names the field.
func TestBadStampRefused(t *testing.T) {
	bad := stampedRelpack(t, "v1;id", "not-hex")
	parent := t.TempDir()
	before := stateOfTree(t, parent)
	_, stderr, code := runRelpack(t, bad, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0", "--out", filepath.Join(parent, "dist"))
	for _, w := range []string{"this relpack's own identity (relpack version --json) cannot be recorded", `tool.version "v1;id"`, `tool.commit "not-hex"`, "build relpack again"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("build by a badly stamped relpack does not say %q (exit %d):\n%s", w, code, stderr)
		}
	}
	if code == 0 {
		t.Errorf("build by a badly stamped relpack: exit 0")
	}
	sameTree(t, "--out's parent", parent, before)
}
