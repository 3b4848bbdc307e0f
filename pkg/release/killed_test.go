package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// TestKilledPublishIsRolledBack kills a real `relpack build` (SIGKILL) in
// the middle of its publish, the swap of outdir.go (the old release's
// files move aside into the staging folder, SHA256SUMS first; the new
// ones move in, SHA256SUMS last; renaming the journal commits), and reruns
// it as a user would. strace stops the build at an exact system call with
// no hook in relpack: `-e inject=SET:signal=KILL` sends the signal on
// entering the call, and the kernel then skips the call.
//
// The kill points come from a trace of an uninterrupted run of the same
// build, whose output is the reference: each rename that moves a file into
// or out of --out, then just after the last of them (the commit not yet
// made), then just after the commit. A rename is chosen by its path (-P
// PATH, the first rename naming it), not by its rank: strace counts
// `when=N` per thread, and Go moves a goroutine between threads, so "the
// Nth rename of the process" is not something strace can pick. The second
// rename naming a file (manifest.json and SHA256SUMS go aside and later
// come in under the same name) cannot be chosen that way; the build into
// an empty folder reaches those moves in as first ones.
//
// After each kill --out is never a mix a user could take for a release:
// every file in it is the old or the new release's, byte for byte, and
// when SHA256SUMS is there the files are exactly one whole release. The
// next build (the same command; first without --clean, which must find the
// old release restored, then with --clean where it is needed) ends with
// --out byte-identical to the uninterrupted build's, no staging folder
// left, and nothing beside --out or in TMPDIR changed.
func TestKilledPublishIsRolledBack(t *testing.T) {
	cli(t)
	strace := testdeps.Tool(t, "strace")
	testdeps.Tools(t, "cp", "sha256sum")
	start := time.Now()
	dir, err := filepath.EvalSymlinks(t.TempDir()) // strace -P compares path strings
	if err != nil {
		t.Fatal(err)
	}
	cfg := killConfig(t, dir)
	oldRel := filepath.Join(dir, "old-release")
	if o, e, err := run("", nil, clitestBin, "build", "-c", cfg, "--version", "1.0.0", "--out", oldRel); err != nil {
		t.Fatalf("old release: %v\n%s%s", err, o, e)
	}
	// Each point is killed at once: the build into an empty folder adds
	// the moves in that the build over the old release cannot choose.
	covered := map[string]bool{}
	for _, sc := range []struct {
		name string
		over bool // over the old release (with --clean), or into an empty folder
	}{{"over-an-old-release", true}, {"into-an-empty-folder", false}} {
		t.Run(sc.name, func(t *testing.T) {
			k := newKillRun(t, strace, cfg, filepath.Join(dir, sc.name))
			if sc.over {
				k.old = oldRel
			}
			for _, p := range k.trace(t) {
				if covered[p.what] {
					continue
				}
				covered[p.what] = true
				t.Run(p.name, func(t *testing.T) { k.killAndRerun(t, p) })
			}
		})
	}
	points := len(covered)
	t.Logf("%d kill points in %v", points, time.Since(start).Round(time.Millisecond))
}

// killConfig writes a one-input, one-target configuration: a small
// release (a tarball, a deb, manifest.json, SHA256SUMS) builds fast.
func killConfig(t *testing.T, dir string) string {
	t.Helper()
	fixtures, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "packaging.yaml")
	text := strings.ReplaceAll(`name: openshell-gateway
summary: OpenShell gateway server
description: |
  A release whose publish is killed.
maintainer: OpenShell maintainers <maintainers@openshell.dev>
homepage: https://openshell.dev
license: Apache-2.0
license_file: FIXTURES/demo/LICENSE
copyright: 2025 The OpenShell authors
floor:
  glibc: "2.28"
z3: unbundled
inputs:
  x86_64-unknown-linux-gnu: FIXTURES/demo/x86_64-unknown-linux-gnu/openshell-gateway
binary: /usr/bin/openshell-gateway
targets:
  - debian12
`, "FIXTURES", fixtures)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// killRun is one scenario: --out (empty, or a copy of the old release)
// inside a parent folder of its own, with a bystander file beside it.
type killRun struct {
	strace, cfg  string
	parent, out  string
	tmp          string // TMPDIR of every run
	old          string // the old release to copy into --out first; "" for an empty folder
	oldState     map[string]string
	newState     map[string]string // the uninterrupted build's --out
	parentBefore map[string]string
}

func newKillRun(t *testing.T, strace, cfg, parent string) *killRun {
	k := &killRun{strace: strace, cfg: cfg, parent: parent,
		out: filepath.Join(parent, "dist"), tmp: filepath.Join(parent, ".tmp")}
	for _, d := range []string{parent, k.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "bystander.txt"), []byte("not relpack's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// args is the command a user runs (and reruns): --clean over an old
// release, which it replaces.
func (k *killRun) args(clean bool) []string {
	a := []string{"build", "-c", k.cfg, "--version", "2.0.0", "--out", k.out}
	if clean {
		a = append(a, "--clean")
	}
	return a
}

// reset puts --out back to what the killed build starts from.
func (k *killRun) reset(t *testing.T) {
	t.Helper()
	if err := os.RemoveAll(k.out); err != nil {
		t.Fatal(err)
	}
	if k.old != "" {
		sh(t, "", "cp", "-a", k.old, k.out)
	}
	k.oldState = treeState(t, k.out)
	k.parentBefore = treeState(t, k.parent)
}

func (k *killRun) relpack(clean bool) (string, string, error) {
	return run("", []string{"TMPDIR=" + k.tmp}, clitestBin, k.args(clean)...)
}

// killPoint is one place the build is killed.
type killPoint struct {
	name   string
	what   string   // the point without its rank: "SHA256SUMS in"
	strace []string // strace options that choose the system call
	// afterRename: strace holds the build stopped after the rename into
	// this file of --out; the test kills it once the file holds the new
	// release's bytes.
	afterRename string
	committed   bool // the kill falls after the commit
}

var (
	straceCall   = regexp.MustCompile(`^\d+ +(rename|renameat|renameat2|fsync)\(`)
	straceString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

const renames = "rename,renameat,renameat2"

// trace runs the build once, uninterrupted, under strace; its --out is the
// reference every killed build's rerun must reach. It returns the kill
// points: each rename of the publish that can be chosen by path, just
// after the last rename, and just after the commit.
func (k *killRun) trace(t *testing.T) []killPoint {
	k.reset(t)
	log := filepath.Join(t.TempDir(), "trace.log")
	if o, e, err := run("", []string{"TMPDIR=" + k.tmp}, k.strace, append([]string{"-f", "-qq", "-y", "-o", log,
		"-e", "trace=" + renames + ",fsync", clitestBin}, k.args(k.old != "")...)...); err != nil {
		t.Fatalf("uninterrupted build: %v\n%s%s", err, o, e)
	}
	k.newState = treeState(t, k.out)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	type move struct {
		path string // the file in --out
		in   bool   // moved in (else aside)
	}
	var moves []move
	fsyncs, after := 0, 0 // of --out: in all, after the last move
	for _, line := range strings.Split(string(data), "\n") {
		m := straceCall.FindStringSubmatch(line)
		switch {
		case m == nil:
		case m[1] == "fsync":
			if strings.Contains(line, "<"+k.out+">") {
				fsyncs++
				after++
			}
		default:
			for i, s := range straceString.FindAllStringSubmatch(line, 2) {
				if filepath.Dir(s[1]) == k.out && !strings.HasPrefix(filepath.Base(s[1]), ".") {
					moves = append(moves, move{s[1], i == 1})
					after = 0
				}
			}
		}
	}
	// The order outdir.go promises: SHA256SUMS leaves first and comes
	// last; the directory is synced once, after the commit.
	if len(moves) < 4 || !moves[len(moves)-1].in || filepath.Base(moves[len(moves)-1].path) != "SHA256SUMS" {
		t.Fatalf("the traced publish does not end with SHA256SUMS moving in: %v", moves)
	}
	if k.old != "" && (moves[0].in || filepath.Base(moves[0].path) != "SHA256SUMS") {
		t.Fatalf("the traced publish does not start with the old SHA256SUMS moving aside: %v", moves)
	}
	if fsyncs != 1 || after != 1 {
		t.Fatalf("want one fsync of %s, after the last rename of the publish; traced %d, %d after", k.out, fsyncs, after)
	}
	var points []killPoint
	seen := map[string]bool{}
	for i, m := range moves {
		if seen[m.path] {
			t.Logf("rename %d of %d (%s in) is the second naming that file: strace cannot choose it", i+1, len(moves), filepath.Base(m.path))
			continue
		}
		seen[m.path] = true
		way := "aside"
		if m.in {
			way = "in"
		}
		points = append(points, killPoint{
			name:   fmt.Sprintf("rename %d of %d: %s %s", i+1, len(moves), filepath.Base(m.path), way),
			what:   filepath.Base(m.path) + " " + way,
			strace: []string{"-P", m.path, "-e", "trace=" + renames, "-e", "inject=" + renames + ":signal=KILL:when=1"},
		})
	}
	last := moves[len(moves)-1].path
	points = append(points,
		killPoint{name: "after the last rename, before the commit", what: "after the last rename", afterRename: last,
			// Every rename naming SHA256SUMS stops 2 s on its way out
			// (the test kills the build in that window).
			strace: []string{"-P", last, "-e", "trace=" + renames, "-e", "inject=" + renames + ":delay_exit=2000000"}},
		killPoint{name: "after the commit", what: "after the commit", committed: true,
			strace: []string{"-P", k.out, "-e", "trace=fsync", "-e", "inject=fsync:signal=KILL:when=1"}})
	return points
}

// killAndRerun kills the build at p, checks what --out shows, reruns the
// build and checks that it ends as the uninterrupted one.
func (k *killRun) killAndRerun(t *testing.T, p killPoint) {
	k.reset(t)
	stderr := k.kill(t, p)
	killed := treeState(t, k.out)
	k.notAMix(t, killed)
	journal := false
	for n := range killed {
		if strings.HasPrefix(n, ".relpack-staging-") {
			_, err := os.Stat(filepath.Join(k.out, strings.TrimSuffix(n, "/"), journalName))
			journal = journal || err == nil
		}
	}
	if journal == p.committed {
		t.Fatalf("killed build: publish journal left %v, want %v (was it killed where meant?)\n%s", journal, !p.committed, stderr)
	}

	// The user reruns the build. Without --clean it must refuse while a
	// release is there (the restored old one, or the committed new one),
	// and say when it rolled a publish back.
	held := k.oldState
	if p.committed {
		held = k.newState
	}
	_, e, err := k.relpack(false)
	restored := strings.Contains(e, "was killed while publishing; its old release was restored")
	if restored != journal {
		t.Errorf("rerun: warning of a restored release %v, want %v:\n%s", restored, journal, e)
	}
	if len(held) > 0 {
		if err == nil || !strings.Contains(e, "holds artifacts of an earlier build") {
			t.Fatalf("rerun without --clean: %v\n%s", err, e)
		}
		sameState(t, "after the rerun without --clean", treeState(t, k.out), held)
		sh(t, k.out, "sha256sum", "--strict", "--quiet", "-c", "SHA256SUMS")
		if _, e, err = k.relpack(true); err != nil {
			t.Fatalf("rerun with --clean: %v\n%s", err, e)
		}
	} else if err != nil {
		t.Fatalf("rerun: %v\n%s", err, e)
	}
	sameState(t, "after the rerun, against the uninterrupted build", treeState(t, k.out), k.newState)
	after := treeState(t, k.parent)
	delete(after, "dist/")
	delete(k.parentBefore, "dist/")
	sameState(t, "beside --out", after, k.parentBefore)
	if left, _ := os.ReadDir(k.tmp); len(left) > 0 {
		t.Errorf("TMPDIR holds %s", left[0].Name())
	}
}

// kill runs the build under strace until the kill point and returns its
// stderr. The build must die of SIGKILL.
func (k *killRun) kill(t *testing.T, p killPoint) string {
	args := append(append([]string{"-f", "-qq", "-o", "/dev/null"}, p.strace...), clitestBin)
	cmd := exec.Command(k.strace, append(args, k.args(k.old != "")...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+k.tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if p.afterRename == "" {
		err = <-done
	} else {
		err = k.killAfterRename(cmd.Process.Pid, p.afterRename, done)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the build was not killed at %s: %v\n%s", p.name, err, stderr.String())
	}
	return stderr.String()
}

// killAfterRename waits until file holds the new release's bytes, which
// it does while strace holds the build in the delay after renaming it in,
// and kills the build there.
func (k *killRun) killAfterRename(stracePid int, file string, done chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("the build ended before %s came in: %v", filepath.Base(file), err)
		default:
		}
		if got, err := os.ReadFile(file); err == nil && sha256Hex(got) == k.newState[filepath.Base(file)] {
			kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", stracePid, stracePid))
			pid, cerr := strconv.Atoi(strings.TrimSpace(string(kids)))
			if err != nil || cerr != nil {
				return fmt.Errorf("finding the build under strace %d: %v %v", stracePid, err, cerr)
			}
			syscall.Kill(pid, syscall.SIGKILL)
			return <-done
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("timed out")
}

// notAMix checks what a killed build left in --out against both
// releases: each file is one of theirs, whole, and SHA256SUMS is only ever
// beside exactly the release it lists.
func (k *killRun) notAMix(t *testing.T, killed map[string]string) {
	visible := map[string]string{}
	for n, s := range killed {
		if !strings.HasPrefix(n, ".") {
			visible[n] = s
		}
	}
	for n, s := range visible {
		if s != k.oldState[n] && s != k.newState[n] {
			t.Errorf("killed build left %s, a file of neither release", n)
		}
	}
	if _, ok := visible["SHA256SUMS"]; !ok {
		return
	}
	if !maps.Equal(visible, k.oldState) && !maps.Equal(visible, k.newState) {
		t.Errorf("killed build left SHA256SUMS beside a mix of releases: %v", slices.Sorted(maps.Keys(visible)))
	}
	sh(t, k.out, "sha256sum", "--strict", "--quiet", "-c", "SHA256SUMS")
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
